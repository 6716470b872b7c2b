# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The invite protocol's sending: issue, commit, send at the server's pace, and say
what came of each line (a DeliveryOutcome); partner_invite_outcome.py applies it.

Every mail that carries a password or link goes this way, for one contact or ten
thousand: a bulk run's batch, a Random Password Mail, a key user's invite, a retry.
Each mail is a line of a run (partner.invite.run.line):

1. the lines' contacts get a credential (partner_login_credential.py), the mails
   are rendered with a placeholder where the secret goes (partner_login_mail.py),
   and, in the worker job, all of it is committed;
2. each mail takes a slot of its server's pace (partner_login_pace.py) and goes out
   over SMTP (partner_login_mailer.py), the secret filled in only in memory; in the
   worker job each acceptance is committed as it happens, as Odoo's mail queue
   does, on a connection of its own (the batch's transaction keeps the run's lock
   and its cache), so that after a crash only the mail in flight may reach its
   contact twice (partner_invite_outcome.py, ``_recover``);
3. what came of each: accepted (with its Message-Id, to recognise a bounce), try
   again later, slow down (the server's pace halves), never (a 5xx), not tried
   yet (the pace or the step's time), or refused before sending (a rule).

A retry issues a new credential: the one that did not go out is dead, so a contact
is never mailed twice a working password for one invite.
"""

import logging
import time
from collections import defaultdict, deque

from odoo import api, models, tools

from . import partner_login_mailer as transport
from .partner_login_eligibility_rules import BULK, KEY_USER, MANAGER
from .partner_login_pace import THROTTLE_PAUSE_SECONDS
from .res_users_portal import NOTE_PORTAL_ACCESS_LATER

_logger = logging.getLogger(__name__)

# a sender waits for its next slot by sleeping up to this long; a later slot ends
# the step (the worker job is triggered for it)
MAX_PACING_SLEEP = 2.0


# the eligibility rules a run's lines pass, by the run's origin
PATH_OF_ORIGIN = {"bulk": BULK, "key_user": KEY_USER, "manual": MANAGER}


def _rest(lines, index):
    """The lines of the list ``lines`` from ``index`` on, as one recordset."""
    return lines[0].browse([line.id for line in lines[index:]])


class RunTakenOver(Exception):
    """Another worker locked the run between two of this step's commits."""


class DeliveryOutcome:
    """What came of one delivery, by line."""

    def __init__(self, lines):
        self.sent = lines.browse()
        self.failed = {}  # {line id: reason}
        self.deferred = {}  # {line id: reason}: the server said try again later
        self.throttled = lines.browse()  # the server said slow down
        self.untried = lines.browse()  # the pace or the time came first
        self.refused = {}  # {line id: reason}: eligibility or login, nothing sent
        self.wait_until = None  # seconds since the epoch the untried ones wait for
        self.message_ids = {}  # {line id: (Message-Id, server id)}
        self.mails = {}  # {partner id: rendered values}, without the secrets
        self.expires_at = None  # the expiry the credentials issued carry
        self.granted = set()  # contacts whose portal user the delivery made

    def wait(self, until):
        self.wait_until = min(self.wait_until or until, until)


class PartnerLoginDelivery(models.AbstractModel):
    _name = "partner.login.delivery"
    _description = "Delivery of website login mails (the invite protocol)"

    @api.model
    def _deliver(
        self,
        lines,
        deadline=None,
        sessions=None,
        auto_commit=False,
        layouts=None,
        checked=False,
    ):
        """Deliver the mails of ``lines`` (of one run, marked "sending").

        :param deadline: ``time.monotonic()`` after which no more mail is started
        :param sessions: {route: SMTP session} the caller keeps open across calls
        :param auto_commit: commit the credentials before any mail holds them, and
            each acceptance as it happens (the worker job; never inside a user's
            request)
        :param layouts: the rendered layouts the caller keeps across calls
        :param checked: the caller applied the eligibility rules to the lines'
            contacts in this transaction (a Random Password Mail, a key user)
        :returns: DeliveryOutcome
        """
        # sudo: runs and lines are the addon's record of what it did; the callers
        # checked who may send (a manager, the scheduler)
        lines = lines.sudo()
        outcome = DeliveryOutcome(lines)
        if not lines:
            return outcome
        run = lines.run_id.ensure_one()
        lines = self._admissible(run, lines, outcome, checked)
        partners = lines.partner_id
        outcome.granted = set(
            partners.filtered(lambda partner: not partner.website_user_id).ids
        )
        credentials = self.env["partner.login.credential"].with_context(
            **{NOTE_PORTAL_ACCESS_LATER: True}
        )
        secrets, outcome.expires_at = credentials._issue(
            partners, run.credential_mode, rules_checked=True
        )
        mails = self.env["partner.login.mail"]._run_values(
            run, partners, outcome.expires_at, layouts
        )
        outcome.mails = mails
        acceptance_cr = None
        if auto_commit:
            # the credentials must be committed before any mail holding them goes
            # out, so that a crash can be recovered from (see the module docstring)
            self._commit_and_relock(run)
            acceptance_cr = self.env["partner.invite.outcome"]._acceptance_cursor()
        own_sessions = sessions is None
        sessions = {} if own_sessions else sessions
        try:
            self._send_all(
                run, lines, mails, secrets, deadline, sessions, outcome, acceptance_cr
            )
        finally:
            secrets.clear()  # the clear secrets end here
            if own_sessions:
                self.env["partner.login.mailer"]._close_sessions(sessions)
            if acceptance_cr is not None:
                self.env["partner.invite.outcome"]._close_acceptance_cursor(
                    acceptance_cr
                )
        if auto_commit:
            # a new snapshot, which sees the acceptances kept meanwhile: the
            # outcome is applied over them
            self._commit_and_relock(run)
        return outcome

    @api.model
    def _commit_and_relock(self, run):
        self.env.cr.commit()  # pylint: disable=invalid-commit
        if not run._lock():  # the commit ended the run's lock
            raise RunTakenOver(run.id)

    @api.model
    def _admissible(self, run, lines, outcome, checked=False):
        """The lines whose contact may be mailed now (a retry may meet a contact
        that changed meanwhile) and whose login is free; the others are recorded
        as refused."""
        # every line of the worker, not only retries: one contact the run's search
        # let through (an archived employee's, say) is skipped with its reason,
        # never fails the batch
        eligibility = self.env["partner.login.eligibility"]
        refusals = (
            {}
            if checked
            else eligibility._refusals(lines.partner_id, PATH_OF_ORIGIN[run.origin])
        )
        # the eligibility's refusals name a taken login, except to a key user, whose
        # run fails such a line as before
        collisions = (
            self.env["res.users.login.identifier"]._collisions(lines.partner_id)
            if run.origin == "key_user"
            else {}
        )
        for line in lines:
            if line.partner_id.id in refusals:
                _rule, message = refusals[line.partner_id.id]
                outcome.refused[line.id] = ("skipped", message)
            elif line.partner_id.id in collisions:
                outcome.refused[line.id] = (
                    "failed",
                    eligibility._message(
                        eligibility._rule("login_taken"),
                        values={"login": collisions[line.partner_id.id]},
                    ),
                )
        return lines.filtered(lambda line: line.id not in outcome.refused)

    # ------------------------------------------------------------------ sending

    @api.model
    def _send_all(
        self, run, lines, mails, secrets, deadline, sessions, outcome, acceptance_cr
    ):
        mailer = self.env["partner.login.mailer"]
        pace = self.env["partner.login.pace"]
        servers = mailer._servers()
        by_route = defaultdict(list)
        routes = {}  # a batch's mails share a handful of senders: each routed once
        for line in lines:
            values = mails[line.partner_id.id]
            sender = (
                values["email_from"],
                values.get("mail_server_id"),
                values.get("record_alias_domain_id"),
            )
            if sender not in routes:
                routes[sender] = mailer._route(values, servers)
            by_route[routes[sender]].append(line)
        for route, route_lines in by_route.items():
            slots = pace._book(route[0], len(route_lines))
            try:
                self._send_route(
                    run,
                    route,
                    route_lines,
                    mails,
                    secrets,
                    slots,
                    deadline,
                    sessions,
                    outcome,
                    acceptance_cr,
                )
            finally:
                pace._release(route[0], slots)

    @api.model
    def _send_route(
        self,
        run,
        route,
        lines,
        mails,
        secrets,
        slots,
        deadline,
        sessions,
        outcome,
        acceptance_cr,
    ):
        mailer = self.env["partner.login.mailer"]
        mail = self.env["partner.login.mail"]
        accepted_at = deque(maxlen=200)  # when the server took each mail, for its rate
        for index, line in enumerate(lines):
            partner = line.partner_id
            tried = outcome.sent or outcome.failed or outcome.deferred
            if deadline is not None and tried and time.monotonic() >= deadline:
                outcome.untried |= _rest(lines, index)
                outcome.wait(time.time())
                return
            slot = slots.next_at()
            if slot is None:  # the day's quota is used up
                outcome.untried |= _rest(lines, index)
                outcome.wait(slots.reopens)
                return
            delay = slot - time.time()
            if delay > 0:
                late = deadline is not None and time.monotonic() + delay > deadline
                if delay > MAX_PACING_SLEEP or (late and tried):
                    outcome.untried |= _rest(lines, index)
                    outcome.wait(slot)
                    return
                time.sleep(delay)
            slots.used += 1
            values = mails[partner.id]
            body = mail._fill_secret(
                values["body_html"],
                run.credential_mode,
                values["placeholder"],
                secrets[partner.id],
            )
            if body is None:
                outcome.failed[line.id] = self.env._(
                    "The mail was not sent: its template must hold the password once "
                    "in its text, or the link once as the address of a link (not in "
                    "an image or a second link) with no other attribute than style, "
                    "class, title, target and rel."
                )
                continue
            message = mailer._build(route, values, body, [mail._recipient(partner)])
            timeout = deadline - time.monotonic() if deadline is not None else None
            result = mailer._send(sessions, route, message, timeout)
            if result.kind == transport.ACCEPTED:
                outcome.sent |= line
                outcome.message_ids[line.id] = (result.message_id, route[0])
                if acceptance_cr is not None:
                    # a crash from here on does not send this mail again
                    self.env["partner.invite.outcome"]._keep_acceptance(
                        acceptance_cr, line, result.message_id, route[0]
                    )
                accepted_at.append(time.monotonic())
                if values.get("email_cc"):
                    self._send_cc_copy(route, values, partner, sessions)
            elif result.kind == transport.THROTTLED:
                outcome.throttled |= line
                outcome.deferred[line.id] = result.reason
                self.env["partner.login.pace"]._throttled(
                    route[0], self._rate(accepted_at)
                )
                outcome.untried |= _rest(lines, index + 1)
                outcome.wait(time.time() + THROTTLE_PAUSE_SECONDS)
                return
            elif result.kind == transport.DEFERRED:
                outcome.deferred[line.id] = result.reason
            else:
                outcome.failed[line.id] = result.reason

    @api.model
    def _rate(self, accepted_at):
        """Mails per second the server took over the last second (or since the
        first, if sooner)."""
        if not accepted_at:
            return 0.0
        now = time.monotonic()
        recent = [moment for moment in accepted_at if now - moment <= 1.0]
        if len(recent) >= 2:
            return len(recent)
        return len(accepted_at) / max(now - accepted_at[0], 1.0)

    @api.model
    def _send_cc_copy(self, route, values, partner, sessions):
        """The template's CC gets its own copy of the mail, with a notice where the
        password or link was: a secret goes to its owner only (a template is
        editable by more people than may read passwords)."""
        mailer = self.env["partner.login.mailer"]
        notice = self.env._("[sent to %(contact)s only]", contact=partner.name)
        body = self.env["partner.login.mail"]._without_secret(
            values["body_html"], values["placeholder"], notice
        )
        copy_to = tools.mail.email_split_and_format_normalize(values["email_cc"])
        result = mailer._send(
            sessions, route, mailer._build(route, values, body, copy_to)
        )
        if result.kind != transport.ACCEPTED:
            _logger.info(
                "CC copy of the website login mail to contact %s not sent: %s",
                partner.id,
                result.reason,
            )
