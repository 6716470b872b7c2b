# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The pace at which login mails leave through each outgoing mail server.

The mail server decides the pace: its rate and daily quota (ir_mail_server.py; for
Odoo's server from the configuration file, Settings), or, where none is set, the
rate it turned out to take. A sender books slots here before it sends
(``_book``): evenly spaced at the rate, never more than a second's worth of catch-up
at once (a provider's burst allowance), none past the rolling day's quota. A
throttling answer (421, 454) halves the rate the server is held to (``_throttled``);
every few seconds without one, the rate grows again by a fifth, until it reaches
the configured rate or no limit at all.

Every Odoo process books from the same row per server (read committed, in a
transaction of its own), so a bulk run, a Random Password Mail and a second
server never exceed the pace together. Times are seconds since the epoch, to the
microsecond (a Datetime field keeps whole seconds).
"""

import time
from datetime import datetime, timezone

from odoo import api, fields, models
from odoo.tools import SQL

from .own_transaction import own_transaction
from .website_login_settings import website_setting

# a burst of at most this many seconds' worth of mails after a pause (preparing a
# batch): providers measure their rate over a second or more
CATCH_UP_SECONDS = 0.5
# after a throttling answer the server gets this long before the next mail...
THROTTLE_PAUSE_SECONDS = 1.0
# ...and the rate it is held to grows by RAISE_FACTOR every RAISE_EVERY_SECONDS
# without another one
RAISE_EVERY_SECONDS = 5.0
RAISE_FACTOR = 1.2
# a learned rate never goes below one mail a minute
MIN_RATE_PER_SECOND = 1 / 60
DAY_SECONDS = 24 * 3600


def utc(timestamp):
    """A naive UTC datetime (as Odoo stores them) from seconds since the epoch."""
    return datetime.fromtimestamp(timestamp, timezone.utc).replace(tzinfo=None)


class Slots:
    """Slots booked for ``count`` mails: the first at ``start``, then every
    ``interval`` seconds; ``start`` None when none could be booked (the quota),
    with ``reopens`` the moment the next may be."""

    def __init__(self, start, interval, count, reopens=None):
        self.start = start
        self.interval = interval
        self.count = count
        self.reopens = reopens
        self.used = 0

    def next_at(self):
        """When the next booked mail may go, or None when all are used."""
        if self.start is None or self.used >= self.count:
            return None
        return self.start + self.used * self.interval


class PartnerLoginPace(models.Model):
    _name = "partner.login.pace"
    _description = "Pace of login mails through one outgoing mail server"
    _log_access = False

    # empty: Odoo's server from the configuration file
    mail_server_id = fields.Many2one("ir.mail_server", ondelete="cascade", index=True)
    next_send_at = fields.Float(help="Seconds since the epoch of the next free slot")
    learned_rate = fields.Float(
        help="Mails per second the server took after its last throttling answer "
        "(0: none learned, the configured rate or none holds)"
    )
    throttled_at = fields.Float()
    raised_at = fields.Float()

    def init(self):
        self.env.cr.execute(
            "CREATE UNIQUE INDEX IF NOT EXISTS partner_login_pace_server_uniq "
            "ON partner_login_pace ((COALESCE(mail_server_id, 0)))"
        )

    @api.model
    def _configured(self, env, server_id):
        """(mails per second or None, mails per rolling day or None) as set."""
        if server_id:
            server = env["ir.mail_server"].browse(server_id)
            per_minute, per_day = server.send_rate_per_minute, server.send_quota_per_day
        else:
            per_minute = website_setting(env, "fallback_rate_per_minute")
            per_day = website_setting(env, "fallback_quota_per_day")
        return (per_minute / 60 if per_minute else None), (per_day or None)

    @api.model
    def _row(self, env, server_id):
        """The server's pace row, locked for this transaction (made if missing)."""
        env.cr.execute(
            SQL(
                """INSERT INTO partner_login_pace
                       (mail_server_id, next_send_at, learned_rate, throttled_at,
                        raised_at)
                   VALUES (%s, 0, 0, 0, 0)
                   ON CONFLICT ((COALESCE(mail_server_id, 0))) DO NOTHING""",
                server_id or None,
            )
        )
        env.cr.execute(
            SQL(
                """SELECT id, next_send_at, learned_rate, throttled_at, raised_at
                     FROM partner_login_pace
                    WHERE COALESCE(mail_server_id, 0) = %s FOR UPDATE""",
                server_id or 0,
            )
        )
        return env.cr.fetchone()

    @api.model
    def _rate(self, configured, learned):
        """Mails per second the server is held to now, or None for no limit."""
        rates = [rate for rate in (configured, learned or None) if rate]
        return min(rates) if rates else None

    @api.model
    def _sent_today(self, env, server_id, now):
        """(login mails the server accepted in the last 24 hours, the oldest of
        them's time)."""
        env.cr.execute(
            SQL(
                """SELECT count(*), min(accepted_at)
                     FROM partner_invite_run_line
                    WHERE COALESCE(mail_server_id, 0) = %s AND accepted_at > %s""",
                server_id or 0,
                utc(now - DAY_SECONDS),
            )
        )
        return env.cr.fetchone()

    @api.model
    def _book(self, server_id, count):
        """Book slots for ``count`` mails through the server (``server_id`` False:
        Odoo's server from the configuration file).

        :returns: Slots, possibly fewer than asked for (the quota), possibly none
        """
        with own_transaction(self.env.registry, self.env) as env:
            now = time.time()
            row_id, next_send_at, learned, throttled_at, raised_at = self._row(
                env, server_id
            )
            configured, quota = self._configured(env, server_id)
            if learned and now - max(throttled_at, raised_at) > RAISE_EVERY_SECONDS:
                learned *= RAISE_FACTOR  # try faster again
                raised_at = now
                if configured and learned >= configured:
                    learned = 0.0  # back to the rate as set
            reopens = None
            if quota:
                sent, oldest = self._sent_today(env, server_id, now)
                allowed = max(quota - sent, 0)
                if allowed < count:
                    count = allowed
                    # the day's first mail, sent before or about to be, frees the
                    # first place again 24 hours on
                    first = (
                        oldest.replace(tzinfo=timezone.utc).timestamp()
                        if oldest
                        else now
                    )
                    reopens = first + DAY_SECONDS
            rate = self._rate(configured, learned)
            interval = 1 / rate if rate else 0.0
            start = now
            if rate:
                start = max(next_send_at, now - CATCH_UP_SECONDS)
            elif next_send_at > now:  # a pause after a throttling answer
                start = next_send_at
            if count:
                next_send_at = max(next_send_at, start + count * interval)
            env.cr.execute(
                SQL(
                    """UPDATE partner_login_pace
                          SET next_send_at = %s, learned_rate = %s, raised_at = %s
                        WHERE id = %s""",
                    next_send_at,
                    learned,
                    raised_at,
                    row_id,
                )
            )
        if not count:
            return Slots(None, interval, 0, reopens or now + 60)
        return Slots(start, interval, count, reopens)

    @api.model
    def _release(self, server_id, slots):
        """Give back the slots booked and not used (the step ended first), when no
        one booked after them."""
        unused = slots.count - slots.used
        if not unused or not slots.interval:
            return
        with own_transaction(self.env.registry, self.env) as env:
            end = slots.start + slots.count * slots.interval
            env.cr.execute(
                SQL(
                    """UPDATE partner_login_pace SET next_send_at = %s
                        WHERE COALESCE(mail_server_id, 0) = %s
                          AND abs(next_send_at - %s) < 0.000001""",
                    end - unused * slots.interval,
                    server_id or 0,
                    end,
                )
            )

    @api.model
    def _throttled(self, server_id, sending_rate):
        """The server answered that it takes no more now (421, 454): hold it to
        half the rate it was sent at, after a short pause.

        :param sending_rate: mails per second sent to it just before
        """
        with own_transaction(self.env.registry, self.env) as env:
            now = time.time()
            row_id, next_send_at, learned, _throttled_at, _raised = self._row(
                env, server_id
            )
            configured, _quota = self._configured(env, server_id)
            current = self._rate(configured, learned) or sending_rate
            learned = max(
                min(current, sending_rate or current) / 2, MIN_RATE_PER_SECOND
            )
            env.cr.execute(
                SQL(
                    """UPDATE partner_login_pace
                          SET learned_rate = %s, throttled_at = %s, raised_at = %s,
                              next_send_at = %s
                        WHERE id = %s""",
                    learned,
                    now,
                    now,
                    max(next_send_at, now + THROTTLE_PAUSE_SECONDS),
                    row_id,
                )
            )

    @api.model
    def _held_to(self, server_ids):
        """{server id or False: (mails per minute or None, mails per day or None,
        whether the rate was learned from the server)} for the run form."""
        # sudo: a handful of rows, one per server, shown on the run form
        paces = {pace.mail_server_id.id: pace for pace in self.sudo().search([])}
        held = {}
        for server_id in server_ids:
            configured, quota = self._configured(self.env, server_id)
            learned = paces[server_id].learned_rate if server_id in paces else 0
            rate = self._rate(configured, learned)
            held[server_id] = (
                rate and round(rate * 60, 1),
                quota,
                bool(learned and (not configured or learned < configured)),
            )
        return held

    @api.model
    def _describe(self, server_id, per_minute, per_day, learned):
        """One line of a run's form: the pace a server holds the run to."""
        server = (
            self.env["ir.mail_server"].sudo().browse(server_id).name  # config only
            if server_id
            else self.env._("Odoo's server from the configuration file")
        )
        if not per_minute and not per_day:
            return self.env._("%(server)s: no limit", server=server)
        parts = []
        if per_minute:
            parts.append(
                self.env._(
                    "%(rate)s a minute, learned from its answers",
                    rate=per_minute,
                )
                if learned
                else self.env._("%(rate)s a minute", rate=per_minute)
            )
        if per_day:
            parts.append(self.env._("%(quota)s a day", quota=per_day))
        return f"{server}: {', '.join(parts)}"
