# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
from datetime import datetime, timedelta

from odoo import Command, api, fields, models
from odoo.exceptions import AccessDenied, UserError
from odoo.tools import SQL, create_index

from .. import compat
from .login_attempt import LoginAttempt, usable_password
from .res_users_portal import SYNCING_PORTAL_ACCESS
from .website_login_settings import website_setting

_logger = logging.getLogger(__name__)


class ResUsers(models.Model):
    _inherit = "res.users"

    # Part of the session token: raising it ends the user's open sessions.
    website_session_version = fields.Integer(
        default=0, readonly=True, copy=False, groups="base.group_system"
    )

    def init(self):
        result = super().init()
        # The eligibility rule "internal user" (partner_login_eligibility.py) asks,
        # at each batch, for the contacts of the internal users, archived ones too;
        # without this index 18.0 reads every user for it, the portal users a bulk
        # run makes included, so each batch would grow slower as the run goes on.
        create_index(
            self.env.cr,
            "res_users_internal_partner_idx",
            self._table,
            ["partner_id"],
            where=compat.USER_NOT_SHARED_SQL,
        )
        return result

    def _get_session_token_fields(self):
        return super()._get_session_token_fields() | {"website_session_version"}

    def _end_website_sessions(self):
        """Every open session of these users is logged out at its next request;
        other users' sessions are untouched."""
        if not self:
            return
        self.env.cr.execute(
            SQL(
                "UPDATE res_users SET website_session_version = "
                "COALESCE(website_session_version, 0) + 1 WHERE id IN %s",
                tuple(self.ids),
            )
        )
        self.invalidate_recordset(["website_session_version"])
        self.env.registry.clear_cache()  # session tokens are cached per session

    @api.model
    def _end_website_sessions_of(self, partners):
        """The open sessions of the portal users of ``partners``, and of these
        companies' contacts, end (the contacts are archived)."""
        # sudo: whoever archives a contact ends its portal user's sessions
        reached = self.sudo().with_context(active_test=False)
        reached.search(
            [
                ("share", "=", True),
                "|",
                ("partner_id", "in", partners.ids),
                ("partner_id.commercial_partner_id", "in", partners.ids),
            ]
        )._end_website_sessions()

    @staticmethod
    def _website_login_credential(credential):
        if credential.get("type") == "password" and credential.get("login") is None:
            # /web/login drops an empty login field, and Odoo would fail on it with
            # a KeyError (a server error): refuse it like an unknown login instead
            return {**credential, "login": ""}
        return credential

    # An RPC call with a portal account's uid and a password is a login too: its
    # failures count towards the account's lockout (check on 18.0,
    # _check_uid_passwd on 19.0; see compat.py).
    if compat.LOGIN_IS_CLASS_METHOD:

        @classmethod
        def _login(cls, db, credential, user_agent_env):
            credential = cls._website_login_credential(credential)
            with LoginAttempt.tracked(cls.pool, credential) as attempt:
                attempt.count_first(cls.pool, bool(user_agent_env.get("interactive")))
                return super()._login(db, credential, user_agent_env)

        @classmethod
        def check(cls, db, uid, passwd):
            with LoginAttempt.tracked(cls.pool, {}, equal_time=False):
                return super().check(db, uid, passwd)

    else:

        def _login(self, credential, user_agent_env):
            credential = self._website_login_credential(credential)
            registry = self.env.registry
            with LoginAttempt.tracked(registry, credential, env=self.env) as attempt:
                attempt.count_first(
                    registry, bool(user_agent_env.get("interactive")), env=self.env
                )
                return super()._login(credential, user_agent_env)

        @api.model
        def _check_uid_passwd(self, uid, passwd):
            with LoginAttempt.tracked(
                self.env.registry, {}, equal_time=False, env=self.env
            ):
                return super()._check_uid_passwd(uid, passwd)

    def _update_last_login(self):
        """Odoo records a login: the first one after a contact's latest invite is
        that invite's first login (one UPDATE)."""
        result = super()._update_last_login()
        portal_users = self.filtered("share")
        if portal_users:
            self.env["partner.invite.run.line"].sudo()._stamp_latest(  # the addon's
                portal_users.sudo().partner_id, "first_login_at"
            )
        return result

    def _on_login_cooldown(self, failures, previous):
        """Odoo's per-address cooldown with the addon's threshold
        (``ip_cooldown_failures``, replacing ``base.login_cooldown_after``): above
        the account's own lockout, so that one contact's mistakes do not stop a
        whole office behind one address."""
        threshold = website_setting(self.env, "ip_cooldown_failures")
        if not threshold:
            return False
        # sudo: Odoo's own setting, as Odoo reads it
        delay = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("base.login_cooldown_duration", 60)
        )
        return failures >= threshold and datetime.now() - previous < timedelta(
            seconds=int(delay)
        )

    @api.model
    def _get_login_domain(self, login):
        if attempt := LoginAttempt.current():
            attempt.crypt_context = self._crypt_context()
        domain = super()._get_login_domain(login)
        if not isinstance(login, str) or "\x00" in login:
            # PostgreSQL refuses NUL in text: refuse like an unknown login, not a crash
            return compat.login_domain([("id", "=", 0)])
        identifier = self.env["res.users.login.identifier"]
        # the website addon adds its scope to what this returns; the exact login
        # must be looked for on the current website already here
        website_id = identifier._current_website_id()
        scope = [("website_id", "in", [False, website_id])] if website_id else []
        exact = self.sudo().search(
            compat.domain_and([domain, scope]), order=self._get_login_order(), limit=1
        )
        if exact:
            # Odoo's exact login first (internal users are untouched), but not over
            # another contact's email login: such an email logs nobody in
            if exact.share and identifier._claimed_by_another(login, exact):
                return compat.login_domain([("id", "=", 0)])
            return domain
        user_id = identifier._user_id(login)
        if not user_id:
            return domain
        return compat.login_domain(compat.domain_or([domain, [("id", "=", user_id)]]))

    def _check_credentials(self, credential, env):
        user = self._website_checked_user()
        attempt = LoginAttempt.current()
        by_password = credential.get("type") == "password"
        if attempt is not None and by_password and user.share:
            if not attempt.counted:  # RPC by user id (check), not a login
                attempt.count_later(self.env, user)
            if attempt.refused and attempt.account == user.id:
                # locked: refused like a wrong password, in its time (the decoy
                # hash), whatever the password
                attempt.spend_hash_time(
                    self._crypt_context(), credential.get("password")
                )
                raise AccessDenied()
        if by_password and not usable_password(credential.get("password")):
            # Odoo refuses an empty password before hashing and fails on a number,
            # a list or an overlong one (a TypeError or a 500, not counted by the
            # cooldown): refuse them all here, as AccessDenied, which _login counts
            # and answers in the time of a password hash.
            raise AccessDenied()
        if attempt and user._website_has_own_password():
            attempt.hashed = True  # Odoo's check below runs the password hash
        try:
            auth_info = super()._check_credentials(credential, env)
        except AccessDenied:
            # Temporary passwords open browser sessions only, which ir_http.py then
            # keeps on /my/security until the user sets a password of their own.
            credentials = self.env["partner.login.credential"]
            if not (
                by_password
                and env.get("interactive")
                and credentials._check_password(user, credential.get("password"))
            ):
                raise
            auth_info = {
                "uid": user.id,
                "auth_method": "password",
                "mfa": "default",
            }
        user._check_website_login_allowed()
        return auth_info

    def _website_checked_user(self):
        """The user whose credential ``_check_credentials`` checks: the record it is
        called on (19.0's second login step checks the code of the user logging in
        while the request still runs as the public user), or the current user when
        called on the model (an RPC call by user id, a password change)."""
        if not self:
            return self.env.user
        self.ensure_one()
        # sudo: as env.user is; the public user of that step may not read users
        return self.sudo()

    def _website_has_own_password(self):
        self.ensure_one()
        self.env.cr.execute(
            SQL(
                "SELECT 1 FROM res_users WHERE id = %s AND password IS NOT NULL "
                "AND password != ''",
                self.id,
            )
        )
        return bool(self.env.cr.rowcount)

    def _check_website_login_allowed(self):
        """Allow Login gate of portal users: refused exactly like a wrong password."""
        self.ensure_one()
        if not self.share:
            return
        # sudo: the contact's flags are read before any session exists
        partner = self.sudo().partner_id
        if not (
            partner.allow_login
            and partner.active
            and partner.commercial_partner_id.active
        ):
            raise AccessDenied()

    def _clear_own_password(self):
        """Forget the users' own passwords: a temporary one replaces them. The
        session token hashes the password column, so open sessions end too."""
        if not self:
            return
        self.env.cr.execute(
            SQL("UPDATE res_users SET password = NULL WHERE id IN %s", tuple(self.ids))
        )
        self.invalidate_recordset(["password"])
        self.env.registry.clear_cache()  # res.users.check caches (uid, password)

    def _set_password(self):
        result = super()._set_password()
        self._website_own_credential_set()
        return result

    def _website_own_credential_set(self):
        """A password of one's own, or a first passkey (19.0's auth_passkey): the
        temporary password or link ends, the contact is "Active"."""
        portal_users = self.filtered("share")
        if portal_users:
            self.env["partner.login.credential"].sudo().search(
                [("user_id", "in", portal_users.ids)]
            ).unlink()
            # a password set (a completed reset) opens a locked account: whoever
            # locked it by guessing cannot keep its owner out
            self.env["res.users.login.lockout"].sudo()._forget(portal_users.ids)
            self.env["partner.login.access"]._active(portal_users.partner_id)

    def write(self, vals):
        if any(
            command[0] == Command.CREATE
            for command in vals.get("auth_passkey_key_ids") or ()
        ):
            # how 19.0's auth_passkey adds a passkey (auth.passkey.key.create)
            self._website_own_credential_set()
        if self.env.context.get(SYNCING_PORTAL_ACCESS) or not (
            {"active", compat.GROUPS_FIELD} & vals.keys()
            or any(name.startswith(("in_group_", "sel_groups_")) for name in vals)
        ):
            return super().write(vals)
        # Odoo's portal wizard, the user form: Allow Login follows the portal user
        portal = self.env["res.users.portal"]
        before = {user.id: portal._has_access(user) for user in self.sudo()}
        result = super().write(vals)
        portal._portal_access_changed(self, before)
        return result

    @api.model_create_multi
    def create(self, vals_list):
        users = super().create(vals_list)
        self.env["res.users.portal"]._users_created(users)
        return users

    @api.model
    def reset_password(self, login):
        """/web/reset_password answers alike whether the login exists, is shared or
        is unknown; and an anonymous request does not replace the one-time link a
        manager sent (the contact may use that link, or ask for a new one)."""
        login = (login or "").strip()
        users = self.search(self._get_login_domain(login))
        if not users:
            users = self.search(self._get_email_domain(login))
        if len(users) != 1:
            _logger.info("Password reset asked for a login that names no one user")
            return False
        credentials = self.env["partner.login.credential"]
        if users.share and credentials._has_pending_link(users):
            _logger.info("Password reset skipped: user %s has a pending link", users.id)
            return False
        try:
            return super().reset_password(login)
        except UserError as error:
            # the mail could not go out: say so in the log, not to the visitor
            _logger.warning(
                "Password reset mail of user %s failed: %s", users.id, error
            )
            return False

    def _action_reset_password(self, signup_type="reset"):
        """Odoo's reset and signup mails (the public's Reset Password, the user
        form's button, a new user's invitation) carry a token that sets the
        password: none goes to an address that awaits a Website Login manager.
        Nothing is said to the public (it reads what anyone reads); the contact's
        own password keeps working, and a manager's Random Password Mail confirms
        the address."""
        held = self.env["partner.login.eligibility"]._credential_mail_held(
            self.partner_id
        )
        withheld = self.filtered(lambda user: user.partner_id in held)
        for user in withheld:
            _logger.info(
                "Password mail of user %s held: its email awaits a Website Login "
                "manager",
                user.id,
            )
        if withheld and withheld == self:
            return self.env["res.partner"]._website_notification(
                self.env._("No mail sent"),
                self.env._(
                    "No mail went to %(contacts)s. %(reason)s",
                    contacts=", ".join(withheld.mapped("name")),
                    reason=self.env["partner.login.eligibility"]._email_held_message(),
                ),
                "warning",
            )
        return super(ResUsers, self - withheld)._action_reset_password(signup_type)

    @api.model
    def _signup_create_user(self, values):
        # With a partner_id, the sign-up is for an existing contact (a signup
        # token): whether it may log in stays a manager's decision, unless a guest
        # buyer made that contact itself at the shop's checkout; a contact kept out
        # never gets this far (res.partner._get_partner_from_token).
        # sudo: read before the user exists, for a visitor without rights
        partner = self.env["res.partner"].sudo().browse(values.get("partner_id"))
        signup = self.env["res.users.website.signup"]
        signing_up_new_contact = not partner or signup._signs_up_itself(partner)
        signup._check_login_free(values)
        user = super()._signup_create_user(values)
        if signing_up_new_contact:
            # sudo: the visitor signing up has no rights on contacts. Not Website
            # Enabled: the contact chose a password, the bulk invite has nothing to
            # send it.
            user.partner_id.sudo().write({"allow_login": True})
        return user

    @api.constrains("login")
    def _check_login_not_a_username(self):
        self.env["partner.login.username"]._check_logins(self)
