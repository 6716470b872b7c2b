# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The invite protocol: issue, commit, send at the server's pace, record the outcome.

Every mail that carries a password or link goes this way, for one contact or ten
thousand: a bulk run's batch, a Random Password Mail, a retry. Each mail is a line
of a run (partner.invite.run.line), so that what came of it is kept in one place:

1. the lines are marked "sending" and their contacts get a credential
   (partner_login_credential.py), the mails are rendered with a placeholder where
   the secret goes (partner_login_mail.py), and, in a run's worker job, all of it is
   committed: a crash from here on is found by the next step (lines still
   "sending"), which revokes those credentials and sends again;
2. each mail takes a slot of its server's pace (partner_login_pace.py) and goes out
   over SMTP (partner_login_mailer.py), the secret filled in only in memory;
3. the outcome: accepted (the Message-Id kept, to recognise a bounce), try again
   later (the credential revoked, the line waits: 1, 5, 15, 60 minutes... up to
   the retry limit of Settings), slow down (the server's pace halves, the line is
   tried again right after), never (a 5xx: failed, kept as a failed mail without
   its secret), or not tried yet (the pace or the step's time): the line waits for
   its slot, nothing was issued to it that still works.

A retry issues a new credential: the one that did not go out is dead, so a contact
is never mailed twice a working password for one invite.
"""

import logging
import time
from collections import defaultdict, deque
from datetime import timedelta

from markupsafe import escape

from odoo import api, fields, models, tools
from odoo.tools import SQL

from . import partner_login_mailer as transport
from .partner_login_pace import THROTTLE_PAUSE_SECONDS, utc
from .res_partner import NOTE_PORTAL_ACCESS_LATER
from .website_login_settings import website_setting

_logger = logging.getLogger(__name__)

# a sender waits for its next slot by sleeping up to this long; a later slot ends
# the step (the worker job is triggered for it)
MAX_PACING_SLEEP = 2.0
# minutes between the tries of a mail the server asked to try again later
RETRY_MINUTES = (1, 5, 15, 60, 120, 240, 480)


def _rest(lines, index):
    """The lines of the list ``lines`` from ``index`` on, as one recordset."""
    return lines[0].browse([line.id for line in lines[index:]])


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

    def wait(self, until):
        self.wait_until = min(self.wait_until or until, until)


class PartnerLoginDelivery(models.AbstractModel):
    _name = "partner.login.delivery"
    _description = "Delivery of website login mails (the invite protocol)"

    @api.model
    def _deliver(
        self, lines, deadline=None, sessions=None, auto_commit=False, layouts=None
    ):
        """Deliver the mails of ``lines`` (of one run, marked "sending").

        :param deadline: ``time.monotonic()`` after which no more mail is started
        :param sessions: {route: SMTP session} the caller keeps open across calls
        :param auto_commit: commit the credentials before any mail holds them (the
            worker job; never inside a user's request)
        :param layouts: the rendered layouts the caller keeps across calls
        :returns: DeliveryOutcome
        """
        # sudo: runs and lines are the addon's record of what it did; the callers
        # checked who may send (a manager, the scheduler)
        lines = lines.sudo()
        outcome = DeliveryOutcome(lines)
        if not lines:
            return outcome
        run = lines.run_id.ensure_one()
        lines = self._admissible(run, lines, outcome)
        partners = lines.partner_id
        granted = set(
            partners.filtered(lambda partner: not partner.website_user_id).ids
        )
        credentials = self.env["partner.login.credential"].with_context(
            **{NOTE_PORTAL_ACCESS_LATER: True}
        )
        secrets, expires_at = credentials._issue(
            partners, run.credential_mode, rules_checked=True
        )
        mails = run._mail_values(partners, expires_at, layouts)
        if auto_commit:
            # the credentials must be committed before any mail holding them goes
            # out, so that a crash can be recovered from (see the module docstring)
            self.env.cr.commit()  # pylint: disable=invalid-commit
        own_sessions = sessions is None
        sessions = {} if own_sessions else sessions
        try:
            self._send_all(run, lines, mails, secrets, deadline, sessions, outcome)
        finally:
            secrets.clear()  # the clear secrets end here
            if own_sessions:
                self.env["partner.login.mailer"]._close_sessions(sessions)
        self._record(run, lines, mails, expires_at, granted, outcome)
        return outcome

    @api.model
    def _admissible(self, run, lines, outcome):
        """The lines whose contact may be mailed now (a retry may meet a contact
        that changed meanwhile) and whose login is free; the others are recorded
        as refused."""
        # every line, not only retries: one contact the run's search let through
        # (an archived employee's, say) is skipped with its reason, never fails
        # the batch (partner.login.credential._issue refuses it)
        refusals = self.env["partner.login.eligibility"]._refusals(
            lines.partner_id,
            bulk=run.origin == "bulk",
            key_user=run.origin == "key_user",
        )
        # the eligibility's refusals name a taken login, except to a key user, whose
        # run fails such a line as before
        collisions = (
            self.env["res.users"]._website_login_collisions(lines.partner_id)
            if run.origin == "key_user"
            else {}
        )
        for line in lines:
            if line.partner_id.id in refusals:
                outcome.refused[line.id] = ("skipped", refusals[line.partner_id.id])
            elif line.partner_id.id in collisions:
                outcome.refused[line.id] = (
                    "failed",
                    self.env._(
                        "The login %(login)s already belongs to another user: give "
                        "the contact a username.",
                        login=collisions[line.partner_id.id],
                    ),
                )
        return lines.filtered(lambda line: line.id not in outcome.refused)

    # ------------------------------------------------------------------ sending

    @api.model
    def _send_all(self, run, lines, mails, secrets, deadline, sessions, outcome):
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
                )
            finally:
                pace._release(route[0], slots)

    @api.model
    def _send_route(
        self, run, route, lines, mails, secrets, slots, deadline, sessions, outcome
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
                    "an image or a second link)."
                )
                continue
            message = mailer._build(route, values, body, [mail._recipient(partner)])
            timeout = deadline - time.monotonic() if deadline is not None else None
            result = mailer._send(sessions, route, message, timeout)
            if result.kind == transport.ACCEPTED:
                outcome.sent |= line
                outcome.message_ids[line.id] = (result.message_id, route[0])
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

    # ------------------------------------------------------------------ outcome

    @api.model
    def _record(self, run, lines, mails, expires_at, granted, outcome):
        credentials = self.env["partner.login.credential"]
        now = fields.Datetime.now()
        sent = outcome.sent
        self._mark_sent(sent, outcome.message_ids, now)
        self.env["partner.login.access"]._delivered(
            sent.partner_id, by_run=run.origin == "bulk"
        )
        not_sent = lines - sent
        credentials._revoke_for(not_sent.partner_id)
        waiting, given_up = self._schedule_retries(run, lines, outcome, now)
        failed = {**outcome.failed, **given_up}
        line_model = lines.browse()
        for line_id, (outcome_name, reason) in outcome.refused.items():
            line_model.browse(line_id).write(
                {"outcome": outcome_name, "reason": reason}
            )
        for line_id, reason in failed.items():
            line_model.browse(line_id).write({"outcome": "failed", "reason": reason})
        self._keep_failed_mails(line_model.browse(list(failed)), mails, failed)
        self.env["partner.login.mail"]._post_notes(
            sent.partner_id, expires_at, run.credential_mode, run, granted
        )
        if granted_unsent := sent.partner_id.browse(granted) - sent.partner_id:
            # their portal user stays: Odoo's own note says so
            granted_unsent.sudo()._message_log_batch(
                dict.fromkeys(
                    granted_unsent.ids,
                    self.env["res.users"]._get_portal_access_update_body(True),
                )
            )
        refused_failures = sum(
            1 for name, _reason in outcome.refused.values() if name == "failed"
        )
        run._count_outcome(
            sent=len(sent), failed=len(failed) + refused_failures, waiting=waiting
        )
        _logger.info(
            "Website login mails of run %s: %s delivered, %s failed, %s to try again",
            run.id,
            len(sent),
            len(failed) + refused_failures,
            len(waiting),
        )

    @api.model
    def _mark_sent(self, lines, message_ids, now):
        """The accepted lines, with their Message-Id and server (one query)."""
        if not lines:
            return
        lines.flush_recordset()
        self.env.cr.execute(
            SQL(
                """UPDATE partner_invite_run_line line
                      SET outcome = 'invited', accepted_at = %s, reason = NULL,
                          next_attempt_at = NULL,
                          message_id = sent.message_id,
                          mail_server_id = NULLIF(sent.server_id, 0)
                     FROM (VALUES %s) AS sent(id, message_id, server_id)
                    WHERE line.id = sent.id""",
                now,
                SQL(", ").join(
                    SQL(
                        "(%s, %s, %s)",
                        line.id,
                        message_ids[line.id][0],
                        message_ids[line.id][1] or 0,
                    )
                    for line in lines
                ),
            )
        )
        lines.invalidate_recordset()

    @api.model
    def _schedule_retries(self, run, lines, outcome, now):
        """Lines the server asked to try again later wait for their next try, or
        fail once the retry limit is past; lines not tried wait for their slot.

        :returns: (the waiting lines, {line id: reason} of those given up)
        """
        limit = timedelta(hours=website_setting(self.env, "retry_limit_hours"))
        waiting = self.env["partner.invite.run.line"]
        given_up = {}
        for line in lines.browse(list(outcome.deferred)):
            throttled = line in outcome.throttled
            attempts = line.attempt_count + (0 if throttled else 1)
            first = line.first_attempt_at or now
            if throttled:
                next_at = utc(time.time() + THROTTLE_PAUSE_SECONDS)
            else:
                minutes = RETRY_MINUTES[min(attempts - 1, len(RETRY_MINUTES) - 1)]
                next_at = now + timedelta(minutes=minutes)
            if next_at - first > limit:
                given_up[line.id] = self.env._(
                    "The mail server kept refusing for now (%(reason)s) until the "
                    "retry limit.",
                    reason=outcome.deferred[line.id],
                )
                continue
            line.write(
                {
                    "outcome": "waiting",
                    "attempt_count": attempts,
                    "first_attempt_at": first,
                    "next_attempt_at": next_at,
                    "reason": outcome.deferred[line.id],
                }
            )
            waiting |= line
        if outcome.untried:
            outcome.untried.write(
                {
                    "outcome": "waiting",
                    "next_attempt_at": utc(outcome.wait_until or time.time()),
                }
            )
            waiting |= outcome.untried
        return waiting, given_up

    @api.model
    def _keep_failed_mails(self, lines, mails, failures):
        """A failed mail shows in Odoo's usual place (Settings > Technical >
        Emails), with the server's reason and without the secret."""
        if not lines:
            return
        body = escape(
            self.env._(
                "This mail carried a temporary password or a set-password link. It "
                "could not be delivered, so the password or link was revoked and is "
                "not kept here."
            )
        )
        mail = self.env["partner.login.mail"]
        values = []
        for line in lines:
            rendered = mails.get(line.partner_id.id, {})
            values.append(
                {
                    "subject": rendered.get("subject") or line.run_id.display_name,
                    "email_from": rendered.get("email_from"),
                    "email_to": mail._recipient(line.partner_id),
                    "body_html": f"<p>{body}</p>",
                    "message_type": "user_notification",
                    "state": "exception",
                    "failure_type": "mail_smtp",
                    "failure_reason": failures[line.id],
                    "auto_delete": False,
                    "record_company_id": rendered.get("record_company_id"),
                    "record_alias_domain_id": rendered.get("record_alias_domain_id"),
                }
            )
        self.env["mail.mail"].sudo().create(values)  # managers have no mail rights
