# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from markupsafe import escape

from odoo import api, fields, models
from odoo.tools import SQL, create_index

from .website_login_settings import website_setting

OUTCOMES = [
    ("sending", "Sending"),
    ("waiting", "Waiting"),  # for the server's pace, or after a refusal (reason)
    ("invited", "Invited"),
    ("bounced", "Bounced"),
    ("skipped", "Skipped"),
    ("failed", "Failed"),
]
# How far a delivered invite got (partner_invite_analysis.py decides it): a bounce
# ends it, a password of one's own answers it, a lapse leaves it unanswered, a login
# with what the mail carried is on the way.
STAGES = [
    ("sent", "Sent"),
    ("logged_in", "Logged in"),
    ("active", "Own password set"),
    ("expired", "Expired unanswered"),
    ("bounced", "Bounced"),
]


class PartnerInviteRunLine(models.Model):
    """One mail of a run to one contact, and what came of it: sent (accepted by the
    mail server, with its Message-Id), waiting to be tried again (and when),
    bounced, skipped (and why) or failed (and the error). Written in batches by the
    invite protocol (partner_login_delivery.py)."""

    _name = "partner.invite.run.line"
    _description = "Contact of a website invite run"
    _order = "run_id desc, id"
    _rec_name = "partner_id"

    run_id = fields.Many2one(
        "partner.invite.run", required=True, ondelete="cascade", index=True
    )
    partner_id = fields.Many2one(
        "res.partner", string="Contact", ondelete="cascade", index=True
    )
    outcome = fields.Selection(OUTCOMES, required=True, index=True)
    # the eligibility rule that skipped the contact (partner_login_eligibility.py)
    rule = fields.Selection(
        selection="_selection_rule", string="Left out by", readonly=True
    )
    reason = fields.Char(help="Why the contact was skipped, or the mail's error.")
    mail_server_id = fields.Many2one(
        "ir.mail_server", readonly=True, ondelete="set null"
    )
    message_id = fields.Char(string="Message-Id", readonly=True, index="btree_not_null")
    accepted_at = fields.Datetime(
        string="Accepted", readonly=True, index="btree_not_null"
    )
    attempt_count = fields.Integer(string="Tries", readonly=True)
    first_attempt_at = fields.Datetime(string="First Try", readonly=True)
    next_attempt_at = fields.Datetime(
        string="Next Try", readonly=True, index="btree_not_null"
    )
    # the invite's stages, each stamped once by its owner: the first login by
    # res_users.py (Odoo's login), the others by partner_login_access.py
    first_login_at = fields.Datetime(string="First Login", readonly=True)
    password_set_at = fields.Datetime(string="Own Password Set", readonly=True)
    expired_at = fields.Datetime(string="Expired Unanswered", readonly=True)
    stage = fields.Selection(STAGES, compute="_compute_stage")

    def init(self):
        result = super().init()
        # the latest delivered invite of a contact, looked up at each login, lapse
        # and bounce, and on the contact's form
        create_index(
            self.env.cr,
            "partner_invite_run_line_partner_latest_idx",
            self._table,
            ["partner_id", "accepted_at DESC", "id DESC"],
            where="accepted_at IS NOT NULL",
        )
        return result

    @api.depends(
        "outcome", "accepted_at", "first_login_at", "password_set_at", "expired_at"
    )
    def _compute_stage(self):
        """As the invite analysis defines the stages (one row per delivered line,
        with the line's id)."""
        analysis = self.env["partner.invite.analysis"].sudo()  # these lines' own rows
        stage_by_id = {
            row.id: row.stage for row in analysis.browse(self._origin.ids).exists()
        }
        for line in self:
            line.stage = stage_by_id.get(line._origin.id, False)

    @api.model
    def _stamp_latest(self, partners, column, moment=None):
        """Stamp ``column`` (a stage's date) on the latest delivered invite of each
        of ``partners`` where that invite is still open: not bounced, not lapsed,
        the stage not stamped yet, and (but for the first login, which follows the
        password in link mode) no password of one's own yet. One UPDATE.

        :returns: the ids of the lines stamped
        """
        if not partners:
            return []
        moment = moment or fields.Datetime.now()
        self.flush_model()
        if column == "first_login_at":  # a login after the mail went out
            condition = SQL("line.accepted_at <= %s", moment)
        else:
            condition = SQL("line.password_set_at IS NULL")
        self.env.cr.execute(
            SQL(
                """UPDATE partner_invite_run_line line SET %(column)s = %(moment)s
                    WHERE line.id IN (
                          SELECT DISTINCT ON (partner_id) id
                            FROM partner_invite_run_line
                           WHERE partner_id IN %(ids)s AND accepted_at IS NOT NULL
                           ORDER BY partner_id, accepted_at DESC, id DESC)
                      AND line.outcome = 'invited' AND line.expired_at IS NULL
                      AND line.%(column)s IS NULL AND %(condition)s
                RETURNING line.id""",
                column=SQL.identifier(column),
                moment=moment,
                ids=tuple(partners.ids),
                condition=condition,
            )
        )
        stamped = [row[0] for row in self.env.cr.fetchall()]
        self.invalidate_model([column])
        return stamped

    @api.model
    def _nudge(self, partners, event):
        """A To-Do activity on each contact for its salesperson, or else for the
        starter of the run of its latest invite: its invite ``event`` ("bounced"
        or "unanswered"). The callers call it once per contact and event (at the
        state's transition); created in one batch, unless the setting is off."""
        if not partners or not website_setting(self.env, "invite_activities"):
            return self.env["mail.activity"]
        self.env["res.partner"].flush_model(["user_id"])
        self.flush_model(["partner_id", "run_id", "accepted_at"])
        self.env.cr.execute(
            SQL(
                """SELECT DISTINCT ON (partner.id) partner.id,
                          COALESCE(partner.user_id, run.started_by_id)
                     FROM res_partner partner
                LEFT JOIN partner_invite_run_line line
                       ON line.partner_id = partner.id AND line.accepted_at IS NOT NULL
                LEFT JOIN partner_invite_run run ON run.id = line.run_id
                    WHERE partner.id IN %s
                 ORDER BY partner.id, line.accepted_at DESC NULLS LAST, line.id DESC""",
                tuple(partners.ids),
            )
        )
        assignee_by_partner = dict(self.env.cr.fetchall())
        # sudo: the gateway, the scheduler or a run creates them for somebody else
        users = self.env["res.users"].sudo().browse(set(assignee_by_partner.values()))
        todo = self.env.ref("mail.mail_activity_data_todo")
        model_id = self.env["ir.model"]._get_id("res.partner")
        values = []
        for partner in partners.sudo():
            user = users.browse(assignee_by_partner.get(partner.id))
            if not user:
                continue
            summary, note = self.with_context(lang=user.lang)._nudge_text(
                partner, event
            )
            values.append(
                {
                    "activity_type_id": todo.id,
                    "res_model_id": model_id,
                    "res_id": partner.id,
                    "user_id": user.id,
                    "summary": summary,
                    "note": note,
                    "date_deadline": fields.Date.context_today(self),
                }
            )
        # quick update: no mail per activity (a run may lapse thousands at once);
        # the activities show in the assignee's activity menu
        return (
            self.env["mail.activity"]
            .sudo()
            .with_context(mail_activity_quick_update=True)
            .create(values)
        )

    def _nudge_text(self, partner, event):
        """The activity's summary and note, in the context's language."""
        _ = self.env._
        name = partner.display_name
        if event == "bounced":
            return (
                _("Website invite bounced: %(contact)s", contact=name),
                escape(
                    _(
                        "The website invite mail to %(email)s bounced. Correct the "
                        "address, then send a Random Password Mail.",
                        email=partner.email or "-",
                    )
                ),
            )
        return (
            _("Website invites unanswered: %(contact)s", contact=name),
            escape(
                _(
                    "%(contact)s did not answer %(count)s website invites; the last "
                    "one expired. A call may help before a Random Password Mail.",
                    contact=name,
                    count=partner.website_invite_count,
                )
            ),
        )

    @api.model
    def _selection_rule(self):
        return self.env["partner.login.eligibility"]._rule_labels()
