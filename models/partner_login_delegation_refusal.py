# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A customer's key user's daily limit (partner_login_delegation.py): what it added
or invited in the last 24 hours, and the usernames and addresses refused to it."""

from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from .website_login_settings import website_setting


class CountedRefusal(UserError):
    """A refusal that would tell something about other companies' logins or
    addresses: it counts against the key user's daily limit, so that probing is
    as dear as adding."""

    def __init__(self, message, suggestion=""):
        super().__init__(message)
        self.suggestion = suggestion


class PartnerLoginDelegationRefusal(models.Model):
    _name = "partner.login.delegation.refusal"
    _description = "A key user's refused username or address, counted in its limit"
    _log_access = False

    key_user_id = fields.Many2one(
        "res.partner", required=True, index=True, ondelete="cascade"
    )
    refused_at = fields.Datetime(required=True, default=fields.Datetime.now)

    @api.model
    def _check_daily_limit(self, key_user, partners=None, new=0):
        """At most the setting's number of colleagues added or invited by one key
        user in 24 hours: each invite counts (a re-invite too), and so does each
        contact added without one (``partners`` about to be invited, ``new`` about
        to be added), and each username or address refused (CountedRefusal)."""
        self._serialize(key_user)
        since = fields.Datetime.now() - timedelta(hours=24)
        self.env["res.partner"].flush_model(["website_added_by_id"])
        self.env["partner.invite.run"].flush_model(["key_user_id"])
        self.env["partner.invite.run.line"].flush_model(["run_id", "partner_id"])
        self.env.cr.execute(
            SQL(
                """WITH invited AS (
                       SELECT line.partner_id
                         FROM partner_invite_run_line line
                         JOIN partner_invite_run run ON run.id = line.run_id
                        WHERE run.key_user_id = %(key)s AND run.create_date > %(since)s
                   )
                   SELECT 0, partner_id FROM invited
                   UNION ALL
                   SELECT 1, id FROM res_partner
                    WHERE website_added_by_id = %(key)s AND create_date > %(since)s
                      AND id NOT IN (SELECT partner_id FROM invited)
                   UNION ALL
                   SELECT 2, NULL FROM partner_login_delegation_refusal
                    WHERE key_user_id = %(key)s AND refused_at > %(since)s""",
                key=key_user.id,
                since=since,
            )
        )
        rows = self.env.cr.fetchall()
        added_uninvited = {partner_id for kind, partner_id in rows if kind == 1}
        used = len(rows)
        # inviting a colleague added without its invite turns one count into another
        asked = len(set(partners.ids if partners else ()) - added_uninvited)
        limit = website_setting(self.env, "key_user_daily_limit")
        if used + asked + new > limit:
            raise UserError(
                self.env._(
                    "You added or invited %(limit)s colleagues in the last 24 hours, "
                    "as many as you may: try again tomorrow, or ask us to help.",
                    limit=limit,
                )
            )

    @api.model
    def _serialize(self, key_user):
        """The key user's row is updated first: of two requests at once, the second
        fails to serialize and Odoo runs it again, seeing the first."""
        self.env.cr.execute(
            SQL(
                "UPDATE res_partner SET write_date = write_date WHERE id = %s",
                key_user.id,
            )
        )

    @api.model
    def _count(self, key_user):
        """One more refusal in the key user's limit (the caller commits it)."""
        self._serialize(key_user)
        # sudo: the count is the addon's record; the key user reads none of it
        self.sudo().create({"key_user_id": key_user.id})

    @api.autovacuum
    def _gc_counted(self):
        """Only the last 24 hours count."""
        self.search(
            [("refused_at", "<", fields.Datetime.now() - timedelta(days=1))]
        ).unlink()
