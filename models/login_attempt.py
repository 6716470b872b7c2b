# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What one login attempt got to, so that its refusal gives nothing away.

res.users._login and check (res_users.py) run each attempt inside ``tracked``: a
refusal that did not hash a password (unknown or ambiguous login, a contact without
a password of its own, a locked account) spends the time of one anyway, and an
attempt on a portal account is counted towards its lockout
(res_users_login_lockout.py): a login before its password is checked, in a
transaction of its own; an RPC call by user id after its check fails. Plain
Python, not a model: on 18.0 ``_login`` is a class method and runs before any
environment of the login exists.
"""

import contextlib
import contextvars
import secrets
import weakref

from odoo import tools
from odoo.exceptions import AccessDenied
from odoo.http import request

from .own_transaction import own_transaction
from .res_users_login_lockout import DEVICE_SCOPE_PREFIX, SCOPE_LOGIN, SCOPE_RPC

# passlib refuses longer passwords with an error of its own (Odoo would answer 500)
MAX_PASSWORD_LENGTH = 4096
# A browser the owner of a portal account logged in from: its own lockout count,
# so that guesses elsewhere never lock the owner out of it (OWASP's device cookie)
TRUSTED_DEVICE_COOKIE = "website_login_device"
TRUSTED_DEVICE_DAYS = 180

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
    def __init__(self, credential):
        self.credential = credential or {}
        self.crypt_context = None  # set once the login was looked up
        self.hashed = False  # a password hash was checked: the refusal took its time
        self.account = None  # the portal user whose password is checked
        self.scope = None  # the account's lockout count this attempt is on
        self.counted = False  # counted before its check (logins)
        self.refused = False  # over the count: refused without a check
        self.device = None  # the trusted-device id the browser showed, if valid

    @classmethod
    def current(cls):
        """The attempt under way in this thread, or None outside a login."""
        return _CURRENT.get()

    @classmethod
    @contextlib.contextmanager
    def tracked(cls, registry, credential, equal_time=True, env=None):
        """The attempt under way, for ``with``; ``env``: the caller's environment,
        where it has one (19.0), see own_transaction."""
        attempt = cls(credential)
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
                and attempt.credential.get("type") == "password"
            ):
                attempt.spend_hash_time(
                    attempt.crypt_context, attempt.credential.get("password")
                )
            if attempt.account and not attempt.counted:
                with own_transaction(registry, env) as own_env:
                    own_env["res.users.login.lockout"]._count_failure(
                        attempt.account, attempt.scope
                    )
            raise
        else:
            if attempt.account:
                with own_transaction(registry, env) as own_env:
                    own_env["res.users.login.lockout"]._succeeded(
                        attempt.account, attempt.scope
                    )
                attempt.remember_device(registry, env)
        finally:
            _CURRENT.reset(token)

    def count_first(self, registry, interactive, env=None):
        """A login names its account before its password is checked: count the
        attempt on the account's lockout now, so that simultaneous guesses cannot
        all be checked; a locked account refuses it unchecked (``refused``).

        :param env: the caller's environment (19.0), where the account is looked
            up: a transaction of its own is opened only to count a portal
            account's attempt. 18.0 has none before Odoo's ``_login`` opens its
            cursor, so the account is looked up in the counting transaction.
        """
        if self.credential.get("type") != "password":
            return
        if env is None:
            with own_transaction(registry) as own_env:
                if user_id := self._portal_account(own_env):
                    self._count_attempt(own_env, user_id, interactive)
            return
        if user_id := self._portal_account(env(su=True)):
            with own_transaction(registry, env) as own_env:
                self._count_attempt(own_env, user_id, interactive)

    def _portal_account(self, env):
        """The id of the portal user the login names, or None (unknown, or an
        internal user: Odoo's cooldown applies)."""
        users = env["res.users"]
        user = users.search(
            users._get_login_domain(self.credential.get("login")),
            order=users._get_login_order(),
            limit=1,
        )
        return user.id if user.share else None

    def _count_attempt(self, env, user_id, interactive):
        self.account = user_id
        self.scope = SCOPE_RPC
        if interactive:
            self.device = self._trusted_device(env, user_id)
            self.scope = (
                DEVICE_SCOPE_PREFIX + self.device if self.device else SCOPE_LOGIN
            )
        self.counted = True
        lockout = env["res.users.login.lockout"]
        self.refused = not lockout._count_attempt(self.account, self.scope)

    def count_later(self, env, user):
        """An RPC call by user id: its checks are cached by Odoo, so it is counted
        only once it failed; a locked account refuses it unchecked."""
        self.account, self.scope = user.id, SCOPE_RPC
        lockout = env["res.users.login.lockout"].sudo()  # nobody reads it
        self.refused = bool(lockout._locked_until(user.id, SCOPE_RPC))

    @staticmethod
    def _trusted_device(env, user_id):
        """The device id of a trusted-device cookie this browser holds for the
        account, if its signature is right."""
        if not request:
            return None
        cookie = request.httprequest.cookies.get(TRUSTED_DEVICE_COOKIE)
        payload = cookie and tools.verify_hash_signed(
            env, "website_login_device", cookie
        )
        if payload and payload[0] == user_id:
            return payload[1]
        return None

    def remember_device(self, registry, env=None):
        """After the owner's right password on the login page, its browser keeps a
        signed cookie naming the account and a random device id."""
        if not request or self.scope != SCOPE_LOGIN:
            return  # RPC, or a browser already trusted
        if env is not None:
            value = self._device_cookie(env(su=True))
        else:
            with own_transaction(registry) as own_env:
                value = self._device_cookie(own_env)
        request.future_response.set_cookie(
            TRUSTED_DEVICE_COOKIE,
            value,
            max_age=24 * 3600 * TRUSTED_DEVICE_DAYS,
            httponly=True,
            secure=request.httprequest.scheme == "https",
            samesite="Lax",
        )

    def _device_cookie(self, env):
        return tools.hash_sign(
            env,
            "website_login_device",
            [self.account, secrets.token_hex(8)],
            expiration_hours=24 * TRUSTED_DEVICE_DAYS,
        )

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
