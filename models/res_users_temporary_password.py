# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import hmac
import secrets
from datetime import timedelta
from hashlib import sha256

from odoo import api, fields, models
from odoo.tools import SQL

# 55 symbols, without the look-alikes 0 O o 1 l I i, so a password can be read and
# retyped; 20 of them carry 20 * log2(55) = 115.6 bits of entropy, above the 112 bits
# NIST SP 800-63B (5.1.1.2) asks of a secret kept under a fast keyed hash.
TEMPORARY_PASSWORD_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
TEMPORARY_PASSWORD_LENGTH = 20
DEFAULT_VALIDITY_HOURS = 48


def generate_temporary_password():
    """A random password from the OS's CSPRNG (see the entropy note above)."""
    return "".join(
        secrets.choice(TEMPORARY_PASSWORD_ALPHABET)
        for _index in range(TEMPORARY_PASSWORD_LENGTH)
    )


class ResUsersTemporaryPassword(models.Model):
    """The hashed temporary password of a portal user: one row per user.

    No group may read this model (see security/ir.model.access.csv): only the
    issuing and checking code below touches it, in sudo.
    HMAC-SHA256 instead of Odoo's pbkdf2 (0.3 to 0.5 s a hash): the secret is random
    with 115 bits, so a keyed fast hash is as strong and lets a run issue 10,000.
    """

    _name = "res.users.temporary.password"
    _description = "Temporary password of a portal user (hashed)"
    _log_access = False

    user_id = fields.Many2one(
        "res.users", required=True, ondelete="cascade", index=True, readonly=True
    )
    password_hash = fields.Char(required=True, readonly=True)
    expires_at = fields.Datetime(required=True, readonly=True, index=True)
    # mail.mail carrying the password while it is queued: on a delivery failure the
    # password is revoked (see mail_mail.py). An integer: sent mails are deleted.
    mail_id = fields.Integer(index="btree_not_null", readonly=True)
    invite_run_id = fields.Many2one("website.invite.run", readonly=True, index=True)

    _sql_constraints = [
        ("user_unique", "UNIQUE(user_id)", "A user has at most one temporary password.")
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
    def _validity(self):
        hours = int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param(
                "partner_website_login.temp_password_hours", DEFAULT_VALIDITY_HOURS
            )
        )
        return timedelta(hours=max(hours, 1))

    @api.model
    def _replace_for_users(self, users):
        """Issue a new password to each user, invalidating any previous one.

        :returns: ({user_id: clear password}, expiry datetime); the clear passwords
            exist only in the returned dict.
        """
        key = self._hash_key()
        expires_at = fields.Datetime.now() + self._validity()
        passwords = {user.id: generate_temporary_password() for user in users}
        store = self.sudo()  # nobody has access rights on this model
        store.search([("user_id", "in", users.ids)]).unlink()
        store.create(
            [
                {
                    "user_id": user_id,
                    "password_hash": self._hash(key, user_id, password),
                    "expires_at": expires_at,
                }
                for user_id, password in passwords.items()
            ]
        )
        return passwords, expires_at

    @api.model
    def _check_password(self, user, password):
        """True when ``password`` is the unexpired temporary password of ``user``."""
        if not password or not isinstance(password, str):
            return False
        row = self.sudo().search_fetch(
            [("user_id", "=", user.id), ("expires_at", ">", fields.Datetime.now())],
            ["password_hash"],
            limit=1,
        )
        if not row:
            return False
        expected = self._hash(self._hash_key(), user.id, password)
        return hmac.compare_digest(expected, row.password_hash)

    @api.model
    def _link_mails(self, mail_by_partner, invite_run):
        """Remember which queued mail carries each contact's password (one query)."""
        if not mail_by_partner:
            return
        self.env.cr.execute(
            SQL(
                """UPDATE res_users_temporary_password c
                      SET mail_id = v.mail_id, invite_run_id = %s
                     FROM unnest(%s::int[], %s::int[]) AS v(partner_id, mail_id),
                          res_users u
                    WHERE u.id = c.user_id AND u.partner_id = v.partner_id""",
                invite_run.id or None,
                list(mail_by_partner),
                list(mail_by_partner.values()),
            )
        )
        self.invalidate_model(["mail_id", "invite_run_id"])

    def _revoke_after_failed_delivery(self, failure_type, failure_reason):
        for run in self.invite_run_id:
            run._record_failures(
                self.filtered(lambda row, run=run: row.invite_run_id == run),
                failure_reason or failure_type,
            )
        self._revoke()

    def _revoke(self):
        """The passwords stop working and the contacts show "No access"."""
        partners = self.user_id.partner_id
        self.sudo().unlink()
        partners._set_website_access_state("none")
