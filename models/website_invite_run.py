# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
import time

from odoo import api, fields, models, modules
from odoo.exceptions import AccessError
from odoo.tools import SQL

from .res_partner import MANAGER_GROUP
from .res_users_temporary_password import CREDENTIAL_KINDS

_logger = logging.getLogger(__name__)

INVITE_TEMPLATE = "partner_website_login.mail_template_website_invite"
WORKER_CRON = "partner_website_login.ir_cron_process_website_invite_batches"
BATCH_SIZE_KEY = "partner_website_login.invite_batch_size"
STEP_SECONDS_KEY = "partner_website_login.invite_step_seconds"
DEFAULT_BATCH_SIZE = 100
# A step of the worker job takes no new contacts after this many seconds: Odoo runs
# up to 10 steps in one pass of its cron worker, which must stay far below the
# cron time limit (--limit-time-real, 120 s by default).
DEFAULT_STEP_SECONDS = 2.5
# Reasons counted at the start of a run, among the Website Enabled contacts.
SKIP_REASONS = (
    "contact_archived",
    "company_archived",
    "invalid_email",
    "internal_user",
    "no_username",
    "login_disabled",
    "already_active",
    "invite_pending",
)


class WebsiteInviteRun(models.Model):
    """One run of "Send Bulk Website Invite": the work it does and what came of it.

    The scheduled action, its "Run Manually" and the Settings button only open a run;
    the worker job (always active, woken by a trigger) invites in committed batches,
    so no browser request waits and an inactive schedule still gets its run done.
    """

    _name = "website.invite.run"
    _description = "Bulk website invite run"
    _order = "id desc"

    name = fields.Char(compute="_compute_name")
    state = fields.Selection(
        [("running", "Running"), ("done", "Done")],
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
        default=lambda self: self.env[
            "res.users.temporary.password"
        ]._credential_mode(),
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
    failure_details = fields.Text(readonly=True)
    # resumption point: contacts are invited in id order, each batch committed with it
    last_partner_id = fields.Integer(readonly=True)
    skipped_contact_archived = fields.Integer(string="Contact archived", readonly=True)
    skipped_company_archived = fields.Integer(string="Company archived", readonly=True)
    skipped_invalid_email = fields.Integer(string="No valid email", readonly=True)
    skipped_internal_user = fields.Integer(string="Internal user", readonly=True)
    skipped_no_username = fields.Integer(string="No username", readonly=True)
    skipped_login_disabled = fields.Integer(string="Allow Login off", readonly=True)
    skipped_already_active = fields.Integer(string="Already active", readonly=True)
    skipped_invite_pending = fields.Integer(string="Invite pending", readonly=True)

    @api.depends("started_at")
    def _compute_name(self):
        for run in self:
            run.name = self.env._(
                "Bulk website invite of %(date)s", date=run.started_at
            )

    # ------------------------------------------------------------------ start

    @api.model
    def action_start(self):
        """Open a run (or keep the one under way) and wake the worker job."""
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
            counts = self._count_contacts(self._company_domain(companies))
            run = self.sudo().create({**counts, "company_ids": companies.ids})
        self.env.ref(WORKER_CRON).sudo()._trigger()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Send Bulk Website Invite"),
                "message": self.env._(
                    "%(count)s contacts will be invited in the background; the run "
                    "record shows the outcome.",
                    count=run.eligible_count,
                ),
                "type": "info",
                "sticky": False,
            },
        }

    @api.model
    def _company_domain(self, companies):
        if not companies:
            return []
        return ["|", ("company_id", "=", False), ("company_id", "in", companies.ids)]

    @api.model
    def _count_contacts(self, company_domain=()):
        # sudo: counted as the run will see them, whatever the starter may read
        partners = self.env["res.partner"].sudo().with_context(active_test=False)
        partners._mark_expired_website_invites()
        population = [("website_enabled", "=", True), *company_domain]
        counts = {}
        for reason, _message, domain in partners._website_login_rules(bulk=True):
            if reason in SKIP_REASONS:
                counts[f"skipped_{reason}"] = partners.search_count(
                    population + ["!"] + domain
                )
            population = population + domain
        counts["eligible_count"] = partners.search_count(population)
        return counts

    # ------------------------------------------------------------------ batches

    @api.model
    def _cron_process_batch(self):
        """One time-boxed step of the open run: invites and delivers in committed
        batches until the step's time is up; ir.cron calls again while any remain."""
        run = self.search([("state", "=", "running")], order="id", limit=1)
        if not run or not run._lock():
            return
        taken, finished = run._step()
        if finished:
            run.write({"state": "done", "ended_at": fields.Datetime.now()})
        # an estimate: counting what remains would scan every contact at each step
        remaining = 0 if finished else max(run.eligible_count - run.invited_count, 1)
        self.env["ir.cron"]._notify_progress(done=taken, remaining=remaining)
        if remaining:
            # wake the cron worker at once after this pass, not at its next poll
            self.env.ref(WORKER_CRON).sudo()._trigger()

    def _step(self):
        """Invite batches of contacts until the step's time is up.

        :returns: (how many contacts the step took, whether none are left)
        """
        self.ensure_one()
        get_param = self.env["ir.config_parameter"].sudo().get_param
        size = max(int(get_param(BATCH_SIZE_KEY, DEFAULT_BATCH_SIZE) or 1), 1)
        seconds = float(get_param(STEP_SECONDS_KEY, DEFAULT_STEP_SECONDS) or 1)
        started = time.monotonic()
        deadline = started + seconds
        self._recover_interrupted_step()
        partners = self.env["res.partner"]
        domain = partners._website_invite_domain() + self._company_domain(
            self.company_ids
        )
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
                    if not self._lock():
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
        left = self.env["res.users.temporary.password"]._left_sending(self)
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

    def _lock(self):
        """Only one worker at a time on a run (two Odoo servers, one database)."""
        self.env.cr.execute(
            SQL(
                "SELECT id FROM website_invite_run WHERE id = %s "
                "FOR NO KEY UPDATE SKIP LOCKED",
                self.id,
            )
        )
        return bool(self.env.cr.fetchone())

    def _invite(self, partners, deadline=None, sessions=None):
        """Issue passwords or links to ``partners`` and deliver their mails."""
        self.ensure_one()
        collisions = partners._website_login_collisions()
        to_invite = partners.filtered(lambda partner: partner.id not in collisions)
        # committed with the credentials: a crash later is recovered from them
        self.write({"last_partner_id": max(partners.ids)})
        outcome = self.env["partner.login.mailer"]._deliver(
            to_invite,
            partners._website_mail_template(INVITE_TEMPLATE),
            self.credential_mode or "password",
            run=self,
            deadline=deadline,
            sessions=sessions,
            auto_commit=self._auto_commit(),
        )
        failures = [
            f"{partners.browse(partner_id).name}: {reason}"
            for partner_id, (_type, reason) in outcome.failed.items()
        ]
        if collisions:
            failures.append(
                self.env._(
                    "login already used by another user: %(logins)s",
                    logins=", ".join(collisions.values()),
                )
            )
        values = {"invited_count": self.invited_count + len(outcome.sent)}
        if outcome.unsent:  # the deadline came first: the next step takes them
            values["last_partner_id"] = min(outcome.unsent.ids) - 1
        if failures:
            values["failed_count"] = (
                self.failed_count + len(outcome.failed) + len(collisions)
            )
            values["failure_details"] = self._append_failure("\n".join(failures))
        self.sudo().write(values)
        _logger.info(
            "Bulk website invite: %s delivered, %s failed, %s left for the next step",
            len(outcome.sent),
            len(outcome.failed) + len(collisions),
            len(outcome.unsent),
        )
        return outcome

    def _append_failure(self, text):
        return "\n".join(filter(None, [self.failure_details, text]))
