# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import base64
import re

from markupsafe import escape

from odoo import Command, api, fields, models, tools
from odoo.exceptions import AccessDenied, AccessError, UserError, ValidationError
from odoo.osv import expression
from odoo.tools import SQL

from .mail_render_mixin import COMPILE_ONCE
from .partner_login_credential import LINK_SIGNUP_TYPE
from .website_login_settings import website_setting

# Letters, digits, "." "_" "-": never "@", so a username can never equal an email.
# As short as the customer numbers companies use ("7"): usernames are kept apart
# from each other and from every user's login, whatever their length.
USERNAME_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,64}")
MANAGER_GROUP = "partner_website_login.group_website_login_manager"
# Fields only a Website Login manager may change.
MANAGED_FIELDS = {"website_enabled", "username", "allow_login"}
# Fields only this addon's code writes (in sudo), whatever the caller's rights, with
# the values a new contact may carry (res.users creates its partner with them).
SYSTEM_FIELD_DEFAULTS = {
    "website_access_state": "none",
    "website_password_expires": False,
    "website_invite_count": 0,
}
SYSTEM_FIELDS = set(SYSTEM_FIELD_DEFAULTS)
# Stand for the password, or the set-password link, in a rendered mail until it
# exists: the operator reviews the mail with it, and it is replaced only when the
# mail goes out. The template receives it under the key of TEMPLATE_CREDENTIAL_KEYS.
CREDENTIAL_PLACEHOLDERS = {
    "password": "[[temporary-password]]",
    # a link's placeholder sits in an href, which the HTML sanitizer would URL-quote
    # unless it is a URL; ".invalid" (RFC 2606) leads nowhere should it ever leak
    "link": "https://set-password-link.invalid",
}
TEMPLATE_CREDENTIAL_KEYS = {
    "password": "website_password",
    "link": "website_set_password_url",
}

# Context key: Allow Login is being written to follow the portal user (set by
# res.users), not the other way round.
SYNCING_PORTAL_ACCESS = "website_login_syncing_portal_access"
# Context key: the caller writes Odoo's "Portal Access Granted" into its own note
# (one chatter message per contact instead of two).
NOTE_PORTAL_ACCESS_LATER = "website_login_note_portal_access_later"

ACCESS_STATES = [
    ("none", "No access"),
    ("invited", "Invited"),
    ("expired", "Invite expired"),
    ("unanswered", "Invites unanswered"),
    ("active", "Active"),
]


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
        lockout = self.env["res.users.login.lockout"]
        lockout.invalidate_model()  # written in SQL by logins of other transactions
        # sudo: shown read-only on the form; nobody reads the model itself
        locks = lockout.sudo().search(
            [
                ("user_id", "in", users.ids),
                ("locked_until", ">", fields.Datetime.now()),
            ]
        )
        locked_until = {lock.user_id.id: lock.locked_until for lock in locks}
        for partner in self:
            user = user_by_partner.get(partner.id, self.env["res.users"])
            partner.website_user_id = user
            partner.website_login_date = user.login_date
            partner.website_login_locked_until = locked_until.get(user.id, False)

    @api.onchange("website_enabled")
    def _onchange_website_enabled(self):
        if self.website_enabled:
            self.allow_login = True

    # ------------------------------------------------------------------ username

    @api.model
    def _normalize_website_vals(self, vals):
        if "username" in vals:
            username = (vals["username"] or "").strip()
            if username and not USERNAME_PATTERN.fullmatch(username):
                raise ValidationError(
                    self.env._(
                        "The username %(username)s is not valid: use 1 to 64 letters, "
                        "digits, '.', '_' or '-'.",
                        username=username,
                    )
                )
            vals["username"] = username or False
        return vals

    @api.model
    def _add_website_defaults(self, vals_list):
        """Put the defaults of the website fields (``default_*`` context keys, user
        defaults) into ``vals_list``: Odoo adds them only after ``create`` has run
        its checks, so they would otherwise land unchecked."""
        fields_missing = (MANAGED_FIELDS | SYSTEM_FIELDS) - set().union(*vals_list)
        defaults = self.default_get(list(fields_missing)) if fields_missing else {}
        for vals in vals_list:
            for name, value in defaults.items():
                vals.setdefault(name, value)

    def _website_fields_changed(self, vals, names):
        """The fields of ``names`` that ``vals`` would change on ``self`` (on create,
        ``self`` is empty and the change is against a new contact's values)."""
        changed = set()
        for name in names & vals.keys():
            field = self._fields[name]
            new = field.convert_to_cache(vals[name], self)
            if self:
                current = [field.convert_to_cache(p[name], p) for p in self]
            else:
                current = [
                    field.convert_to_cache(SYSTEM_FIELD_DEFAULTS.get(name), self)
                ]
            if any(value != new for value in current):
                changed.add(name)
        return changed

    def _check_website_login_write_access(self, vals_list):
        if self.env.su:
            return
        for vals in vals_list:
            if self._website_fields_changed(vals, SYSTEM_FIELDS):
                raise AccessError(
                    self.env._(
                        "The website access state is set by the addon, not by hand."
                    )
                )
            changed = self._website_fields_changed(vals, MANAGED_FIELDS)
            if changed and not self.env.user.has_group(MANAGER_GROUP):
                raise AccessError(
                    self.env._(
                        "Only Website Login managers may change the website access of "
                        "contacts (%(fields)s).",
                        fields=", ".join(sorted(changed)),
                    )
                )

    def _check_usernames_available(self, usernames):
        """Refuse usernames taken by another contact or another user's login.

        ``self``: the contacts that will hold the usernames (empty on create).
        """
        lowered = [username.lower() for username in usernames]
        for username in usernames:
            if lowered.count(username.lower()) > 1:
                raise ValidationError(
                    self.env._(
                        "The username %(username)s is given to more than one contact.",
                        username=username,
                    )
                )
        if not lowered:
            return
        own_ids = tuple(self.ids) or (0,)
        self.env.cr.execute(
            SQL(
                "SELECT username FROM res_partner "
                "WHERE lower(username) IN %s AND id NOT IN %s LIMIT 1",
                tuple(lowered),
                own_ids,
            )
        )
        if row := self.env.cr.fetchone():
            raise ValidationError(
                self.env._(
                    "The username %(username)s is already used by another contact.",
                    username=row[0],
                )
            )
        # Usernames hold no "@", so comparing with users' emails is needless.
        self.env.cr.execute(
            SQL(
                "SELECT login FROM res_users "
                "WHERE lower(login) IN %s AND partner_id NOT IN %s LIMIT 1",
                tuple(lowered),
                own_ids,
            )
        )
        if row := self.env.cr.fetchone():
            raise ValidationError(
                self.env._(
                    "The username %(username)s is already the login of another user.",
                    username=row[0],
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            # joining the bulk invite's list lets the contact log in, unless the
            # same values say otherwise (as the form's onchange does)
            if vals.get("website_enabled") and "allow_login" not in vals:
                vals["allow_login"] = True
        self._add_website_defaults(vals_list)
        self._check_website_login_write_access(vals_list)
        for vals in vals_list:
            self._normalize_website_vals(vals)
            self._check_website_enabled_username(vals, vals.get("name"))
        self.flush_model(["username"])
        self.browse()._check_usernames_available(
            [vals["username"] for vals in vals_list if vals.get("username")]
        )
        return super().create(vals_list)

    @api.model
    def _check_website_enabled_username(self, vals, contact_name, current=None):
        """The Website Enabled rule, for any screen, import or RPC write: a contact
        on the bulk invite's list has a username (the invite mails it as the login).

        :param current: the contact written to (None on create)
        """
        enabled = vals.get(
            "website_enabled", current.website_enabled if current else False
        )
        username = vals.get("username", current.username if current else False)
        if enabled and not username:
            raise ValidationError(
                self.env._(
                    "%(contact)s: Website Enabled needs a username (the bulk invite "
                    "mails it as the login).",
                    contact=contact_name or self.env._("New contact"),
                )
            )

    def write(self, vals):
        self._normalize_website_vals(vals)
        if {"website_enabled", "username"} & vals.keys():
            for partner in self:
                partner._check_website_enabled_username(
                    vals, partner.display_name, current=partner
                )
        joining = self.browse()
        if vals.get("website_enabled") and "allow_login" not in vals:
            joining = self.filtered(lambda partner: not partner.website_enabled)
        self._check_website_login_write_access([vals])
        if vals.get("username"):
            if len(self) > 1:
                raise ValidationError(
                    self.env._(
                        "The username %(username)s is given to more than one contact.",
                        username=vals["username"],
                    )
                )
            self.flush_model(["username"])
            self._check_usernames_available([vals["username"]])
        result = super().write(vals)
        if "allow_login" in vals and not vals["allow_login"]:
            # a company's Allow Login off keeps all its contacts out, for good
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
        syncing = self.env.context.get(SYNCING_PORTAL_ACCESS)
        if "allow_login" in vals and not vals["allow_login"] and not syncing:
            # no login means no portal access, as Odoo's portal wizard shows it
            self._website_portal_users_reached()._revoke_portal_access()
        elif vals.get("allow_login") and not syncing:
            # a manager let the contacts in: their portal users get access back
            self.sudo().website_user_id._restore_portal_access()
        if "active" in vals and not vals["active"]:
            self._website_portal_users_reached().sudo()._end_website_sessions()
        if "username" in vals:
            # the portal user's login follows, so a changed or cleared username
            # stops working at once (the email is the login without one)
            for partner in self.sudo().filtered("website_user_id"):
                login = partner._website_default_login()
                if login and partner.website_user_id.login != login:
                    partner.website_user_id.login = login
        return result

    def _website_portal_users_reached(self):
        """Portal users of these contacts, and of the contacts of these companies."""
        return (
            self.env["res.users"]
            .sudo()  # users are found whatever the current user may read
            .with_context(active_test=False)
            .search(
                [
                    ("share", "=", True),
                    "|",
                    ("partner_id", "in", self.ids),
                    ("partner_id.commercial_partner_id", "in", self.ids),
                ]
            )
        )

    # --------------------------------------------------------------- eligibility

    @api.model
    def _website_login_rules(self, bulk=False):
        """The one place that decides who may receive a temporary password.

        :returns: a list of (reason, message, domain a contact must match); the
            rules of the bulk invite (``bulk=True``) add to those of the button.
        """
        rules = [
            (
                "contact_archived",
                self.env._("The contact is archived."),
                [("active", "=", True)],
            ),
            (
                "company_archived",
                self.env._("The contact's company is archived."),
                [("commercial_partner_id.active", "=", True)],
            ),
            (
                "invalid_email",
                self.env._(
                    "The contact has no valid email address: enter exactly one."
                ),
                [("website_email_valid", "=", True)],
            ),
            (
                "reserved_user",
                self.env._(
                    "The contact belongs to one of Odoo's own users (the public user "
                    "or the portal template user)."
                ),
                [("id", "not in", self._website_reserved_partner_ids())],
            ),
            (
                "internal_user",
                self.env._(
                    "The contact is an internal user: they log in the Odoo way."
                ),
                [("user_ids", "not any", [("share", "=", False)])],
            ),
        ]
        if bulk:
            now = fields.Datetime.now()
            rules += [
                (
                    "website_disabled",
                    self.env._("Website Enabled is off."),
                    [("website_enabled", "=", True)],
                ),
                (
                    "no_username",
                    self.env._("No username is set."),
                    [("username", "!=", False)],
                ),
                (
                    "login_disabled",
                    self.env._("Allow Login is off."),
                    [("allow_login", "=", True)],
                ),
                (
                    "already_active",
                    self.env._("The contact already uses a password of their own."),
                    [("website_access_state", "!=", "active")],
                ),
                (
                    "invite_pending",
                    self.env._("An earlier invite has not expired yet."),
                    [
                        "|",
                        ("website_access_state", "!=", "invited"),
                        ("website_password_expires", "<=", now),
                    ],
                ),
                (
                    "invites_unanswered",
                    self.env._(
                        "Its invites went unanswered: a manager invites it again "
                        "with Random Password Mail."
                    ),
                    [
                        (
                            "website_invite_count",
                            "<",
                            website_setting(self.env, "invite_attempts"),
                        )
                    ],
                ),
            ]
        return rules

    @api.model
    def _website_reserved_partner_ids(self):
        """Contacts of the users Odoo keeps for itself: never given a login."""
        # sudo: these users and the setting naming the template are read for the
        # rule, not shown
        users = self.env["res.users"].sudo().with_context(active_test=False)
        public = self.env.ref("base.public_user", raise_if_not_found=False)
        template_id = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("base.template_portal_user_id", "")
        )
        ids = [public.id] if public else []
        if template_id.isdigit():
            ids.append(int(template_id))
        return users.browse(ids).exists().partner_id.ids

    @api.model
    def _website_invite_domain(self):
        """Contacts the bulk invite sends to now."""
        return expression.AND(
            [domain for _reason, _message, domain in self._website_login_rules(True)]
        )

    def _website_login_refusals(self, bulk=False):
        """:returns: {partner id: message} for the contacts of ``self`` refused."""
        refusals = {}
        candidates = self.with_context(active_test=False)
        for _reason, message, domain in self._website_login_rules(bulk):
            passing = candidates.search([("id", "in", candidates.ids)] + domain)
            for partner in candidates - passing:
                refusals[partner.id] = message
            candidates = passing
        return refusals

    # ------------------------------------------------------------------- issuing

    def _website_portal_users(self):
        """The portal user of each contact, created (without Odoo's signup mail) or
        unarchived where needed. Refuses a login another user already has."""
        # sudo: a Website Login manager may give portal access without the right to
        # manage users in general, as the portal wizard does.
        users_sudo = self.env["res.users"].sudo().with_context(active_test=False)
        existing = users_sudo.search(
            [("partner_id", "in", self.ids), ("share", "=", True)], order="id"
        )
        user_by_partner = {}
        for user in existing:
            user_by_partner.setdefault(user.partner_id.id, user)
        users = users_sudo.browse([user.id for user in user_by_partner.values()])
        # the callers are a manager's explicit acts: access comes back in full
        users._restore_portal_access()

        new_partners = self.filtered(lambda partner: partner.id not in user_by_partner)
        if not new_partners:
            return users
        if collisions := new_partners._website_login_collisions():
            raise UserError(
                self.env._(
                    "The login %(login)s already belongs to another user: give the "
                    "contact a username.",
                    login=next(iter(collisions.values())),
                )
            )
        portal_group = self.env.ref("base.group_portal")
        # mail_create_nolog: Odoo would post its "Portal Access Granted" note one
        # message_post at a time (about 4 ms each); it is logged below in one batch.
        new_users = users_sudo.with_context(
            no_reset_password=True, mail_create_nolog=True
        ).create(
            [
                {
                    "partner_id": partner.id,
                    "login": partner._website_default_login(),
                    "company_id": (partner.company_id or self.env.company).id,
                    "company_ids": [
                        Command.set([(partner.company_id or self.env.company).id])
                    ],
                    "groups_id": [Command.set([portal_group.id])],
                }
                for partner in new_partners
            ]
        )
        if not self.env.context.get(NOTE_PORTAL_ACCESS_LATER):
            new_partners._message_log_batch(
                {
                    user.partner_id.id: user._get_portal_access_update_body(True)
                    for user in new_users
                }
            )
        return users | new_users

    def _website_default_login(self):
        self.ensure_one()
        return (self.username or self.email_normalized or "").lower()

    def _website_login_collisions(self):
        """{partner id: login} for contacts without a portal user whose login would
        be another user's already (one query)."""
        without_user = self.filtered(lambda partner: not partner.website_user_id)
        login_by_partner = {
            partner.id: partner._website_default_login() for partner in without_user
        }
        if not login_by_partner:
            return {}
        taken = set(
            self.env["res.users"]
            .sudo()  # logins of every user, archived ones included
            .with_context(active_test=False)
            .search([("login", "in", list(login_by_partner.values()))])
            .mapped("login")
        )
        return {
            partner_id: login
            for partner_id, login in login_by_partner.items()
            if login in taken
        }

    def _issue_website_credentials(self, kind="password"):
        """The one door through which contacts receive a temporary password, or a
        set-password link (``kind="link"``).

        Creates the missing portal users, replaces any password or link they had
        (ending their sessions) and turns Allow Login on.

        :returns: {partner id: clear password or link URL}, for the caller's mail.
        """
        if not self:
            return {}
        refusals = self._website_login_refusals()
        if refusals:
            raise UserError(
                "\n".join(
                    f"{partner.display_name}: {message}"
                    for partner, message in zip(
                        self.browse(refusals), refusals.values(), strict=True
                    )
                )
            )
        users = self._website_portal_users()
        secrets_by_user, expires_at = self.env[
            "partner.login.credential"
        ]._replace_for_users(users, kind)
        users._clear_own_password()
        users._end_website_sessions()  # also those opened with an earlier temporary one
        # sudo: state and expiry are written by the addon only (SYSTEM_FIELDS)
        self.sudo().write(
            {
                "allow_login": True,
                "website_access_state": "invited",
                "website_password_expires": expires_at,
            }
        )
        return {user.partner_id.id: secrets_by_user[user.id] for user in users}

    def _set_website_access_state(self, state):
        values = {"website_access_state": state}
        if state in ("none", "active"):
            # access had or taken away: a later invite starts the count again
            values.update(website_password_expires=False, website_invite_count=0)
        self.sudo().write(values)  # SYSTEM_FIELDS

    def _count_website_invites(self, by_run):
        """An invite went out: a run's counts towards the unanswered ones, a
        manager's by hand starts the count again."""
        if self:
            self.env.cr.execute(
                SQL(
                    "UPDATE res_partner SET website_invite_count = %s WHERE id IN %s",
                    SQL("COALESCE(website_invite_count, 0) + 1") if by_run else 0,
                    tuple(self.ids),
                )
            )
            self.invalidate_recordset(["website_invite_count"])

    @api.model
    def _mark_expired_website_invites(self):
        """Shows "Invite expired" once the temporary password or link has lapsed,
        and forgets its hash; login and eligibility read the expiry itself."""
        now = fields.Datetime.now()
        expired = self.sudo().search(
            [
                ("website_access_state", "=", "invited"),
                ("website_password_expires", "<=", now),
            ]
        )
        attempts = website_setting(self.env, "invite_attempts")
        unanswered = expired.filtered(
            lambda partner: partner.website_invite_count >= attempts
        )
        unanswered.write({"website_access_state": "unanswered"})
        (expired - unanswered).write({"website_access_state": "expired"})
        lapsed = (
            self.env["partner.login.credential"]
            .sudo()  # nobody has access rights on this model
            .search([("expires_at", "<=", now)])
        )
        users = lapsed.user_id
        lapsed.unlink()
        # a session opened with the lapsed password never got a password of its own
        users._end_website_sessions()
        return expired

    # --------------------------------------------------------------------- mails

    def _website_password_mail_values(self, template, expires_at=None, kind="password"):
        """Render ``template`` for each contact, in its language, in batch, with the
        placeholder where the password or link goes (filled in only at sending).
        Everything the template sets is used: sender, reply-to, CC, outgoing mail
        server, attachments (static and reports) and the notification layout.

        :param expires_at: the expiry the mail announces (default: if issued now)
        :param kind: what the mails carry, "password" or "link"
        :returns: {partner id: {subject, body_html, email_from, reply_to, email_cc,
            mail_server_id, attachments [(name, content, mimetype)], routing}}
        """
        if expires_at is None:
            expires_at = (
                fields.Datetime.now() + self.env["partner.login.credential"]._validity()
            )
        rendered = template.with_context(
            **{TEMPLATE_CREDENTIAL_KEYS[kind]: CREDENTIAL_PLACEHOLDERS[kind]},
            website_password_expires=expires_at,
            **{COMPILE_ONCE: True},
        )._generate_template(
            self.ids,
            (
                "subject",
                "body_html",
                "email_from",
                "reply_to",
                "email_cc",
                "mail_server_id",
                "attachment_ids",
                "report_template_ids",
            ),
        )
        static_attachments = [
            (attachment.name, attachment.raw, attachment.mimetype)
            for attachment in template.attachment_ids
        ]
        mails = {}
        for partner in self:
            values = rendered[partner.id]
            body = values.get("body_html") or ""
            if template.email_layout_xmlid:
                body = partner._website_mail_in_layout(template, body)
            mails[partner.id] = {
                "subject": values.get("subject"),
                "body_html": body,
                "email_from": values.get("email_from"),
                "reply_to": values.get("reply_to"),
                "email_cc": values.get("email_cc") or False,
                "mail_server_id": values.get("mail_server_id") or False,
                "attachments": static_attachments
                + [
                    (name, base64.b64decode(content), None)
                    for name, content in values.get("attachments") or ()
                ],
                **partner._website_mail_routing(),
            }
        return mails

    def _website_mail_in_layout(self, template, body):
        """The body inside the template's notification layout, rendered as
        ``mail.template.send_mail`` renders it (this path builds no mail.mail)."""
        self.ensure_one()
        lang = template._render_lang(self.ids)[self.id] if template.lang else False
        model = self.env["ir.model"]._get(self._name)
        model = model.with_context(lang=lang) if lang else model
        company = self._mail_get_companies(default=self.env.company)[self.id]
        layout_values = {
            "message": self.env["mail.message"]
            .sudo()
            .new({"body": body, "record_name": self.display_name}),
            "subtype": self.env["mail.message.subtype"].sudo(),
            "model_description": model.display_name,
            "record": self,
            "record_name": False,
            "subtitles": False,
            "company": company,
            "email_add_signature": False,
            "signature": "",
            "website_url": "",
            "is_html_empty": tools.is_html_empty,
        }
        wrapped = model.env["ir.qweb"]._render(
            template.email_layout_xmlid,
            layout_values,
            minimal_qcontext=True,
            raise_if_not_found=False,
        )
        if not wrapped:
            return body
        return self.env["mail.render.mixin"]._replace_local_links(wrapped)

    def _website_mail_routing(self):
        """Send through the mail configuration of the contact's company: Odoo picks
        its outgoing server, bounce address and, when the sender's own address
        cannot be sent from there, its notification address."""
        self.ensure_one()
        company = (
            self.company_id or self.commercial_partner_id.company_id or self.env.company
        )
        return {
            "record_company_id": company.id,
            "record_alias_domain_id": company.alias_domain_id.id,
        }

    @api.model
    def _website_fill_credential(self, body, kind, secret):
        """The mail body with the password or link in place of its placeholder."""
        # escape() gives Markup, which a Markup body does not escape a second time
        return body.replace(CREDENTIAL_PLACEHOLDERS[kind], escape(secret))

    @api.model
    def _website_mail_template(self, xmlid):
        return self.env.ref(xmlid).sudo()  # rendering: managers need no template rights

    def _post_website_password_note(
        self, expires_at, kind="password", run=None, granted=()
    ):
        """A note on each contact that its mail went out: when, by whom or which
        run, valid until, password or link; never the secret. One insert.

        :param granted: ids of the contacts whose portal user was just made: their
            note starts with Odoo's "Portal Access Granted"
        """
        if not self:
            return
        expiry = tools.format_datetime(self.env, expires_at, tz=self.env.user.tz)
        sender = run.display_name if run else self.env.user.name
        granted_text = self.env["res.users"]._get_portal_access_update_body(True)
        bodies = {}
        for partner in self:
            if kind == "link":
                body = self.env._(
                    "Set-password link sent to %(email)s by %(user)s, valid until "
                    "%(expiry)s.",
                    email=partner.email_normalized,
                    user=sender,
                    expiry=expiry,
                )
            else:
                body = self.env._(
                    "Password mail sent to %(email)s by %(user)s, valid until "
                    "%(expiry)s.",
                    email=partner.email_normalized,
                    user=sender,
                    expiry=expiry,
                )
            if partner.id in granted:
                body = f"{granted_text}. {body}"
            bodies[partner.id] = escape(body)  # plain text, as message_post escapes
        # sudo: the notes are the addon's record of what it did (rights checked by
        # the callers: a manager, or the scheduler)
        self.sudo()._message_log_batch(bodies)

    def _website_mail_recipient(self):
        """The one address a password mail goes to: the contact's own, whatever a
        template or a caller says, with a name that cannot break the header."""
        self.ensure_one()
        name = " ".join((self.name or "").split())  # no line break in To:
        return tools.formataddr((name, self.email_normalized))

    def _revoke_website_credentials(self):
        """The contacts' temporary passwords and links stop working."""
        if self:
            self.env["partner.login.credential"].sudo().search(
                [("user_id.partner_id", "in", self.ids)]
            )._revoke()

    # ------------------------------------------------------- set-password links

    @api.model
    def _get_partner_from_token(self, token):
        """auth_signup's token check: a link of this addon also needs its stored
        hash (so a newer link, a revoke or a failed delivery ends it) and a contact
        still allowed to log in."""
        partner = super()._get_partner_from_token(token)
        # sudo: tokens are checked for visitors who are not logged in
        if partner and partner.sudo().signup_type == LINK_SIGNUP_TYPE:
            user = partner.sudo().website_user_id
            credentials = self.env["partner.login.credential"]
            if not credentials._check_link_token(user, token):
                return None
            try:
                user._check_website_login_allowed()
            except AccessDenied:
                return None
        return partner

    # ------------------------------------------------------------------- actions

    def action_random_password_mail(self):
        """The "Random Password Mail" button and Action menu entry."""
        return self.env["random.password.mail"]._open_for(self)

    def action_revoke_website_access(self):
        """The "Revoke Website Access" button and Action menu entry: Allow Login off
        (which ends open sessions), no temporary password any more, a note."""
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(
                self.env._("Only Website Login managers may revoke website access.")
            )
        self.check_access("write")
        self.write({"allow_login": False})
        self._revoke_website_credentials()
        note = escape(  # plain text in an HTML body, as message_post would escape it
            self.env._("Website access revoked by %(user)s.", user=self.env.user.name)
        )
        # one insert for all the contacts; write access was checked above
        self._message_log_batch(dict.fromkeys(self.ids, note))
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Revoke Website Access"),
                "message": self.env._(
                    "Website access revoked for %(count)s contacts.", count=len(self)
                ),
                "type": "success",
                "sticky": False,
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def action_unlock_website_login(self):
        """The "Unlock Login" button: the contact may try its password again."""
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(
                self.env._("Only Website Login managers may unlock a login.")
            )
        self.check_access("write")
        users = self.sudo().website_user_id  # the manager's decision, checked above
        self.env["res.users.login.lockout"].sudo()._forget(users.ids)
        self.invalidate_recordset(["website_login_locked_until"])
        note = escape(
            self.env._("Website login unlocked by %(user)s.", user=self.env.user.name)
        )
        self._message_log_batch(dict.fromkeys(self.ids, note))
        return True

    def action_fill_username_from_reference(self):
        """Action menu: the selected contacts without a username get their
        Reference as username, where it is a valid username nobody else has."""
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(
                self.env._("Only Website Login managers may set usernames.")
            )
        filled, skipped = self.browse(), []
        for partner in self.filtered(lambda partner: not partner.username):
            reference = (partner.ref or "").strip()
            if not reference:
                skipped.append(
                    self.env._("%(contact)s: no Reference", contact=partner.name)
                )
                continue
            try:
                with self.env.cr.savepoint():
                    partner.username = reference
                filled |= partner
            except ValidationError as error:
                skipped.append(f"{partner.name}: {error.args[0]}")
        message = self.env._(
            "%(count)s usernames filled from References.", count=len(filled)
        )
        if skipped:
            message += "\n" + "\n".join(skipped)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Usernames from References"),
                "message": message,
                "type": "warning" if skipped else "success",
                "sticky": bool(skipped),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    @api.model
    def _cron_send_bulk_website_invite(self):
        """Entry point of the scheduled action "Send Bulk Website Invite"."""
        return self.env["partner.invite.run"].action_start()
