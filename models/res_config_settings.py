# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models

from .website_login_settings import DEFAULTS, parameter_key, website_setting


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    website_temp_password_hours = fields.Integer(
        string="Temporary password validity (hours)",
        config_parameter=parameter_key("temp_password_hours"),
        default=DEFAULTS["temp_password_hours"],
    )
    website_credential_mode = fields.Selection(
        [
            ("password", "A temporary password"),
            ("link", "A one-time link to choose a password"),
        ],
        string="Send in mails",
        config_parameter=parameter_key("credential_mode"),
        default=DEFAULTS["credential_mode"],
        required=True,
    )
    website_send_without_review = fields.Boolean(
        string="Send password mails without review",
        config_parameter=parameter_key("send_without_review"),
    )
    website_key_user_approval = fields.Boolean(
        string="Approve colleagues added by customers' Website Administrators",
        config_parameter=parameter_key("key_user_approval"),
    )
    website_key_user_daily_limit = fields.Integer(
        string="Colleagues a day",
        config_parameter=parameter_key("key_user_daily_limit"),
        default=DEFAULTS["key_user_daily_limit"],
    )
    website_invite_batch_size = fields.Integer(
        string="Bulk invite batch size",
        config_parameter=parameter_key("invite_batch_size"),
        default=DEFAULTS["invite_batch_size"],
        help="Contacts invited and mailed together, between two commits.",
    )
    website_invite_step_seconds = fields.Float(
        string="Bulk invite step (seconds)",
        config_parameter=parameter_key("invite_step_seconds"),
        default=DEFAULTS["invite_step_seconds"],
        help="A step of the bulk invite takes no new contacts after this long; "
        "Odoo runs up to 10 steps in one pass of its scheduler, which must stay far "
        "below the cron time limit (120 s by default).",
    )
    website_invite_attempts = fields.Integer(
        string="Invites per contact",
        config_parameter=parameter_key("invite_attempts"),
        default=DEFAULTS["invite_attempts"],
        help="How many bulk invites a contact gets while it does not answer; then "
        "it shows 'Invites unanswered' and only a manager's Random Password Mail "
        "invites it again.",
    )
    website_retry_limit_hours = fields.Integer(
        string="Retry refused mails for (hours)",
        config_parameter=parameter_key("retry_limit_hours"),
        default=DEFAULTS["retry_limit_hours"],
        help="A mail the server asks to try again later (a 4xx answer, greylisting, "
        "a lost connection) is tried again after 1, 5, 15, 60 minutes and so on, "
        "for this long; then it is recorded as failed.",
    )
    website_fallback_rate_per_minute = fields.Integer(
        string="Messages per minute (server of the configuration file)",
        config_parameter=parameter_key("fallback_rate_per_minute"),
        help="When no outgoing mail server is set up, Odoo sends through the server "
        "of its configuration file: the most mails it takes a minute (0: no limit).",
    )
    website_fallback_quota_per_day = fields.Integer(
        string="Messages per day (server of the configuration file)",
        config_parameter=parameter_key("fallback_quota_per_day"),
        help="The most mails that server takes in any 24 hours (0: no limit).",
    )
    # not config_parameter=: Odoo deletes the parameter of a Boolean set to False,
    # so a setting that defaults to True could never be switched off
    website_login_by_reference = fields.Boolean(
        string="Log in with the contact's Reference",
        help="Contacts may log in with their Reference (the contact number), "
        "besides their username and email.",
    )
    website_invite_activities = fields.Boolean(  # not config_parameter=: as above
        string="Activities for bounced and unanswered invites",
        help="When a contact's invite bounces, or its last invite expires "
        "unanswered, a To-Do activity goes to its salesperson (or to whoever "
        "started the run).",
    )
    website_lockout_failures = fields.Integer(
        string="Failed logins before a lockout",
        config_parameter=parameter_key("lockout_failures"),
        default=DEFAULTS["lockout_failures"],
    )
    website_lockout_hard_failures = fields.Integer(
        string="Failed logins before a lockout until reset",
        config_parameter=parameter_key("lockout_hard_failures"),
        default=DEFAULTS["lockout_hard_failures"],
        help="After this many failures in a row, the account stays locked until its "
        "owner resets the password or a manager unlocks it (at most 100).",
    )
    website_ip_cooldown_failures = fields.Integer(
        string="Failed logins from one address before a pause",
        config_parameter=parameter_key("ip_cooldown_failures"),
        default=DEFAULTS["ip_cooldown_failures"],
        help="Odoo's own brake: after this many failed logins from one IP address, "
        "every login from there waits a minute (Odoo's base.login_cooldown_duration). "
        "Replaces Odoo's base.login_cooldown_after.",
    )
    website_invite_eligible_count = fields.Integer(
        string="Contacts eligible for the bulk invite",
        compute="_compute_website_invite_eligible_count",
    )

    @api.model
    def get_values(self):
        values = super().get_values()
        for name in ("login_by_reference", "invite_activities"):
            values[f"website_{name}"] = website_setting(self.env, name)
        return values

    def set_values(self):
        result = super().set_values()
        for name in ("login_by_reference", "invite_activities"):
            self.env["ir.config_parameter"].sudo().set_param(
                parameter_key(name), str(bool(self[f"website_{name}"]))
            )
        return result

    @api.depends("company_id")
    def _compute_website_invite_eligible_count(self):
        count = self.env["res.partner"].search_count(
            self.env["partner.login.eligibility"]._invite_domain()
        )
        for settings in self:
            settings.website_invite_eligible_count = count

    def action_send_bulk_website_invite(self):
        return self.env["partner.invite.run"].action_start()
