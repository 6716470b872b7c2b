# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from werkzeug.urls import url_encode

from odoo import api, fields, models, tools
from odoo.exceptions import ValidationError

from .partner_invite_run_line import STAGES
from .partner_login_access import ACCESS_STATES
from .res_users_portal import SYNCING_PORTAL_ACCESS


class ResPartner(models.Model):
    _inherit = "res.partner"

    website_enabled = fields.Boolean(
        copy=False,
        groups="base.group_user",
        help="The contact is invited by the bulk website invite.",
    )
    username = fields.Char(
        copy=False,
        groups="base.group_user",
        help="Login for the portal, besides the email: 1 to 64 letters, digits, "
        "'.', '_' or '-', unique without regard to case.",
    )
    allow_login = fields.Boolean(
        copy=False,
        groups="base.group_user",
        help="When off, the contact's portal user cannot log in, even with the "
        "right password.",
    )
    website_admin = fields.Boolean(
        string="Website Administrator",
        copy=False,
        tracking=True,
        groups="base.group_user",
        help="The contact gives and takes back the website logins of its company's "
        "other contacts, from the portal (My Account > Colleagues).",
    )
    website_admin_ids = fields.Many2many(
        "res.partner",
        string="Logins Managed By",
        compute="_compute_website_admin_ids",
        groups="base.group_user",
        help="The company's Website Administrators: they invite and remove its "
        "contacts from the portal.",
    )
    website_added_by_id = fields.Many2one(
        "res.partner",
        string="Added By",
        readonly=True,
        copy=False,
        groups="base.group_user",
        help="The Website Administrator who added the contact from the portal.",
    )
    website_awaiting_approval = fields.Boolean(
        string="Awaits Approval",
        readonly=True,
        copy=False,
        index=True,
        groups="base.group_user",
        help="Added from the portal by the company's Website Administrator: no "
        "login mail goes to it until a Website Login manager approves it.",
    )
    website_email_valid = fields.Boolean(
        compute="_compute_website_email_valid",
        store=True,
        groups="base.group_user",
        help="The email holds exactly one well-formed address.",
    )
    website_access_state = fields.Selection(
        ACCESS_STATES,
        string="Website Access",
        default="none",
        required=True,
        readonly=True,
        copy=False,
        index=True,
        groups="base.group_user",
    )
    website_password_expires = fields.Datetime(
        string="Temporary Password Expires",
        readonly=True,
        copy=False,
        groups="base.group_user",
    )
    website_invite_count = fields.Integer(
        string="Unanswered Invites",
        readonly=True,
        copy=False,
        groups="base.group_user",
        help="Bulk invites sent since the contact last had access or a manager "
        "invited it by hand.",
    )
    website_email_held = fields.Boolean(
        string="New Email Awaits a Manager",
        readonly=True,
        copy=False,
        groups="base.group_user",
        help="Somebody who is not a Website Login manager changed the email: no "
        "login mail goes to the new address until a manager sends one.",
    )
    website_access_ended_by_manager = fields.Boolean(
        string="Login Ended by a Manager",
        readonly=True,
        copy=False,
        groups="base.group_user",
        help="A Website Login manager (or Odoo's portal wizard or user form) took "
        "the login away: the company's Website Administrator cannot give it back "
        "from the portal; a manager's Allow Login or password mail does.",
    )
    website_login_email = fields.Char(
        string="Login Email",
        readonly=True,
        copy=False,
        groups="base.group_user",
        help="The address the contact's latest login mail went to: the contact logs "
        "in with it even where another contact claims the same address.",
        index="btree_not_null",
    )
    website_user_id = fields.Many2one(
        "res.users",
        string="Portal User",
        compute="_compute_website_user",
        groups="base.group_user",
    )
    website_login_date = fields.Datetime(
        string="Last Login",
        compute="_compute_website_user",
        groups="base.group_user",
    )
    website_login_locked_until = fields.Datetime(
        string="Login Locked Until",
        compute="_compute_website_user",
        groups="base.group_user",
        help="Too many failed logins: every password is refused until then.",
    )

    # the contact's latest delivered invite, and how far it got
    website_invite_stage = fields.Selection(
        STAGES,
        string="Latest Invite",
        compute="_compute_website_latest_invite",
        groups="base.group_user",
    )
    website_invite_sent_at = fields.Datetime(
        string="Latest Invite Sent",
        compute="_compute_website_latest_invite",
        groups="base.group_user",
    )

    def init(self):
        result = super().init()
        # Case-insensitive uniqueness, archived contacts included; the Python check in
        # create/write names the conflict, this index settles concurrent writes.
        self.env.cr.execute(
            "CREATE UNIQUE INDEX IF NOT EXISTS res_partner_username_lower_uniq "
            "ON res_partner (lower(username)) WHERE username IS NOT NULL"
        )
        # logins by Reference match it without case and surrounding spaces
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS res_partner_ref_login_btree "
            "ON res_partner (lower(trim(ref))) WHERE ref IS NOT NULL"
        )
        # email_normalized has a trigram index only: logins match it by equality
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS res_partner_email_normalized_btree "
            "ON res_partner (email_normalized) WHERE email_normalized IS NOT NULL"
        )
        return result

    @api.depends("email")
    def _compute_website_email_valid(self):
        for partner in self:
            partner.website_email_valid = bool(
                tools.email_normalize(partner.email, strict=True)
            )

    @api.depends("user_ids")
    def _compute_website_user(self):
        users = (
            self.env["res.users"]
            .sudo()  # logins and dates of portal users, shown read-only on the form
            .with_context(active_test=False)
            .search([("partner_id", "in", self.ids), ("share", "=", True)])
        )
        user_by_partner = {}
        for user in users:
            user_by_partner.setdefault(user.partner_id.id, user)
        # sudo: shown read-only on the form; nobody reads the model itself
        lockout = self.env["res.users.login.lockout"].sudo()
        locked_until = lockout._locked_until_by_user(users.ids)
        for partner in self:
            user = user_by_partner.get(partner.id, self.env["res.users"])
            partner.website_user_id = user
            partner.website_login_date = user.login_date
            partner.website_login_locked_until = locked_until.get(user.id, False)

    @api.depends("commercial_partner_id")
    def _compute_website_admin_ids(self):
        # one search for all the companies shown (a form's unsaved contact counts
        # by its saved company); sudo: the names of the company's Website
        # Administrators, shown to whoever reads the contact
        admins = self.sudo().search(
            [
                ("website_admin", "=", True),
                ("commercial_partner_id", "in", self.commercial_partner_id._origin.ids),
            ]
        )
        for partner in self:
            company = partner.commercial_partner_id._origin
            partner.website_admin_ids = admins.filtered(
                lambda admin, company=company: (
                    company and admin.commercial_partner_id == company
                )
            ).with_env(self.env)

    @api.constrains("website_admin", "is_company", "parent_id")
    def _check_website_admin(self):
        for partner in self:
            if partner.website_admin and partner.commercial_partner_id == partner:
                raise ValidationError(
                    self.env._(
                        "%(contact)s cannot be a Website Administrator: only a "
                        "person of a company manages that company's logins.",
                        contact=partner.display_name,
                    )
                )

    def _compute_website_latest_invite(self):
        # one query for all the contacts shown; sudo: the lines' dates, read-only
        lines = self.env["partner.invite.run.line"].sudo()
        latest = {}
        saved_ids = tuple(self._origin.ids)  # a new contact has no invite
        if saved_ids:
            lines.flush_model()
            self.env.cr.execute(
                tools.SQL(
                    """SELECT DISTINCT ON (partner_id) partner_id, id
                         FROM partner_invite_run_line
                        WHERE partner_id IN %s AND accepted_at IS NOT NULL
                        ORDER BY partner_id, accepted_at DESC, id DESC""",
                    saved_ids,
                )
            )
            latest = dict(self.env.cr.fetchall())
        found = lines.browse(latest.values())
        for partner in self:
            line = found.browse(latest.get(partner._origin.id)).with_prefetch(found.ids)
            partner.website_invite_stage = line.stage
            partner.website_invite_sent_at = line.accepted_at

    @api.onchange("website_enabled")
    def _onchange_website_enabled(self):
        if self.website_enabled:
            self.allow_login = True

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            # joining the bulk invite's list lets the contact log in, unless the
            # same values say otherwise (as the form's onchange does)
            if vals.get("website_enabled") and "allow_login" not in vals:
                vals["allow_login"] = True
        rights = self.env["partner.login.field.rights"]
        rights._add_defaults(vals_list)
        rights._check(self, vals_list)
        self.env["partner.login.username"]._check_new(vals_list)
        return super().create(vals_list)

    def write(self, vals):
        usernames = self.env["partner.login.username"]
        usernames._normalize(vals)
        if {"website_enabled", "username"} & vals.keys():
            for partner in self:
                usernames._check_website_enabled(vals, partner.display_name, partner)
        joining = self.browse()
        if vals.get("website_enabled") and "allow_login" not in vals:
            joining = self.filtered(lambda partner: not partner.website_enabled)
        self.env["partner.login.field.rights"]._check(self, [vals])
        usernames._check_change(self, vals)
        old_emails = {}
        if "email" in vals:
            old_emails = {p.id: (p.email, p.email_normalized) for p in self}
        result = super().write(vals)
        if old_emails:
            self.env["partner.login.access"]._email_written(self, old_emails)
        if "allow_login" in vals and not vals["allow_login"]:
            # those a manager keeps out now: a company's Allow Login off keeps all
            # its contacts out, for good
            if companies := self.filtered("is_company"):
                contacts = self.sudo().search(  # checked above: a manager's decision
                    [
                        ("commercial_partner_id", "in", companies.ids),
                        ("id", "not in", self.ids),
                        ("allow_login", "=", True),
                    ]
                )
                contacts.write({"allow_login": False})
        if joining := joining.filtered(lambda partner: not partner.allow_login):
            joining.write({"allow_login": True})  # as on create
        if "allow_login" in vals and not self.env.context.get(SYNCING_PORTAL_ACCESS):
            self.env["res.users.portal"]._allow_login_changed(
                self, bool(vals["allow_login"])
            )
        if "active" in vals and not vals["active"]:
            self.env["res.users"]._end_website_sessions_of(self)
        if "username" in vals:
            usernames._login_follows(self)
        return result

    def _website_default_login(self):
        self.ensure_one()
        return (self.username or self.email_normalized or "").lower()

    def _website_expiry_text(self, expires_at):
        """When a mailed password or link stops working, as the login mails write
        it: in the contact's time zone, else its company's, else UTC, named."""
        self.ensure_one()
        if not expires_at:
            return ""
        company_tz = self._website_mail_company().partner_id.tz
        tz = self.tz or company_tz or "UTC"
        when = tools.format_datetime(
            self.env, expires_at, tz=tz, dt_format="medium", lang_code=self.lang
        )
        return f"{when} ({tz})"

    def _website_login_url(self):
        """The login page, its login field filled in with the contact's login."""
        self.ensure_one()
        login = self.username or self.email_normalized or ""
        return f"{self.get_base_url()}/web/login?{url_encode({'login': login})}"

    def _website_mail_company(self):
        """The company a login mail is from (name, sender, mail server, layout):
        the mail code and both templates ask here."""
        self.ensure_one()
        return (
            self.company_id or self.commercial_partner_id.company_id or self.env.company
        )

    @api.model
    def _get_partner_from_token(self, token):
        """auth_signup's token check; a set-password link of this addon must also be
        the contact's latest, unexpired, and its contact still allowed to log in; any
        token needs a contact that may log in."""
        partner = super()._get_partner_from_token(token)
        credentials = self.env["partner.login.credential"]
        if partner and not credentials._link_still_valid(partner, token):
            return None
        # sudo: the contact's flags and users decide, for a visitor without rights
        signup = self.env["res.users.website.signup"].sudo()
        if partner and not signup._may_use_token(partner.sudo()):
            return None
        return partner

    def signup_get_auth_param(self):
        """Odoo puts a signup token into its notifications to a contact without a
        user (free sign-up): none for an address that awaits a Website Login
        manager."""
        params = super().signup_get_auth_param()
        held = self.env["partner.login.eligibility"]._credential_mail_held(self)
        for partner_id in held.ids:
            params[partner_id].pop("auth_signup_token", None)
        return params

    def action_random_password_mail(self):
        """The "Random Password Mail" button and Action menu entry."""
        return self.env["random.password.mail"]._open_for(self)

    def action_revoke_website_access(self):
        """The "Revoke Website Access" button and Action menu entry: Allow Login off
        (which ends open sessions), no temporary password any more, a note."""
        return self.env["partner.login.access"]._revoke_website_access(self)

    def action_unlock_website_login(self):
        """The "Unlock Login" button: the contact may try its password again."""
        return self.env["res.users.login.lockout"]._unlock_website_login(self)

    def action_approve_website_colleague(self):
        """The "Approve" button of the contacts a key user added: their invite goes
        out now."""
        return self.env["partner.login.delegation"]._approve(self)

    def action_fill_username_from_reference(self):
        """Action menu: the selected contacts without a username get their
        Reference as username, where it is a valid username nobody else has."""
        return self.env["partner.login.username"]._fill_from_reference(self)

    def _website_notification(self, title, message, kind):
        """A notification, sticky when it is a warning, then the view reloads."""
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": title,
                "message": message,
                "type": kind,
                "sticky": kind == "warning",
                "className": "o_website_login_lines",  # one line per contact
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    @api.model
    def _cron_send_bulk_website_invite(self):
        """Entry point of the scheduled action "Send Bulk Website Invite"."""
        return self.env["partner.invite.run"].action_start()
