# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Per-account lockout of portal logins, counted in PostgreSQL.

Odoo's own brake, the login cooldown, counts failures per IP address in each server
process's memory: several workers, several servers or an attacker with several
addresses get around it. Here the consecutive failures of one portal account are
counted in the database, which every worker and server shares, until a success:
after ``lockout_failures`` of them the account refuses every password for
``lockout_minutes``, doubled at each further failure up to ``lockout_max_minutes``;
after ``lockout_hard_failures`` (NIST SP 800-63B's bound of 100) it stays locked
until a password reset or a manager's Unlock (website_login_settings.py).

Each attempt is counted before its password is checked, atomically: simultaneous
guesses cannot all be checked, and a guess during a lock is refused without being
counted, so it neither extends the lock nor takes a count. Each account has one
counter per way in (``scope``): the login page ("login"), each browser the owner
logged in from before ("device:...", login_attempt.py) and RPC by user id ("rpc"),
so that nobody locks the owner out of the browser it uses by guessing elsewhere.
"""

from datetime import timedelta

from markupsafe import escape

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

from .. import compat
from .website_login_settings import MANAGER_GROUP, website_setting

SCOPE_LOGIN = "login"
SCOPE_RPC = "rpc"
DEVICE_SCOPE_PREFIX = "device:"
# "until reset": the lock of an account past the hard bound
FOREVER = timedelta(days=365 * 100)


class ResUsersLoginLockout(models.Model):
    _name = "res.users.login.lockout"
    _description = "Failed portal logins of one account"

    user_id = fields.Many2one("res.users", required=True, ondelete="cascade")
    scope = fields.Char(required=True, default=SCOPE_LOGIN)
    failures = fields.Integer(required=True, default=0)
    last_failure_at = fields.Datetime(required=True)
    locked_until = fields.Datetime()

    # the lockout's ON CONFLICT (user_id, scope) needs it: 18.0 and 19.0 declare it
    # apart (compat.py); its name in PostgreSQL is the same
    if compat.MODEL_CONSTRAINTS:
        _user_scope_uniq = models.Constraint(
            "unique(user_id, scope)", "One lockout record per user and way in."
        )
    else:
        _sql_constraints = [
            (
                "user_scope_uniq",
                "unique(user_id, scope)",
                "One lockout record per user and way in.",
            ),
        ]

    @api.model
    def _lock_duration(self, failures):
        """How long ``failures`` consecutive failures lock the account, or None."""
        threshold = website_setting(self.env, "lockout_failures")
        if failures < threshold:
            return None
        if failures >= website_setting(self.env, "lockout_hard_failures"):
            return FOREVER
        minutes = min(
            website_setting(self.env, "lockout_minutes")
            * 2 ** min(failures - threshold, 20),
            website_setting(self.env, "lockout_max_minutes"),
        )
        return timedelta(minutes=minutes)

    @api.model
    def _count_attempt(self, user_id, scope):
        """Count one more attempt on the account's ``scope`` before its password is
        checked, and lock it once there are enough: the attempt that reaches the
        threshold locks it for everyone else at once, and is itself still checked
        (a success unlocks). Run in a transaction of its own.

        :returns: whether the attempt may check its password (False: locked)
        """
        now = fields.Datetime.now()
        self.env.cr.execute(
            SQL(
                """INSERT INTO res_users_login_lockout AS lock
                       (user_id, scope, failures, last_failure_at,
                        create_date, write_date)
                   VALUES (%(user)s, %(scope)s, 1, %(now)s, %(now)s, %(now)s)
                   ON CONFLICT (user_id, scope) DO UPDATE SET
                       failures = lock.failures + 1,
                       last_failure_at = %(now)s, write_date = %(now)s
                    WHERE lock.locked_until IS NULL OR lock.locked_until <= %(now)s
                   RETURNING failures""",
                user=user_id,
                scope=scope,
                now=now,
            )
        )
        row = self.env.cr.fetchone()
        if not row:
            return False  # locked: not counted, and the lock is not extended
        duration = self._lock_duration(row[0])
        if duration:
            self.env.cr.execute(
                SQL(
                    "UPDATE res_users_login_lockout SET locked_until = %s "
                    "WHERE user_id = %s AND scope = %s",
                    now + duration,
                    user_id,
                    scope,
                )
            )
        return True

    @api.model
    def _count_failure(self, user_id, scope):
        """One more failure, counted after its check (RPC by user id, whose checks
        Odoo caches): locks the scope once there are enough."""
        if self._locked_until(user_id, scope):
            return
        self._count_attempt(user_id, scope)

    @api.model
    def _locked_until(self, user_id, scope):
        """When the scope's lockout ends, if it is locked now (read afresh: another
        server may have locked it a moment ago)."""
        self.env.cr.execute(
            SQL(
                "SELECT locked_until FROM res_users_login_lockout "
                "WHERE user_id = %s AND scope = %s AND locked_until > %s",
                user_id,
                scope,
                fields.Datetime.now(),
            )
        )
        row = self.env.cr.fetchone()
        return row[0] if row else None

    @api.model
    def _locked_until_by_user(self, user_ids):
        """{user id: end of its lockout} of the accounts of ``user_ids`` whose login
        page is locked now (what the contact meets, shown on the contact)."""
        self.invalidate_model()  # written in SQL by logins of other transactions
        locks = self.search(
            [
                ("user_id", "in", user_ids),
                ("scope", "=", SCOPE_LOGIN),
                ("locked_until", ">", fields.Datetime.now()),
            ]
        )
        return {lock.user_id.id: lock.locked_until for lock in locks}

    @api.model
    def _succeeded(self, user_id, scope):
        """A right password on the scope: its count starts afresh (the others keep
        theirs: the owner's success in its own browser leaves a guesser locked)."""
        self.env.cr.execute(
            SQL(
                "DELETE FROM res_users_login_lockout WHERE user_id = %s AND scope = %s",
                user_id,
                scope,
            )
        )

    @api.model
    def _forget(self, user_ids):
        """Every count of the accounts starts afresh: a password set (a completed
        reset), or a manager's Unlock."""
        if user_ids:
            self.env.cr.execute(
                SQL(
                    "DELETE FROM res_users_login_lockout WHERE user_id IN %s",
                    tuple(user_ids),
                )
            )

    @api.model
    def _unlock_website_login(self, partners):
        """A Website Login manager's Unlock Login: the contacts may try their
        passwords again; a note on each.

        :returns: the notification that says so
        """
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(
                self.env._("Only Website Login managers may unlock a login.")
            )
        partners.check_access("write")
        users = partners.sudo().website_user_id  # the manager's decision, checked above
        self.sudo()._forget(users.ids)
        partners.invalidate_recordset(["website_login_locked_until"])
        note = escape(
            self.env._("Website login unlocked by %(user)s.", user=self.env.user.name)
        )
        partners._message_log_batch(dict.fromkeys(partners.ids, note))
        return partners._website_notification(
            self.env._("Unlock Login"),
            self.env._(
                "%(contacts)s can log in again now.",
                contacts=", ".join(partners.mapped("display_name")),
            ),
            "success",
        )
