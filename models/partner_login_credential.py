# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import hmac
import secrets
from datetime import timedelta
from hashlib import sha256

from werkzeug.urls import url_encode

from odoo import api, fields, models
from odoo.exceptions import AccessDenied, UserError

from .. import compat
from .website_login_settings import website_setting

# 55 symbols, without the look-alikes 0 O o 1 l I i, so a password can be read and
# retyped; 20 of them carry 20 * log2(55) = 115.6 bits of entropy, above the 112 bits
# NIST SP 800-63B (5.1.1.2) asks of a secret kept under a fast keyed hash.
TEMPORARY_PASSWORD_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
TEMPORARY_PASSWORD_LENGTH = 20
# auth_signup's signup_type of the set-password links this addon sends: Odoo's own
# reset tokens ("reset") stay untouched, and a later Odoo reset replaces a link.
LINK_SIGNUP_TYPE = "website_link"
CREDENTIAL_KINDS = [
    ("password", "Temporary password"),
    ("link", "Set-password link"),
]


def generate_temporary_password():
    """A random password from the OS's CSPRNG (see the entropy note above)."""
    return "".join(
        secrets.choice(TEMPORARY_PASSWORD_ALPHABET)
        for _index in range(TEMPORARY_PASSWORD_LENGTH)
    )


class PartnerLoginCredential(models.Model):
    """The hashed temporary password, or set-password link, of a portal user: one
    row per user, whichever the kind (``partner_website_login.credential_mode``).

    No group may read this model (see security/ir.model.access.csv): only the
    issuing and checking code below touches it, in sudo.
    HMAC-SHA256 instead of Odoo's slow pbkdf2: the secret is random with 115 bits,
    so a keyed fast hash is as strong and lets a run issue thousands quickly.
    """

    _name = "partner.login.credential"
    _description = "Temporary password or set-password link of a portal user (hashed)"
    _log_access = False

    user_id = fields.Many2one(
        "res.users", required=True, ondelete="cascade", index=True, readonly=True
    )
    kind = fields.Selection(
        CREDENTIAL_KINDS, required=True, default="password", readonly=True
    )
    # HMAC of the password, or of the link's signed auth_signup token
    secret_hash = fields.Char(required=True, readonly=True)
    expires_at = fields.Datetime(required=True, readonly=True, index=True)

    # the UNIQUE(user_id) the credentials rely on: 18.0 and 19.0 declare it apart
    # (compat.py); its name in PostgreSQL is the same
    if compat.MODEL_CONSTRAINTS:
        _user_unique = models.Constraint(
            "UNIQUE(user_id)", "A user has at most one temporary password."
        )
    else:
        _sql_constraints = [
            (
                "user_unique",
                "UNIQUE(user_id)",
                "A user has at most one temporary password.",
            )
        ]

    @api.model
    def _hash_key(self):
        # database.secret is readable by administrators only and never leaves the
        # database; the prefix keeps these hashes apart from Odoo's other uses of it.
        secret = self.env["ir.config_parameter"].sudo().get_param("database.secret")
        return ("partner_website_login:" + secret).encode()

    @api.model
    def _hash(self, key, user_id, password):
        # the user id is part of the message: a hash copied to another row is useless
        return hmac.new(key, f"{user_id}:{password}".encode(), sha256).hexdigest()

    @api.model
    def _validity_hours(self):
        return website_setting(self.env, "temp_password_hours")

    @api.model
    def _validity(self):
        return timedelta(hours=self._validity_hours())

    @api.model
    def _credential_mode(self):
        """What the mails carry: "password" (default) or "link" (Settings)."""
        return website_setting(self.env, "credential_mode")

    @api.model
    def _issue(self, partners, kind="password", rules_checked=False):
        """The one door through which contacts receive a temporary password, or a
        set-password link (``kind="link"``).

        Makes or restores their portal users, replaces any password or link they
        had (ending their sessions) and turns Allow Login on.

        :param rules_checked: the caller has just applied the eligibility rules
            to ``partners`` in this transaction (the delivery's ``_admissible``)
        :returns: ({partner id: clear password or link URL}, expiry datetime), for
            the caller's mail; the clear secrets exist only in the returned dict.
        """
        if not partners:
            return {}, None
        refusals = (
            {}
            if rules_checked
            else self.env["partner.login.eligibility"]._refusals(partners)
        )
        if refusals:
            raise UserError(
                "\n".join(
                    f"{partner.display_name}: {message}"
                    for partner, (_rule, message) in zip(
                        partners.browse(refusals), refusals.values(), strict=True
                    )
                )
            )
        users = self.env["res.users.portal"]._users_for(partners)
        secrets_by_user, expires_at = self._replace_for_users(users, kind)
        users._clear_own_password()
        users._end_website_sessions()  # also those opened with an earlier temporary one
        # sudo: the callers are a manager's act or the scheduler (checked by them)
        partners.sudo().filtered(lambda partner: not partner.allow_login).write(
            {"allow_login": True}
        )
        self.env["partner.login.access"]._invited(partners, expires_at)
        secrets = {user.partner_id.id: secrets_by_user[user.id] for user in users}
        return secrets, expires_at

    @api.model
    def _revoke_for(self, partners):
        """The temporary passwords and links of ``partners`` stop working."""
        if partners:
            self.sudo().search([("user_id.partner_id", "in", partners.ids)])._revoke()

    @api.model
    def _cron_expire(self):
        """The scheduled "mark expired invites": a lapsed password or link is
        forgotten, its contact shows "Invite expired" (or "Invites unanswered" once
        it had all its invites); login and eligibility read the expiry itself."""
        now = fields.Datetime.now()
        expired = self.env["partner.login.access"]._lapsed()
        lapsed = self.sudo().search([("expires_at", "<=", now)])
        users = lapsed.user_id
        lapsed.unlink()
        # a session opened with the lapsed password never got a password of its own
        users._end_website_sessions()
        return expired

    @api.model
    def _replace_for_users(self, users, kind="password"):
        """Issue a new password, or set-password link, to each user, invalidating
        any previous one.

        :returns: ({user_id: clear password or link URL}, expiry datetime); the
            clear secrets exist only in the returned dict.
        """
        key = self._hash_key()
        expires_at = fields.Datetime.now() + self._validity()
        if kind == "link":
            secrets_by_user, urls = self._signup_tokens(users), {}
            for user in users:
                urls[user.id] = self._set_password_url(user, secrets_by_user[user.id])
        else:
            secrets_by_user = {user.id: generate_temporary_password() for user in users}
            urls = secrets_by_user
        store = self.sudo()  # nobody has access rights on this model
        store.search([("user_id", "in", users.ids)]).unlink()
        store.create(
            [
                {
                    "user_id": user_id,
                    "kind": kind,
                    "secret_hash": self._hash(key, user_id, secret),
                    "expires_at": expires_at,
                }
                for user_id, secret in secrets_by_user.items()
            ]
        )
        return urls, expires_at

    @api.model
    def _signup_tokens(self, users):
        """{user id: signed auth_signup token}: Odoo's own tokens, which stop working
        once the user logs in; the stored hash makes each one single-issue too."""
        partners = users.partner_id.sudo()  # signup_type is for ERP managers only
        partners.write({"signup_type": LINK_SIGNUP_TYPE})
        hours = self._validity_hours()
        return {
            user.id: user.partner_id.sudo()._generate_signup_token(expiration=hours)
            for user in users
        }

    @api.model
    def _set_password_url(self, user, token):
        query = {"db": self.env.cr.dbname, "token": token, "redirect": "/my"}
        base_url = user.partner_id.get_base_url()
        return f"{base_url}/web/reset_password?{url_encode(query)}"

    @api.model
    def _check_password(self, user, password):
        """True when ``password`` is the unexpired temporary password of ``user``."""
        return self._check_secret(user, password, "password")

    @api.model
    def _check_link_token(self, user, token):
        """True when ``token`` is from the unexpired set-password link of ``user``."""
        return self._check_secret(user, token, "link")

    @api.model
    def _link_still_valid(self, partner, token):
        """False when ``token``, which auth_signup accepts for ``partner``, is from
        a set-password link of this addon that a newer link, a revoke or a failed
        delivery ended, or whose contact may no longer log in."""
        partner = partner.sudo()  # tokens are checked for visitors not logged in
        if partner.signup_type != LINK_SIGNUP_TYPE:
            return True  # Odoo's own reset and signup tokens
        user = partner.website_user_id
        if not self._check_link_token(user, token):
            return False
        try:
            user._check_website_login_allowed()
        except AccessDenied:
            return False
        return True

    @api.model
    def _check_secret(self, user, secret, kind):
        if not user or not secret or not isinstance(secret, str):
            return False
        row = self.sudo().search_fetch(
            [
                ("user_id", "=", user.id),
                ("kind", "=", kind),
                ("expires_at", ">", fields.Datetime.now()),
            ],
            ["secret_hash"],
            limit=1,
        )
        if not row:
            return False
        expected = self._hash(self._hash_key(), user.id, secret)
        return hmac.compare_digest(expected, row.secret_hash)

    @api.model
    def _must_change_password(self, user):
        """``user`` logged in with a temporary password not replaced yet."""
        return bool(user.share) and self._holds(user, "password")

    @api.model
    def _has_pending_link(self, user):
        """``user`` holds an unexpired set-password link."""
        return self._holds(user, "link", unexpired=True)

    @api.model
    def _holds(self, user, kind, unexpired=False):
        domain = [("user_id", "=", user.id), ("kind", "=", kind)]
        if unexpired:
            domain.append(("expires_at", ">", fields.Datetime.now()))
        return bool(self.sudo().search_count(domain, limit=1))  # nobody reads it

    def _revoke(self):
        """The passwords and links stop working; the contacts show "No access"."""
        # their own prefetch: through the rows unlinked below, each contact's state
        # would be read on its own
        partners = self.user_id.partner_id.with_prefetch()
        links = self.filtered(lambda row: row.kind == "link")
        links.user_id.partner_id.sudo().signup_cancel()
        self.sudo().unlink()
        self.env["partner.login.access"]._ended(partners)
