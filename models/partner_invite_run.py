# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
import time
from datetime import timedelta

from odoo import api, fields, models, modules
from odoo.exceptions import AccessError
from odoo.tools import SQL

from .. import compat
from .partner_login_credential import CREDENTIAL_KINDS
from .website_login_settings import MANAGER_GROUP, website_setting

_logger = logging.getLogger(__name__)

INVITE_TEMPLATE = "partner_website_login.mail_template_website_invite"
WORKER_CRON = "partner_website_login.ir_cron_process_website_invite_batches"
RUNS_ACTION = "partner_website_login.partner_invite_run_action"
# A run whose step raised this many times in a row ends as Failed; between tries
# the worker waits RETRY_MINUTES.
MAX_STEP_ERRORS = 3
RETRY_MINUTES = 1
# The eligibility rule that picks the run's population instead of skipping it.
POPULATION_RULE = "website_disabled"


class PartnerInviteRun(models.Model):
    """One run of "Send Bulk Website Invite": the work it does and what came of it.

    The scheduled action, its "Run Manually" and the Settings button only open a run;
    the worker job (always active, woken by a trigger) invites in committed batches,
    so no browser request waits and an inactive schedule still gets its run done.
    """

    _name = "partner.invite.run"
    _description = "Bulk website invite run"
    _order = "id desc"

    name = fields.Char(compute="_compute_name")
    state = fields.Selection(
        [
            ("running", "Running"),
            ("done", "Done"),
            ("failed", "Failed"),
            ("cancelled", "Cancelled"),
        ],
        default="running",
        required=True,
        readonly=True,
        index=True,
    )
    started_at = fields.Datetime(default=fields.Datetime.now, readonly=True)
    ended_at = fields.Datetime(readonly=True)
    started_by_id = fields.Many2one(
        "res.users", default=lambda self: self.env.user, readonly=True
    )
    credential_mode = fields.Selection(
        CREDENTIAL_KINDS,
        string="Mails carry",
        default=lambda self: self.env["partner.login.credential"]._credential_mode(),
        readonly=True,
    )
    # started by a manager: only contacts of the companies they may act on (and
    # contacts shared by all companies); started by the scheduler: every company
    company_ids = fields.Many2many(
        "res.company", string="Companies", readonly=True, help="Empty: all companies."
    )
    eligible_count = fields.Integer(string="Eligible", readonly=True)
    invited_count = fields.Integer(string="Invited", readonly=True)
    failed_count = fields.Integer(string="Failed", readonly=True)
    skipped_count = fields.Integer(string="Skipped", readonly=True)
    # one line per eligibility rule, counted from the run's lines: a new rule in
    # partner_login_eligibility.py shows here without a field of its own
    skipped_summary = fields.Text(
        string="Skipped, by reason", compute="_compute_skipped_summary"
    )
    duration = fields.Char(compute="_compute_duration")
    line_ids = fields.One2many("partner.invite.run.line", "run_id", string="Contacts")
    # a step that raises is tried again; after MAX_STEP_ERRORS in a row the run
    # ends as Failed (Odoo would otherwise deactivate the worker job itself)
    error_count = fields.Integer(readonly=True)
    last_error = fields.Text(readonly=True)
    # resumption point: contacts are invited in id order, each batch committed with it
    last_partner_id = fields.Integer(readonly=True)

    def _skipped_by_rule(self):
        """{rule: (message, count)} of the contacts the run skipped."""
        self.ensure_one()
        groups = self.env["partner.invite.run.line"]._read_group(
            [("run_id", "=", self.id), ("outcome", "=", "skipped")],
            ["rule", "reason"],
            ["__count"],
        )
        return {rule: (reason, count) for rule, reason, count in groups}

    @api.depends("skipped_count")
    def _compute_skipped_summary(self):
        for run in self:
            run.skipped_summary = "\n".join(
                f"{count}: {message}"
                for message, count in sorted(run._skipped_by_rule().values())
            )

    @api.depends("started_at", "ended_at")
    def _compute_duration(self):
        now = fields.Datetime.now()
        for run in self:
            seconds = int(((run.ended_at or now) - run.started_at).total_seconds())
            minutes, seconds = divmod(max(seconds, 0), 60)
            run.duration = (
                self.env._(
                    "%(minutes)s min %(seconds)s s", minutes=minutes, seconds=seconds
                )
                if minutes
                else self.env._("%(seconds)s s", seconds=seconds)
            )

    @api.depends("started_at")
    def _compute_name(self):
        for run in self:
            run.name = self.env._(
                "Bulk website invite of %(date)s", date=run.started_at
            )

    # ------------------------------------------------------------------ start

    def action_start(self):
        """Open a run (or keep the one under way) and wake the worker job. Not an
        api.model method: the run list's header button calls it on the selection
        (empty when nothing is selected)."""
        if not (self.env.su or self.env.user.has_group(MANAGER_GROUP)):
            raise AccessError(
                self.env._("Only Website Login managers may send the invite.")
            )
        # sudo: runs are written by the addon only; managers merely read them
        run = self.sudo().search([("state", "=", "running")], limit=1)
        if not run:
            companies = self.env["res.company"]
            if not self.env.su:  # the scheduler runs as the superuser
                companies = self.env.user.company_ids
            run = self.sudo().create({"company_ids": companies.ids})
            run._count_contacts()
        self.env.ref(WORKER_CRON).sudo()._trigger()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Send Bulk Website Invite"),
                # %s: the link to the run, which the web client puts in
                "message": self.env._(
                    "%(count)s contacts will be invited in the background: see %%s.",
                    count=run.eligible_count,
                ),
                "links": [
                    {
                        "label": run.name,
                        "url": f"/odoo/action-{RUNS_ACTION}/{run.id}",
                    }
                ],
                "type": "info",
                "sticky": False,
            },
        }

    def action_cancel(self):
        """Stop a running run: the contacts not invited yet are left alone."""
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(
                self.env._("Only Website Login managers may cancel a run.")
            )
        running = self.sudo().filtered(lambda run: run.state == "running")
        running.write({"state": "cancelled", "ended_at": fields.Datetime.now()})
        return True

    @api.model
    def _company_domain(self, companies):
        if not companies:
            return []
        return ["|", ("company_id", "=", False), ("company_id", "in", companies.ids)]

    def _count_contacts(self):
        """The run's starting figures, and a line for each Website Enabled contact
        it leaves out, with the first rule the contact fails."""
        self.ensure_one()
        # sudo: counted as the run will see them, whatever the starter may read
        partners = self.env["res.partner"].sudo().with_context(active_test=False)
        self.env["partner.login.credential"]._cron_expire()
        population = [
            ("website_enabled", "=", True),
            *self._company_domain(self.company_ids),
        ]
        lines = []
        eligibility = self.env["partner.login.eligibility"]
        for rule, message, domain in eligibility._rules(bulk=True):
            if rule != POPULATION_RULE:
                lines += [
                    {
                        "run_id": self.id,
                        "partner_id": partner_id,
                        "outcome": "skipped",
                        "rule": rule,
                        "reason": message,
                    }
                    for partner_id in partners.search(population + ["!"] + domain).ids
                ]
            population = population + domain
        self.write(
            {
                "eligible_count": partners.search_count(population),
                "skipped_count": len(lines),
            }
        )
        self.env["partner.invite.run.line"].sudo().create(lines)

    # ------------------------------------------------------------------ batches

    @api.model
    def _cron_process_batch(self):
        """One time-boxed step of the open run: invites and delivers in committed
        batches until the step's time is up; ir.cron calls again while any remain."""
        run = self.search([("state", "=", "running")], order="id", limit=1)
        if not run or not run._lock():
            return
        try:
            if self._auto_commit():
                taken, finished = run._step()
            else:  # tests: one transaction, which a savepoint keeps usable
                with self.env.cr.savepoint():
                    taken, finished = run._step()
        except Exception as error:  # noqa: BLE001 - any error of a step ends here
            if self._auto_commit():
                self.env.cr.rollback()  # what the step did not commit is undone
            run._record_step_error(error)
            return
        values = {"error_count": 0} if run.error_count else {}
        if finished:
            values.update(state="done", ended_at=fields.Datetime.now())
        if values:
            run.write(values)
        # an estimate: counting what remains would scan every contact at each step
        remaining = 0 if finished else max(run.eligible_count - run.invited_count, 1)
        compat.cron_progress(self.env, taken, remaining, self._auto_commit())
        if remaining:
            # wake the cron worker at once after this pass, not at its next poll
            self.env.ref(WORKER_CRON).sudo()._trigger()

    def _record_step_error(self, error):
        """Keep the error on the run; try the step again a minute later, or end the
        run as Failed after MAX_STEP_ERRORS in a row. The worker job itself never
        fails, so Odoo never deactivates it and later runs still get done."""
        _logger.exception("Bulk website invite: a step of run %s failed", self.id)
        count = self.error_count + 1
        values = {"error_count": count, "last_error": str(error)}
        if count >= MAX_STEP_ERRORS:
            values.update(state="failed", ended_at=fields.Datetime.now())
        self.write(values)
        if count < MAX_STEP_ERRORS:
            self.env.ref(WORKER_CRON).sudo()._trigger(
                fields.Datetime.now() + timedelta(minutes=RETRY_MINUTES)
            )

    def _step(self):
        """Invite batches of contacts until the step's time is up.

        :returns: (how many contacts the step took, whether none are left)
        """
        self.ensure_one()
        size = website_setting(self.env, "invite_batch_size")
        seconds = website_setting(self.env, "invite_step_seconds")
        started = time.monotonic()
        deadline = started + seconds
        self._recover_interrupted_step()
        partners = self.env["res.partner"]
        domain = self.env[
            "partner.login.eligibility"
        ]._invite_domain() + self._company_domain(self.company_ids)
        sessions = {}  # one SMTP connection per step and server
        taken = 0
        finished = False
        batch_seconds = 0.0
        try:
            # the first batch always: every step moves the run forward
            while not taken or time.monotonic() + batch_seconds < deadline:
                batch_started = time.monotonic()
                batch = partners.search(
                    [("id", ">", self.last_partner_id)] + domain, order="id", limit=size
                )
                if not batch:
                    finished = True
                    break
                taken += len(batch)
                self._invite(batch, deadline, sessions)
                # a short batch that all went (no contact left for a later step)
                finished = len(batch) < size and self.last_partner_id == max(batch.ids)
                if self._auto_commit():
                    # each batch's outcome is kept whatever happens to later ones
                    self.env.cr.commit()  # pylint: disable=invalid-commit
                    if not self._lock() or self._cancelled():
                        break
                batch_seconds = time.monotonic() - batch_started
                if finished:
                    break
        finally:
            self.env["partner.login.mailer"]._close_sessions(sessions)
        return taken, finished

    @api.model
    def _auto_commit(self):
        # each batch is committed, except inside tests, which run in one transaction
        return not modules.module.current_test

    def _recover_interrupted_step(self):
        """A step that crashed while sending left credentials "sending": nobody
        knows whether their mails went out, so they are revoked and those contacts
        invited again (at most one batch is mailed twice, nobody is lost)."""
        left = self.env["partner.login.credential"]._left_sending(self)
        if not left:
            return
        partners = left.user_id.partner_id
        _logger.warning(
            "Bulk website invite: a step was interrupted; %s contacts are invited "
            "again",
            len(partners),
        )
        left._revoke()
        self.write(
            {"last_partner_id": min(self.last_partner_id, min(partners.ids) - 1)}
        )

    def _cancelled(self):
        self.invalidate_recordset(["state"])
        return self.state != "running"

    def _lock(self):
        """Only one worker at a time on a run (two Odoo servers, one database)."""
        self.env.cr.execute(
            SQL(
                "SELECT id FROM partner_invite_run WHERE id = %s "
                "FOR NO KEY UPDATE SKIP LOCKED",
                self.id,
            )
        )
        return bool(self.env.cr.fetchone())

    def _invite(self, partners, deadline=None, sessions=None):
        """Issue passwords or links to ``partners`` and deliver their mails."""
        self.ensure_one()
        collisions = self.env["res.users"]._website_login_collisions(partners)
        to_invite = partners.filtered(lambda partner: partner.id not in collisions)
        # committed with the credentials: a crash later is recovered from them
        self.write({"last_partner_id": max(partners.ids)})
        outcome = self.env["partner.login.mailer"]._deliver(
            to_invite,
            self.env["partner.login.mail"]._template(INVITE_TEMPLATE),
            self.credential_mode or "password",
            run=self,
            deadline=deadline,
            sessions=sessions,
            auto_commit=self._auto_commit(),
        )
        failures = {
            partner_id: reason for partner_id, (_type, reason) in outcome.failed.items()
        }
        for partner_id, login in collisions.items():
            failures[partner_id] = self.env._(
                "The login %(login)s already belongs to another user: give the "
                "contact a username.",
                login=login,
            )
        values = {"invited_count": self.invited_count + len(outcome.sent)}
        if outcome.unsent:  # the deadline came first: the next step takes them
            values["last_partner_id"] = min(outcome.unsent.ids) - 1
        if failures:
            values["failed_count"] = self.failed_count + len(failures)
        self.sudo().write(values)
        self.env["partner.invite.run.line"].sudo().create(
            [
                {"run_id": self.id, "partner_id": partner_id, "outcome": "invited"}
                for partner_id in outcome.sent.ids
            ]
            + [
                {
                    "run_id": self.id,
                    "partner_id": partner_id,
                    "outcome": "failed",
                    "reason": reason,
                }
                for partner_id, reason in failures.items()
            ]
        )
        _logger.info(
            "Bulk website invite: %s delivered, %s failed, %s left for the next step",
            len(outcome.sent),
            len(outcome.failed) + len(collisions),
            len(outcome.unsent),
        )
        return outcome
