# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Per-account lockout of portal logins, counted in PostgreSQL.

Odoo's own brake, the login cooldown, counts failures per IP address in each server
process's memory: several workers, several servers or an attacker with several
addresses get around it. Here the failures of one portal account are counted in
the database, which every worker and server shares: after ``lockout_failures``
failures within ``lockout_window_minutes``, the account refuses every password for
``lockout_minutes``, doubled at each further failure up to ``lockout_max_minutes``
(website_login_settings.py). A success, or a manager's Unlock, resets it.
"""

from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from .. import compat
from .website_login_settings import website_setting


class ResUsersLoginLockout(models.Model):
    _name = "res.users.login.lockout"
    _description = "Failed portal logins of one account"

    user_id = fields.Many2one("res.users", required=True, ondelete="cascade")
    failures = fields.Integer(required=True, default=0)
    last_failure_at = fields.Datetime(required=True)
    locked_until = fields.Datetime()

    # the lockout's ON CONFLICT (user_id) needs it: 18.0 and 19.0 declare it apart
    # (compat.py); its name in PostgreSQL is the same
    if compat.MODEL_CONSTRAINTS:
        _user_uniq = models.Constraint(
            "unique(user_id)", "One lockout record per user."
        )
    else:
        _sql_constraints = [
            ("user_uniq", "unique(user_id)", "One lockout record per user."),
        ]

    @api.model
    def _locked_until(self, user_id):
        """When the account's lockout ends, if it is locked now (read afresh: another
        server may have locked it a moment ago)."""
        self.env.cr.execute(
            SQL(
                "SELECT locked_until FROM res_users_login_lockout "
                "WHERE user_id = %s AND locked_until > %s",
                user_id,
                fields.Datetime.now(),
            )
        )
        row = self.env.cr.fetchone()
        return row[0] if row else None

    @api.model
    def _locked_until_by_user(self, user_ids):
        """{user id: end of its lockout} of the accounts of ``user_ids`` locked now."""
        self.invalidate_model()  # written in SQL by logins of other transactions
        locks = self.search(
            [("user_id", "in", user_ids), ("locked_until", ">", fields.Datetime.now())]
        )
        return {lock.user_id.id: lock.locked_until for lock in locks}

    @api.model
    def _record_failure(self, user_id):
        """One more failed login on the account; locks it once there are enough.
        Atomic: two servers counting at once both count."""
        now = fields.Datetime.now()
        window = timedelta(minutes=website_setting(self.env, "lockout_window_minutes"))
        self.env.cr.execute(
            SQL(
                """INSERT INTO res_users_login_lockout
                       (user_id, failures, last_failure_at, create_date, write_date)
                   VALUES (%(user)s, 1, %(now)s, %(now)s, %(now)s)
                   ON CONFLICT (user_id) DO UPDATE SET
                       failures = CASE
                           WHEN res_users_login_lockout.last_failure_at < %(start)s
                           THEN 1 ELSE res_users_login_lockout.failures + 1 END,
                       last_failure_at = %(now)s, write_date = %(now)s
                   RETURNING failures""",
                user=user_id,
                now=now,
                start=now - window,
            )
        )
        failures = self.env.cr.fetchone()[0]
        threshold = website_setting(self.env, "lockout_failures")
        if failures >= threshold:
            minutes = min(
                website_setting(self.env, "lockout_minutes")
                * 2 ** min(failures - threshold, 20),
                website_setting(self.env, "lockout_max_minutes"),
            )
            self.env.cr.execute(
                SQL(
                    "UPDATE res_users_login_lockout SET locked_until = %s "
                    "WHERE user_id = %s",
                    now + timedelta(minutes=minutes),
                    user_id,
                )
            )
        return failures

    @api.model
    def _forget(self, user_ids):
        """The accounts start afresh: after a successful login, or an Unlock."""
        if user_ids:
            self.env.cr.execute(
                SQL(
                    "DELETE FROM res_users_login_lockout WHERE user_id IN %s",
                    tuple(user_ids),
                )
            )
