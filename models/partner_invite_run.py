# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
import time
from datetime import timedelta, timezone

from markupsafe import Markup

from odoo import Command, api, fields, models, modules
from odoo.exceptions import AccessError
from odoo.tools import SQL

from .. import compat
from .partner_login_credential import CREDENTIAL_KINDS
from .partner_login_delivery import MAX_PACING_SLEEP
from .partner_login_eligibility import ROUTINE_RULES
from .partner_login_mail import one_line
from .partner_login_pace import utc
from .website_login_settings import MANAGER_GROUP, website_setting

_logger = logging.getLogger(__name__)

INVITE_TEMPLATE = "partner_website_login.mail_template_website_invite"
RANDOM_PASSWORD_TEMPLATE = "partner_website_login.mail_template_random_password"
WORKER_CRON = "partner_website_login.ir_cron_process_website_invite_batches"
# A run whose step raised this many times in a row ends as Failed; between tries
# the worker waits RETRY_MINUTES.
MAX_STEP_ERRORS = 3
RETRY_MINUTES = 1
# a batch's rules are checked on this many ids of the primary key at a time
# (times the batch size, at least the minimum): see _next_contacts
CANDIDATE_SLICE_FACTOR = 10
MIN_CANDIDATE_SLICE = 2000
# The eligibility rule that picks the run's population instead of skipping it.
POPULATION_RULE = "website_disabled"


class PartnerInviteRun(models.Model):
    """Mails that carry passwords or links, sent together, and what came of each:
    a "Send Bulk Website Invite", or one Random Password Mail (to one contact or
    several). Each mail is a line (partner.invite.run.line).

    The scheduled action, its "Run Manually" and the Settings button only open a bulk
    run; the worker job (always active, woken by a trigger) invites in committed
    batches, so no browser request waits and an inactive schedule still gets its run
    done. A Random Password Mail is sent in the operator's request; what the server
    asks to try again later, the worker job sends, as it does a bulk run's.
    """

    _name = "partner.invite.run"
    _description = "Website invite run"
    _order = "id desc"

    name = fields.Char(compute="_compute_name")
    origin = fields.Selection(
        [
            ("bulk", "Bulk invite"),
            ("manual", "Random Password Mail"),
            ("key_user", "Website Administrator"),
        ],
        default="bulk",
        required=True,
        readonly=True,
        index=True,
    )
    mail_template_id = fields.Many2one(
        "mail.template",
        readonly=True,
        default=lambda self: self.env.ref(INVITE_TEMPLATE, raise_if_not_found=False),
    )
    # the mail an operator reviewed (one contact), with the placeholder where the
    # secret goes, never the secret: what a retry sends again
    reviewed_subject = fields.Char(readonly=True)
    reviewed_body = fields.Html(readonly=True, sanitize=False)
    reviewed_placeholder = fields.Char(readonly=True)
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
    # the customer's Website Administrator whose portal act the run is
    # (partner_login_delegation.py)
    key_user_id = fields.Many2one(
        "res.partner", string="Website Administrator", readonly=True, index=True
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
        "res.company",
        string="Companies",
        readonly=True,
        help="Whose contacts the run invites (and contacts of no company).",
    )
    eligible_count = fields.Integer(string="Eligible", readonly=True)
    invited_count = fields.Integer(string="Invited", readonly=True)
    failed_count = fields.Integer(string="Failed", readonly=True)
    skipped_count = fields.Integer(string="Skipped", readonly=True)
    # contacts left out for a reason that needs nobody (already active, an invite
    # pending): counted by rule, without a line each ({rule: count})
    routine_skips = fields.Json(readonly=True)
    progress = fields.Float(
        compute="_compute_progress_rate",
        help="Contacts invited or failed, of those eligible (%).",
    )
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
    all_taken = fields.Boolean(readonly=True, help="No new contact is left to take.")
    waiting_count = fields.Integer(string="Waiting", compute="_compute_progress")
    next_attempt_at = fields.Datetime(string="Next try", compute="_compute_progress")
    # the waiting lines told apart: not tried yet (the server's pace), or refused
    # for now by the server (a reason), which reads as trouble and is not always
    paced_count = fields.Integer(
        string="Waiting for the server's pace",
        compute="_compute_progress",
        help="Not tried yet: they go out as the mail server's Messages per Minute "
        "and per Day allow.",
    )
    retry_count = fields.Integer(
        string="Waiting after a refusal",
        compute="_compute_progress",
        help="The mail server asked to try again later (a 4xx answer, greylisting, "
        "a lost connection): they are tried again by themselves.",
    )
    next_retry_at = fields.Datetime(string="Next retry", compute="_compute_progress")
    expected_end = fields.Datetime(string="Expected end", compute="_compute_progress")
    pace_summary = fields.Text(string="Pace", compute="_compute_progress")
    # the funnel of the run's delivered invites (partner.invite.analysis has it by
    # company, salesperson and week)
    funnel_delivered = fields.Integer(string="Delivered", compute="_compute_funnel")
    funnel_bounced = fields.Integer(string="Bounced", compute="_compute_funnel")
    funnel_logged_in = fields.Integer(string="Logged In", compute="_compute_funnel")
    funnel_active = fields.Integer(string="Own Password Set", compute="_compute_funnel")
    funnel_unanswered = fields.Integer(
        string="Expired Unanswered", compute="_compute_funnel"
    )
    funnel_activation_rate = fields.Float(
        string="Activation Rate (%)",
        compute="_compute_funnel",
        help="Contacts who set a password of their own, of those delivered.",
    )
    funnel_median_hours = fields.Float(
        string="Median Hours to First Login",
        compute="_compute_funnel",
        help="From the mail server's acceptance of the mail to the contact's first "
        "login, the median over those who logged in.",
    )
    funnel_bar = fields.Html(string="Funnel", compute="_compute_funnel", sanitize=False)

    @api.depends("invited_count", "failed_count", "state")
    def _compute_progress(self):
        """What the run waits for and when it expects to end, from the lines in one
        query per run, and the pace each of its mail servers holds it to."""
        pace = self.env["partner.login.pace"]
        self.env["partner.invite.run.line"].flush_model()
        for run in self:
            self.env.cr.execute(
                SQL(
                    """SELECT count(*) FILTER (WHERE outcome = 'waiting'),
                              min(next_attempt_at) FILTER (WHERE outcome = 'waiting'),
                              max(next_attempt_at) FILTER (WHERE outcome = 'waiting'),
                              array_agg(DISTINCT COALESCE(mail_server_id, 0))
                                  FILTER (WHERE accepted_at IS NOT NULL),
                              count(*) FILTER (WHERE outcome = 'waiting'
                                               AND reason IS NOT NULL),
                              min(next_attempt_at) FILTER (WHERE outcome = 'waiting'
                                                           AND reason IS NOT NULL)
                         FROM partner_invite_run_line WHERE run_id = %s""",
                    run.id,
                )
            )
            waiting, first, last, server_ids, refused, next_retry = (
                self.env.cr.fetchone()
            )
            run.waiting_count = waiting
            run.next_attempt_at = first
            run.paced_count = waiting - refused
            run.retry_count = refused
            run.next_retry_at = next_retry
            run.expected_end = (
                run._expected_end(last) if run.state == "running" else False
            )
            held = pace._held_to([server_id or False for server_id in server_ids or []])
            run.pace_summary = "\n".join(
                run._pace_line(server_id, *limits) for server_id, limits in held.items()
            )

    def _compute_funnel(self):
        """The funnels of all the runs in ``self``: one aggregate query."""
        self.env["partner.invite.run.line"].flush_model()
        figures = {}
        if self.ids:
            self.env.cr.execute(
                SQL(
                    """SELECT run_id,
                              count(*) FILTER (WHERE outcome != 'bounced'),
                              count(*) FILTER (WHERE outcome = 'bounced'),
                              count(first_login_at),
                              count(password_set_at),
                              count(expired_at),
                              count(*) FILTER (WHERE first_login_at IS NOT NULL
                                               AND password_set_at IS NULL),
                              percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(
                                  EPOCH FROM first_login_at - accepted_at) / 3600.0)
                         FROM partner_invite_run_line
                        WHERE run_id IN %s AND accepted_at IS NOT NULL
                        GROUP BY run_id""",
                    tuple(self._origin.ids),
                )
            )
            figures = {row[0]: row[1:] for row in self.env.cr.fetchall()}
        for run in self:
            (delivered, bounced, logged_in, active, unanswered, login_only, median) = (
                figures.get(run._origin.id, (0, 0, 0, 0, 0, 0, None))
            )
            run.funnel_delivered = delivered
            run.funnel_bounced = bounced
            run.funnel_logged_in = logged_in
            run.funnel_active = active
            run.funnel_unanswered = unanswered
            run.funnel_activation_rate = 100.0 * active / delivered if delivered else 0
            run.funnel_median_hours = median or 0.0
            run.funnel_bar = run._funnel_bar(
                delivered, bounced, logged_in, active, unanswered, login_only
            )

    def _funnel_bar(
        self, delivered, bounced, logged_in, active, unanswered, login_only
    ):
        """A stacked bar of the sent mails: own password set, logged in only (with
        what the mail carried), neither, bounced."""
        sent = delivered + bounced
        if not sent:
            return False
        _ = self.env._
        parts = [
            (active, "bg-success", _("Own password set")),
            (login_only, "bg-info", _("Logged in only")),
            (delivered - active - login_only, "bg-secondary", _("Not logged in")),
            (bounced, "bg-danger", _("Bounced")),
        ]
        bars = Markup().join(
            Markup(
                '<div class="progress-bar %s" role="progressbar" style="width: %s%%"'
                ' title="%s">%s</div>'
            )
            % (css, round(100.0 * count / sent, 2), f"{label}: {count}", count)
            for count, css, label in parts
            if count > 0
        )
        legend = _(
            "%(delivered)s delivered, %(logged_in)s logged in, %(active)s set their "
            "own password, %(bounced)s bounced, %(unanswered)s expired unanswered",
            delivered=delivered,
            logged_in=logged_in,
            active=active,
            bounced=bounced,
            unanswered=unanswered,
        )
        return Markup(
            '<div class="o_partner_invite_funnel"><div class="progress" '
            'style="height: 1.5rem">%s</div><small class="text-muted">%s</small>'
            "</div>"
        ) % (bars, legend)

    def _expected_end(self, last_retry):
        """When the run should be done: the contacts left at the rate it goes, or
        its last retry if later."""
        remaining = max(self.eligible_count - self.invited_count - self.failed_count, 0)
        elapsed = (fields.Datetime.now() - self.started_at).total_seconds()
        end = None
        if self.origin == "bulk" and remaining and self.invited_count and elapsed > 0:
            rate = self.invited_count / elapsed
            end = fields.Datetime.now() + timedelta(seconds=remaining / rate)
        candidates = [moment for moment in (end, last_retry) if moment]
        return max(candidates) if candidates else False

    def _pace_line(self, server_id, per_minute, per_day, learned):
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

    def _skipped_by_rule(self):
        """{rule: (message, count)} of the contacts the run skipped: those with a
        line (a manager may act on them) and those only counted."""
        self.ensure_one()
        groups = self.env["partner.invite.run.line"]._read_group(
            [("run_id", "=", self.id), ("outcome", "=", "skipped")],
            ["rule", "reason"],
            ["__count"],
        )
        skipped = {rule: (reason, count) for rule, reason, count in groups}
        messages = {
            rule: message
            for rule, message, _domain in self.env["partner.login.eligibility"]._rules(
                bulk=True
            )
        }
        for rule, count in (self.routine_skips or {}).items():
            skipped[rule] = (messages.get(rule, rule), count)
        return skipped

    @api.depends("invited_count", "failed_count", "eligible_count")
    def _compute_progress_rate(self):
        for run in self:
            done = run.invited_count + run.failed_count
            run.progress = 100 * done / run.eligible_count if run.eligible_count else 0

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

    @api.depends("started_at", "origin", "started_by_id", "key_user_id")
    def _compute_name(self):
        for run in self:
            if run.origin == "key_user":
                run.name = self.env._(
                    "Invite of %(date)s by %(key_user)s, Website Administrator of "
                    "%(company)s",
                    date=run.started_at,
                    key_user=run.key_user_id.name,
                    company=run.key_user_id.commercial_partner_id.name,
                )
            elif run.origin == "manual":
                run.name = self.env._(
                    "Random Password Mail of %(date)s by %(user)s",
                    date=run.started_at,
                    user=run.started_by_id.name,
                )
            else:
                run.name = self.env._(
                    "Bulk website invite of %(date)s", date=run.started_at
                )

    # ------------------------------------------------------------------ start

    def action_start(self):
        """Open a run (or keep the one under way) and wake the worker job; the
        person sees the run's form, which follows it live. Not an api.model method:
        the run list's header button calls it on the selection (empty when nothing
        is selected)."""
        if not (self.env.su or self.env.user.has_group(MANAGER_GROUP)):
            raise AccessError(
                self.env._("Only Website Login managers may send the invite.")
            )
        # sudo: runs are written by the addon only; managers merely read them
        run = self.sudo().search(
            [("state", "=", "running"), ("origin", "=", "bulk")], limit=1
        )
        if not run:
            # the scheduler runs as the superuser: every company
            companies = self.env.user.company_ids
            if self.env.su:
                companies = self.env["res.company"].sudo().search([])
            if not self._eligible_now(companies):
                return self._notification(
                    self.env._(
                        "Nobody to invite right now: every Website Enabled contact "
                        "is invited already, logs in, or is left out by a rule (the "
                        "contact list's Website Access filters show which)."
                    ),
                    "info",
                )
            run = self.sudo().create({"company_ids": companies.ids})
            run._count_contacts()
            run._notify_managers()
        self.env.ref(WORKER_CRON).sudo()._trigger()
        return self._notification(
            self.env._(
                "%(run)s: %(count)s to invite, in the background.",
                run=run.name,
                count=run.eligible_count,
            ),
            "info",
            then={
                "type": "ir.actions.act_window",
                "res_model": self._name,
                "res_id": run.id,
                "views": [(False, "form")],
                "target": "current",
            },
        )

    @api.model
    def _eligible_now(self, companies):
        """Whether a run of ``companies`` would invite anybody now."""
        self.env["partner.login.credential"]._cron_expire()
        domain = self.env["partner.login.eligibility"]._invite_domain()
        # sudo: counted as the run would count them, whatever the starter may read
        return bool(
            self.env["res.partner"]
            .sudo()
            .with_context(active_test=False)  # as the run searches them
            .search_count(domain + self._company_domain(companies), limit=1)
        )

    @api.model
    def _notification(self, message, kind, then=None):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Send Bulk Website Invite"),
                "message": message,
                "type": kind,
                "sticky": False,
                **({"next": then} if then else {}),
            },
        }

    def _notify_managers(self):
        """Every Website Login manager's open list or form of runs reloads
        (static/src/js/invite_run_views.js): only the ids go, what each may read
        is read again."""
        if self:
            self.env["bus.bus"]._sendone(
                self.env.ref(MANAGER_GROUP),
                "partner_website_login/run_progress",
                {"run_ids": self.ids},
            )

    @api.model
    def _start_manual(
        self, partners, reviewed=None, credential_mode=None, key_user=None
    ):
        """A Random Password Mail to ``partners``: a run of its own with a line per
        contact, marked "sending" (the caller delivers them at once).

        :param reviewed: {"subject", "body_html", "placeholder"} the operator edited
        :param key_user: the customer's Website Administrator who asked for it from
            the portal (the same mail, from the company's address)
        """
        companies = self.env.user.company_ids
        # sudo: runs are written by the addon only; the caller checked the rights
        run = self.sudo().create(
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
                "line_ids": [
                    Command.create({"partner_id": partner.id, "outcome": "sending"})
                    for partner in partners
                ],
            }
        )
        return run.with_env(self.env)

    def _wake_worker(self):
        """The worker job takes what this run left to try again."""
        next_at = self.sudo()._next_work_at()
        if next_at is None:
            self.sudo().write({"state": "done", "ended_at": fields.Datetime.now()})
        else:
            self.env.ref(WORKER_CRON).sudo()._trigger(utc(next_at))

    def action_cancel(self):
        """Stop a running run: the contacts not invited yet are left alone."""
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(
                self.env._("Only Website Login managers may cancel a run.")
            )
        self.check_access("read")  # the runs of the manager's companies
        mine = self.env.user.company_ids
        if any(run.sudo().company_ids - mine for run in self):
            raise AccessError(
                self.env._(
                    "This run also invites contacts of companies you do not manage: "
                    "only a manager of all of them may cancel it."
                )
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
        lines, routine = [], {}
        eligibility = self.env["partner.login.eligibility"]
        for rule, message, domain in eligibility._rules(bulk=True):
            left_out = population + ["!"] + domain
            if rule in ROUTINE_RULES:
                if count := partners.search_count(left_out):
                    routine[rule] = count
            elif rule != POPULATION_RULE:
                lines += [
                    {
                        "run_id": self.id,
                        "partner_id": partner_id,
                        "outcome": "skipped",
                        "rule": rule,
                        "reason": message,
                    }
                    for partner_id in partners.search(left_out).ids
                ]
            population = population + domain
        self.write(
            {
                "eligible_count": partners.search_count(population),
                "skipped_count": len(lines) + sum(routine.values()),
                "routine_skips": routine,
            }
        )
        self.env["partner.invite.run.line"].sudo().create(lines)

    # ------------------------------------------------------------------ batches

    @api.model
    def _cron_process_batch(self):
        """One time-boxed step of the worker job over the running runs: retries that
        are due, then new contacts of a bulk run, in committed batches, at the pace
        of each mail server, until the step's time is up. The job is triggered
        again at once while there is work now, else for the moment there is."""
        deadline = time.monotonic() + website_setting(self.env, "invite_step_seconds")
        taken, wake_at = 0, []
        for run in self.search([("state", "=", "running")], order="id"):
            if time.monotonic() >= deadline and taken:
                wake_at.append(time.time())
                break
            if not run._lock():
                continue
            try:
                if self._auto_commit():
                    done, next_at = run._step(deadline)
                else:  # tests: one transaction, which a savepoint keeps usable
                    with self.env.cr.savepoint():
                        done, next_at = run._step(deadline)
            except Exception as error:  # noqa: BLE001 - any error of a step ends here
                if self._auto_commit():
                    self.env.cr.rollback()  # what the step did not commit is undone
                run._record_step_error(error)
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

    def _record_step_error(self, error):
        """Keep the error on the run; try the step again a minute later, or end the
        run as Failed after MAX_STEP_ERRORS in a row. The worker job itself never
        fails, so Odoo never deactivates it and later runs still get done."""
        _logger.exception("Website login run %s: a step failed", self.id)
        count = self.error_count + 1
        values = {"error_count": count, "last_error": str(error)}
        if count >= MAX_STEP_ERRORS:
            values.update(state="failed", ended_at=fields.Datetime.now())
        self.write(values)
        if count < MAX_STEP_ERRORS:
            self.env.ref(WORKER_CRON).sudo()._trigger(
                fields.Datetime.now() + timedelta(minutes=RETRY_MINUTES)
            )

    def _step(self, deadline):
        """Deliver batches of this run until the step's time is up, the pace holds
        it back, or nothing is due.

        :returns: (how many lines the step took, when the run has work next: None
            once it is done)
        """
        self.ensure_one()
        size = website_setting(self.env, "invite_batch_size")
        self._recover_interrupted_step()
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
                lines = self._next_batch(batch_size)
                if not lines:
                    # work due in a moment (a retry after a pause): wait for it here,
                    # Odoo's scheduler would look again only a minute later
                    next_at = self._next_work_at()
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
                self._notify_managers()  # sent with the batch's commit
                if self._auto_commit():
                    # each batch's outcome is kept whatever happens to later ones
                    self.env.cr.commit()  # pylint: disable=invalid-commit
                    if not self._lock() or self._cancelled():
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
        values = {"error_count": 0} if self.error_count else {}
        next_at = self._next_work_at(held_until)
        if next_at is None:
            values.update(state="done", ended_at=fields.Datetime.now())
            self._notify_managers()
        if values:
            self.write(values)
        return taken, next_at

    @api.model
    def _batch_size_within(self, size, seconds_per_line, deadline):
        """How many lines the next batch of a step takes: ``size`` when a whole
        batch still fits in the step's time at the pace of its previous batch (the
        first always), else 0. Never a shorter batch: a batch has its own cost
        (the rules, the users, the layout, the commit) whatever its size. No margin
        either: a step has its own cost too (the run, its settings, an SMTP
        session), and the rare batch that overruns leaves only its last mails to
        the next step (measured over ten runs of 10,000: 8 batches of 1,000 and
        108 mails of 100,000)."""
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

    def _next_batch(self, size):
        """Lines to deliver now, marked "sending": retries that are due first, then
        the next contacts of a bulk run (in id order, from the run's cursor)."""
        lines = self.env["partner.invite.run.line"].sudo()
        due = lines.search(
            [
                ("run_id", "=", self.id),
                ("outcome", "=", "waiting"),
                ("next_attempt_at", "<=", utc(time.time())),  # to the microsecond
            ],
            order="next_attempt_at, id",
            limit=size,
        )
        if due:
            due.write({"outcome": "sending"})
            return due
        if self.origin != "bulk" or self.all_taken:
            return lines
        partners, cursor, all_taken = self._next_contacts(size)
        values = {"last_partner_id": cursor}
        if all_taken:
            values["all_taken"] = True
        self.write(values)  # committed with the batch's credentials
        return lines.create(
            [
                {"run_id": self.id, "partner_id": partner.id, "outcome": "sending"}
                for partner in partners
            ]
        )

    def _next_contacts(self, size):
        """The next ``size`` eligible contacts after the run's cursor, in id order.

        The rules are checked on a slice of ids read from the primary key at a
        time: asked in one query (rules, then id order and limit), PostgreSQL
        misjudges how many contacts pass the rules (they are correlated), sorts
        every eligible contact left and takes the first ones; that is 0.4 s a batch
        at 100,000 contacts, and a run's batches cost its size squared.

        :returns: (contacts, the new cursor, whether no contact is left after it)
        """
        domain = [
            *self.env["partner.login.eligibility"]._invite_domain(),
            *self._company_domain(self.company_ids),
        ]
        # active_test off: the rules' own "active" conditions decide, and their
        # subqueries see archived users too (an archived employee's contact)
        partners = self.env["res.partner"].with_context(active_test=False)
        found = partners.browse()
        cursor = self.last_partner_id
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

    def _next_work_at(self, held_until=None):
        """When the run has work next (seconds since the epoch), or None when it is
        done: now while new contacts or due retries remain, else its next retry."""
        if held_until is not None:
            return held_until
        if self.origin == "bulk" and not self.all_taken:
            return time.time()
        self.env["partner.invite.run.line"].flush_model(["outcome", "next_attempt_at"])
        self.env.cr.execute(
            SQL(
                """SELECT min(next_attempt_at) FROM partner_invite_run_line
                    WHERE run_id = %s AND outcome IN ('waiting', 'sending')""",
                self.id,
            )
        )
        next_attempt = self.env.cr.fetchone()[0]
        if next_attempt is None:
            return None
        return max(next_attempt.replace(tzinfo=timezone.utc).timestamp(), time.time())

    @api.model
    def _auto_commit(self):
        # each batch is committed, except inside tests, which run in one transaction
        return not modules.module.current_test

    def _recover_interrupted_step(self):
        """A step that crashed while sending left lines "sending": nobody knows
        whether their mails went out, so their credentials are revoked and they
        are sent again (at most one batch is mailed twice, its first password dead;
        nobody is lost)."""
        left = (
            self.env["partner.invite.run.line"]
            .sudo()
            .search([("run_id", "=", self.id), ("outcome", "=", "sending")])
        )
        if not left:
            return
        _logger.warning(
            "Website login run %s: a step was interrupted; %s contacts are sent "
            "their mail again",
            self.id,
            len(left),
        )
        self.env["partner.login.credential"]._revoke_for(left.partner_id)
        left.write({"outcome": "waiting", "next_attempt_at": fields.Datetime.now()})

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

    # ------------------------------------------------------------------ mails

    def _mail_values(self, partners, expires_at, layouts=None):
        """The run's mails to ``partners``: its template rendered as the person who
        started the run (a Random Password Mail is in their name), or the mail an
        operator reviewed, with its own placeholder.

        :param layouts: the step's rendered layouts (partner.login.mail._values)
        """
        self.ensure_one()
        mail = self.env["partner.login.mail"]
        template = self.mail_template_id.with_user(self.started_by_id).sudo()
        mails = mail._values(
            partners, template, self.credential_mode, expires_at, layouts
        )
        if self.origin == "key_user":
            # the template writes from the person who pressed the button: here a
            # customer, whose domain our server may not send for (SPF, DMARC)
            for partner in partners:
                company = partner._website_mail_company()
                mails[partner.id]["email_from"] = (
                    company.email_formatted
                    or self.env["ir.mail_server"].sudo()._get_default_from_address()
                )
        if self.reviewed_body:
            for values in mails.values():
                values.update(
                    subject=one_line(self.reviewed_subject),
                    body_html=self.reviewed_body,
                    placeholder=self.reviewed_placeholder,
                )
        return mails

    def _count_outcome(self, sent, failed, waiting):
        """The run's counts after a batch (waiting: the lines left to try again)."""
        self.ensure_one()
        self.sudo().write(
            {
                "invited_count": self.invited_count + sent,
                "failed_count": self.failed_count + failed,
            }
        )
