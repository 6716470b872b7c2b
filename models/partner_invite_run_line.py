# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.tools import SQL

OUTCOMES = [
    ("sending", "Sending"),
    ("waiting", "Waiting to retry"),
    ("invited", "Invited"),
    ("bounced", "Bounced"),
    ("skipped", "Skipped"),
    ("failed", "Failed"),
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

    @api.model
    def _selection_rule(self):
        return [
            (rule, message)
            for rule, message, _domain in self.env["partner.login.eligibility"]._rules(
                bulk=True
            )
        ]

    @api.model
    def _bounced(self, message_ids, email):
        """Odoo's mail gateway received a bounce of one of these mails: the line
        says so, the contact shows Bounced, its password or link stops working at
        once, and no run invites the address again until it changes.

        :param message_ids: the Message-Ids the bounce refers to
        :param email: the address that bounced (normalized), if the bounce says
        """
        lines = self.sudo().search(
            [("message_id", "in", list(message_ids or ())), ("outcome", "=", "invited")]
        )
        if not lines and email:
            # a bounce without the original's headers: the latest invite there
            self.env.cr.execute(
                SQL(
                    """SELECT DISTINCT ON (line.partner_id) line.id
                         FROM partner_invite_run_line line
                         JOIN res_partner p ON p.id = line.partner_id
                        WHERE p.email_normalized = %s AND line.outcome = 'invited'
                          AND p.website_access_state = 'invited'
                        ORDER BY line.partner_id, line.accepted_at DESC""",
                    email,
                )
            )
            lines = self.sudo().browse([row[0] for row in self.env.cr.fetchall()])
        if not lines:
            return lines
        lines.write(
            {
                "outcome": "bounced",
                "reason": self.env._("The mail bounced: %(email)s", email=email or "-"),
            }
        )
        partners = lines.partner_id.filtered(
            lambda partner: partner.website_access_state != "active"
        )
        self.env["partner.login.credential"]._revoke_for(partners)
        partners.website_user_id._end_website_sessions()
        self.env["partner.login.access"]._bounced(partners)
        return lines
