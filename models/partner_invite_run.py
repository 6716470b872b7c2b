# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
import time
from datetime import timedelta, timezone

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

from .partner_login_credential import CREDENTIAL_KINDS
from .website_login_settings import MANAGER_GROUP

_logger = logging.getLogger(__name__)

INVITE_TEMPLATE = "partner_website_login.mail_template_website_invite"
RUN_ORIGINS = [
    ("bulk", "Bulk invite"),
    ("manual", "Random Password Mail"),
    ("key_user", "Website Administrator"),
]


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
        RUN_ORIGINS,
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
                pace._describe(server_id, *limits) for server_id, limits in held.items()
            )

    def _compute_funnel(self):
        """The funnels of all the runs in ``self``, as the invite analysis counts
        them (one query)."""
        analysis = self.env["partner.invite.analysis"].sudo()  # the runs' own lines
        figures = analysis._funnels(self._origin.ids)
        for run in self:
            funnel = figures.get(run._origin.id, {})
            delivered = funnel.get("delivered", 0)
            active = funnel.get("active", 0)
            run.funnel_delivered = delivered
            run.funnel_bounced = funnel.get("bounced", 0)
            run.funnel_logged_in = funnel.get("logged_in", 0)
            run.funnel_active = active
            run.funnel_unanswered = funnel.get("unanswered", 0)
            run.funnel_activation_rate = 100.0 * active / delivered if delivered else 0
            run.funnel_median_hours = funnel.get("median_hours") or 0.0
            run.funnel_bar = analysis._funnel_bar(funnel)

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
        messages = dict(self.env["partner.login.eligibility"]._rule_labels())
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
        run = self.env["partner.invite.worker"]._start_bulk()
        if not run:
            return self._notification(
                self.env._(
                    "Nobody to invite right now: every Website Enabled contact is "
                    "invited already, logs in, or is left out by a rule (the contact "
                    "list's Website Access filters show which)."
                ),
                "info",
            )
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
    def _cron_process_batch(self):
        """The worker job's scheduled action (data/ir_cron_data.xml, on this model
        since it was created): partner_invite_worker.py does the work."""
        return self.env["partner.invite.worker"]._cron_process_batch()

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
        # a step under way holds the run's lock: the cancel waits for its next
        # commit, and the worker, finding the run taken, stops there; what it left
        # "sending" is settled as after a crash (the accepted ones delivered, the
        # others' credentials revoked): here what this transaction sees, by the
        # worker job what the step committed after it began
        outcomes = self.env["partner.invite.outcome"]
        for run in running:
            outcomes._recover(run)
        self.env["partner.invite.worker"]._wake()
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
        eligible, left_out, routine = self.env[
            "partner.login.eligibility"
        ]._bulk_population(self._company_domain(self.company_ids))
        skipped = self.env["partner.invite.outcome"]._create_skipped(self, left_out)
        self.write(
            {
                "eligible_count": eligible,
                "skipped_count": len(skipped) + sum(routine.values()),
                "routine_skips": routine,
            }
        )

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
