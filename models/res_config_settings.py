# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    website_temp_password_hours = fields.Integer(
        string="Temporary password validity (hours)",
        config_parameter="partner_website_login.temp_password_hours",
        default=48,
    )
    website_credential_mode = fields.Selection(
        [
            ("password", "A temporary password"),
            ("link", "A one-time link to choose a password"),
        ],
        string="Send in mails",
        config_parameter="partner_website_login.credential_mode",
        default="password",
        required=True,
    )
    website_send_without_review = fields.Boolean(
        string="Send password mails without review",
        config_parameter="partner_website_login.send_without_review",
    )
    website_invite_batch_size = fields.Integer(
        string="Bulk invite batch size",
        config_parameter="partner_website_login.invite_batch_size",
        default=100,
        help="Contacts invited and mailed together, between two commits.",
    )
    website_invite_step_seconds = fields.Float(
        string="Bulk invite step (seconds)",
        config_parameter="partner_website_login.invite_step_seconds",
        default=2.5,
        help="A step of the bulk invite takes no new contacts after this long; "
        "Odoo runs up to 10 steps in one pass of its scheduler, which must stay far "
        "below the cron time limit (120 s by default).",
    )
    website_invite_eligible_count = fields.Integer(
        string="Contacts eligible for the bulk invite",
        compute="_compute_website_invite_eligible_count",
    )

    @api.depends("company_id")
    def _compute_website_invite_eligible_count(self):
        count = self.env["res.partner"].search_count(
            self.env["res.partner"]._website_invite_domain()
        )
        for settings in self:
            settings.website_invite_eligible_count = count

    def action_send_bulk_website_invite(self):
        return self.env["website.invite.run"].action_start()
