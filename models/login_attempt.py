# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What one login attempt got to, so that its refusal gives nothing away.

res.users._login and check (res_users.py) run each attempt inside ``tracked``: a
refusal that did not hash a password (unknown or ambiguous login, a contact without
a password of its own, a locked account) spends the time of one anyway, and a
failed password on a portal account counts towards its lockout
(res_users_login_lockout.py). Plain Python, not a model: ``_login`` is a class
method and runs before any environment of the login exists.
"""

import contextlib
import contextvars
import secrets
import weakref

from odoo import SUPERUSER_ID, api
from odoo.exceptions import AccessDenied

# passlib refuses longer passwords with an error of its own (Odoo would answer 500)
MAX_PASSWORD_LENGTH = 4096

_CURRENT = contextvars.ContextVar("website_login_attempt", default=None)
# {crypt context: hash of a random password}: Odoo caches its crypt context, so a
# decoy is made once per process and settings
_DECOY_HASHES = weakref.WeakKeyDictionary()


def usable_password(password):
    """A password Odoo can check: a non-empty string passlib accepts."""
    return (
        isinstance(password, str)
        and 0 < len(password) <= MAX_PASSWORD_LENGTH
        and "\x00" not in password
    )


class LoginAttempt:
    def __init__(self):
        self.crypt_context = None  # set once the login was looked up
        self.hashed = False  # a password hash was checked: the refusal took its time
        self.account = None  # the portal user whose password was checked

    @classmethod
    def current(cls):
        """The attempt under way in this thread, or None outside a login."""
        return _CURRENT.get()

    @classmethod
    @contextlib.contextmanager
    def tracked(cls, registry, credential, equal_time=True):
        attempt = cls()
        token = _CURRENT.set(attempt)
        try:
            yield attempt
        except AccessDenied:
            # crypt_context is only set once the login was looked up: a refusal by
            # Odoo's cooldown stays immediate
            if (
                equal_time
                and attempt.crypt_context
                and not attempt.hashed
                and credential.get("type") == "password"
            ):
                attempt.spend_hash_time(
                    attempt.crypt_context, credential.get("password")
                )
            attempt.count_failure(registry)
            raise
        finally:
            _CURRENT.reset(token)

    def spend_hash_time(self, crypt_context, password):
        """Verify a password against the hash of a random password: as long as
        checking a real one, and never a match. What was typed does not matter to
        the time (pbkdf2 hashes it once), so anything unusable is replaced."""
        decoy = _DECOY_HASHES.get(crypt_context)
        if decoy is None:
            decoy = _DECOY_HASHES[crypt_context] = crypt_context.hash(
                secrets.token_urlsafe(32)
            )
        crypt_context.verify(password if usable_password(password) else "-", decoy)
        self.hashed = True

    def count_failure(self, registry):
        """A failed password on a portal account counts towards its lockout, in a
        transaction of its own (the login's is rolled back)."""
        if self.account:
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                env["res.users.login.lockout"]._record_failure(self.account)
