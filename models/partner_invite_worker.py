# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The one orchestrator of sending: a run's mails sent in the caller's request
(``_send_now``: Random Password Mail, a key user), and the worker job's time-boxed
steps over the running runs, each delivering committed batches (retries that are
due, then a bulk run's next contacts) at the pace of each mail server. It calls
down: the delivery sends (partner_login_delivery.py) and the outcome owner applies
what came of it (partner_invite_outcome.py)."""

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
RANDOM_PASSWORD_TEMPLATE = "partner_website_login.mail_template_random_password"
# A run whose step raised this many times in a row ends as Failed; between tries
# the worker waits STEP_ERROR_RETRY_MINUTES.
MAX_STEP_ERRORS = 3
STEP_ERROR_RETRY_MINUTES = 1


class PartnerInviteWorker(models.AbstractModel):
    _name = "partner.invite.worker"
    _description = "Website invite worker job"

    @api.model
    def _start_bulk(self):
        """The bulk run under way, or a new one of the starter's companies (every
        company for the scheduler), its population counted, and the worker job
        woken for it.

        :returns: the run (in sudo), or None when nobody is to be invited now
        """
        # sudo: runs are written by the addon only; managers merely read them
        runs = self.env["partner.invite.run"].sudo()
        run = runs.search([("state", "=", "running"), ("origin", "=", "bulk")], limit=1)
        if not run:
            # lapsed invites first: their contacts are eligible again
            self.env["partner.login.credential"]._cron_expire()
            # the scheduler runs as the superuser: every company
            companies = self.env.user.company_ids
            if self.env.su:
                companies = self.env["res.company"].sudo().search([])
            if not self._eligible_now(companies):
                return None
            run = runs.create({"company_ids": companies.ids})
            run._count_contacts()
            run._notify_managers()
        self._wake()
        return run

    @api.model
    def _eligible_now(self, companies):
        """Whether a run of ``companies`` would invite anybody now."""
        domain = self.env["partner.login.eligibility"]._invite_domain()
        runs = self.env["partner.invite.run"]
        # sudo: counted as the run would count them, whatever the starter may read
        return bool(
            self.env["res.partner"]
            .sudo()
            .with_context(active_test=False)  # as the run searches them
            .search_count(domain + runs._company_domain(companies), limit=1)
        )

    @api.model
    def _send_now(
        self,
        partners,
        reviewed=None,
        credential_mode=None,
        key_user=None,
        left_out=None,
        checked=False,
    ):
        """A Random Password Mail to ``partners``, sent in the caller's request: a
        run of its own with a line per contact, delivered at once; what the server
        asks to try again later, the worker job sends. The one way a mail is sent
        outside the worker job (the Random Password Mail window, a key user).

        :param reviewed: {"subject", "body_html", "placeholder"} the operator edited
        :param key_user: the customer's Website Administrator who asked for it from
            the portal (the same mail, from the company's address)
        :param left_out: {(rule, why): contact ids} the caller left out, listed
            as the run's skipped lines
        :param checked: the caller has just applied the eligibility rules of its
            path to ``partners`` (partner.login.eligibility._refusals)
        :returns: (the run, what came of each mail: a DeliveryOutcome)
        """
        companies = self.env.user.company_ids
        # sudo: runs are written by the addon only; the caller checked the rights
        run = (
            self.env["partner.invite.run"]
            .sudo()
            .create(
                {
                    "origin": "key_user" if key_user else "manual",
                    "key_user_id": key_user.id if key_user else False,
                    "mail_template_id": self.env.ref(RANDOM_PASSWORD_TEMPLATE).id,
                    "credential_mode": credential_mode
                    or self.env["partner.login.credential"]._credential_mode(),
                    "company_ids": companies.ids,
                    "eligible_count": len(partners),
                    "all_taken": True,
                    "reviewed_subject": (reviewed or {}).get("subject"),
                    "reviewed_body": (reviewed or {}).get("body_html"),
                    "reviewed_placeholder": (reviewed or {}).get("placeholder"),
                }
            )
        )
        outcomes = self.env["partner.invite.outcome"]
        if left_out:
            skipped = outcomes._create_skipped(run, left_out)
            run.skipped_count = len(skipped)
        lines = outcomes._create_sending(run, partners)
        outcome = self.env["partner.login.delivery"]._deliver(lines, checked=checked)
        outcomes._apply(run, lines, outcome)
        self._wake(run)
        return run.with_env(self.env), outcome

    @api.model
    def _wake(self, run=None):
        """The worker job takes what ``run`` left to try again (ending the run when
        nothing is left), or, without a run, looks for work now."""
        if run is None:
            self.env.ref(WORKER_CRON).sudo()._trigger()
            return
        next_at = run.sudo()._next_work_at()
        if next_at is None:
            run.sudo().write({"state": "done", "ended_at": fields.Datetime.now()})
        else:
            self.env.ref(WORKER_CRON).sudo()._trigger(utc(next_at))

    @api.model
    def _cron_process_batch(self):
        """One time-boxed step of the worker job over the running runs: retries that
        are due, then new contacts of a bulk run, in committed batches, at the pace
        of each mail server, until the step's time is up. The job is triggered
        again at once while there is work now, else for the moment there is."""
        deadline = time.monotonic() + website_setting(self.env, "invite_step_seconds")
        taken, wake_at = 0, []
        runs = self.env["partner.invite.run"].sudo()  # the addon's own records
        self._settle_ended(runs)
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
    def _settle_ended(self, runs):
        """Lines a run that ended left "sending" (Cancel Run pressed between a
        step's commits, a step that failed for the last time) are settled as after
        a crash: no credential stays live that no mail carried."""
        for run in runs.search(
            [("state", "!=", "running"), ("line_ids.outcome", "=", "sending")]
        ):
            if run._lock():
                self.env["partner.invite.outcome"]._recover(run)

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
        # the next pass tries the step again, or settles what the failed run left
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
        partners, cursor, all_taken = self.env[
            "partner.login.eligibility"
        ]._next_invitees(
            run._company_domain(run.company_ids), run.last_partner_id, size
        )
        values = {"last_partner_id": cursor}
        if all_taken:
            values["all_taken"] = True
        run.write(values)  # committed with the batch's credentials
        return outcomes._create_sending(run, partners)

    @api.model
    def _auto_commit(self):
        # each batch is committed, except inside tests, which run in one transaction
        return not modules.module.current_test

    @api.model
    def _cancelled(self, run):
        run.invalidate_recordset(["state"])
        return run.state != "running"
