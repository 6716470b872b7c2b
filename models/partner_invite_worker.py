# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The worker job: time-boxed steps over the running runs, each delivering committed
batches (retries that are due, then a bulk run's next contacts) at the pace of each
mail server. It orchestrates; the delivery sends (partner_login_delivery.py) and the
outcome owner applies what came of it (partner_invite_outcome.py)."""

import logging
import time
from datetime import timedelta

from odoo import api, fields, models, modules

from .. import compat
from .partner_login_delivery import MAX_PACING_SLEEP, RunTakenOver
from .partner_login_pace import utc
from .website_login_settings import website_setting

_logger = logging.getLogger(__name__)

WORKER_CRON = "partner_website_login.ir_cron_process_website_invite_batches"
# A run whose step raised this many times in a row ends as Failed; between tries
# the worker waits STEP_ERROR_RETRY_MINUTES.
MAX_STEP_ERRORS = 3
STEP_ERROR_RETRY_MINUTES = 1
# a batch's rules are checked on this many ids of the primary key at a time
# (times the batch size, at least the minimum): see _next_contacts
CANDIDATE_SLICE_FACTOR = 10
MIN_CANDIDATE_SLICE = 2000


class PartnerInviteWorker(models.AbstractModel):
    _name = "partner.invite.worker"
    _description = "Website invite worker job"

    @api.model
    def _cron_process_batch(self):
        """One time-boxed step of the worker job over the running runs: retries that
        are due, then new contacts of a bulk run, in committed batches, at the pace
        of each mail server, until the step's time is up. The job is triggered
        again at once while there is work now, else for the moment there is."""
        deadline = time.monotonic() + website_setting(self.env, "invite_step_seconds")
        taken, wake_at = 0, []
        runs = self.env["partner.invite.run"].sudo()  # the addon's own records
        for run in runs.search([("state", "=", "running")], order="id"):
            if time.monotonic() >= deadline and taken:
                wake_at.append(time.time())
                break
            if not run._lock():
                continue
            try:
                if self._auto_commit():
                    done, next_at = self._step(run, deadline)
                else:  # tests: one transaction, which a savepoint keeps usable
                    with self.env.cr.savepoint():
                        done, next_at = self._step(run, deadline)
            except RunTakenOver:
                self.env.cr.rollback()  # the other worker recovers what is left
                continue
            except Exception as error:  # noqa: BLE001 - any error of a step ends here
                if self._auto_commit():
                    self.env.cr.rollback()  # what the step did not commit is undone
                self._record_step_error(run, error)
                continue
            taken += done
            if next_at is not None:
                wake_at.append(next_at)
        now = time.time()
        soonest = min(wake_at) if wake_at else None
        # work within a moment: the next step starts at once and waits for it
        # (Odoo's scheduler looks at later triggers only about once a minute)
        soon = soonest is not None and soonest <= now + MAX_PACING_SLEEP
        compat.cron_progress(self.env, taken, int(soon), self._auto_commit())
        if soonest is not None:
            self.env.ref(WORKER_CRON).sudo()._trigger(None if soon else utc(soonest))

    @api.model
    def _record_step_error(self, run, error):
        """Keep the error on the run; try the step again a minute later, or end the
        run as Failed after MAX_STEP_ERRORS in a row. The worker job itself never
        fails, so Odoo never deactivates it and later runs still get done."""
        _logger.exception("Website login run %s: a step failed", run.id)
        count = run.error_count + 1
        values = {"error_count": count, "last_error": str(error)}
        if count >= MAX_STEP_ERRORS:
            values.update(state="failed", ended_at=fields.Datetime.now())
        run.write(values)
        if count < MAX_STEP_ERRORS:
            self.env.ref(WORKER_CRON).sudo()._trigger(
                fields.Datetime.now() + timedelta(minutes=STEP_ERROR_RETRY_MINUTES)
            )

    @api.model
    def _step(self, run, deadline):
        """Deliver batches of this run until the step's time is up, the pace holds
        it back, or nothing is due.

        :returns: (how many lines the step took, when the run has work next: None
            once it is done)
        """
        size = website_setting(self.env, "invite_batch_size")
        self.env["partner.invite.outcome"]._recover(run)
        delivery = self.env["partner.login.delivery"]
        sessions = {}  # one SMTP connection per step and server
        layouts = {}  # the mail's layout, rendered once per step (and company)
        taken, held_until = 0, None
        seconds_per_line = None  # what a batch of this step took, per line
        try:
            while True:
                started = time.monotonic()
                batch_size = self._batch_size_within(size, seconds_per_line, deadline)
                if not batch_size:
                    break
                lines = self._next_batch(run, batch_size)
                if not lines:
                    # work due in a moment (a retry after a pause): wait for it here,
                    # Odoo's scheduler would look again only a minute later
                    next_at = run._next_work_at()
                    if not self._may_wait_for(next_at, deadline):
                        break
                    time.sleep(max(next_at - time.time(), 0))
                    continue
                taken += len(lines)
                outcome = delivery._deliver(
                    lines,
                    deadline,
                    sessions,
                    auto_commit=self._auto_commit(),
                    layouts=layouts,
                )
                self.env["partner.invite.outcome"]._apply(run, lines, outcome)
                run._notify_managers()  # sent with the batch's commit
                if self._auto_commit():
                    # each batch's outcome is kept whatever happens to later ones
                    self.env.cr.commit()  # pylint: disable=invalid-commit
                    if not run._lock() or self._cancelled(run):
                        return taken, None
                if not outcome.untried:  # the whole batch: its lines, mails, commit
                    seconds_per_line = (time.monotonic() - started) / len(lines)
                if time.monotonic() >= deadline:
                    break
                if outcome.untried and not self._may_wait_for(
                    outcome.wait_until, deadline
                ):
                    held_until = outcome.wait_until  # the pace or the quota
                    break
        finally:
            self.env["partner.login.mailer"]._close_sessions(sessions)
        values = {"error_count": 0} if run.error_count else {}
        next_at = run._next_work_at(held_until)
        if next_at is None:
            values.update(state="done", ended_at=fields.Datetime.now())
            run._notify_managers()
        if values:
            run.write(values)
        return taken, next_at

    @api.model
    def _batch_size_within(self, size, seconds_per_line, deadline):
        """How many lines the next batch of a step takes: ``size`` when a whole
        batch still fits in the step's time at the pace of its previous batch (the
        first always), else 0. Never a shorter batch and no margin: a batch and a
        step each have a fixed cost, and a batch that overruns only leaves its last
        mails to the next step."""
        if seconds_per_line is None:
            return size
        left = deadline - time.monotonic()
        return size if left >= seconds_per_line * size else 0

    @api.model
    def _may_wait_for(self, moment, deadline):
        """Whether the step may sleep until ``moment`` (seconds since the epoch)."""
        if moment is None:
            return False
        wait = moment - time.time()
        return wait <= MAX_PACING_SLEEP and time.monotonic() + wait < deadline

    @api.model
    def _next_batch(self, run, size):
        """Lines to deliver now, marked "sending": retries that are due first, then
        the next contacts of a bulk run (in id order, from the run's cursor)."""
        outcomes = self.env["partner.invite.outcome"]
        lines = self.env["partner.invite.run.line"].sudo()
        due = lines.search(
            [
                ("run_id", "=", run.id),
                ("outcome", "=", "waiting"),
                ("next_attempt_at", "<=", utc(time.time())),  # to the microsecond
            ],
            order="next_attempt_at, id",
            limit=size,
        )
        if due:
            return outcomes._mark_sending(due)
        if run.origin != "bulk" or run.all_taken:
            return lines
        partners, cursor, all_taken = self._next_contacts(run, size)
        values = {"last_partner_id": cursor}
        if all_taken:
            values["all_taken"] = True
        run.write(values)  # committed with the batch's credentials
        return outcomes._create_sending(run, partners)

    @api.model
    def _next_contacts(self, run, size):
        """The next ``size`` eligible contacts after the run's cursor, in id order.

        The rules are checked on a slice of ids of the primary key at a time: in
        one query PostgreSQL misjudges how many contacts pass the (correlated)
        rules and sorts every eligible contact left, so that a run's batches would
        cost its size squared.

        :returns: (contacts, the new cursor, whether no contact is left after it)
        """
        domain = [
            *self.env["partner.login.eligibility"]._invite_domain(),
            *run._company_domain(run.company_ids),
        ]
        # active_test off: the rules' own "active" conditions decide, and their
        # subqueries see archived users too (an archived employee's contact)
        partners = self.env["res.partner"].with_context(active_test=False)
        found = partners.browse()
        cursor = run.last_partner_id
        slice_size = max(size * CANDIDATE_SLICE_FACTOR, MIN_CANDIDATE_SLICE)
        while len(found) < size:
            slice_ids = partners.search(
                [("id", ">", cursor)], order="id", limit=slice_size
            ).ids
            if not slice_ids:
                return found, cursor, True
            wanted = size - len(found)
            passing = partners.search(
                [("id", "in", slice_ids), *domain], order="id", limit=wanted
            )
            found |= passing
            if len(passing) == wanted:  # the slice's later ids stay for next time
                return found, passing.ids[-1], False
            cursor = slice_ids[-1]
            if len(slice_ids) < slice_size:
                return found, cursor, True
        return found, cursor, False

    @api.model
    def _auto_commit(self):
        # each batch is committed, except inside tests, which run in one transaction
        return not modules.module.current_test

    @api.model
    def _cancelled(self, run):
        run.invalidate_recordset(["state"])
        return run.state != "running"
