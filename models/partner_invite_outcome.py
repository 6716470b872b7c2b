# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What came of each login mail, applied: the only writer of a run line's outcome
(sending, invited, waiting, skipped, failed) and of what follows from it: the
contact's Website Access state (through partner_login_access.py), its credential
(kept or revoked), its note, the failed mail kept without its secret, and the run's
counts. The delivery (partner_login_delivery.py) only sends and says what came of
each line; the worker (partner_invite_worker.py) and the run's own sending
(partner_invite_worker.py, ``_send_now``) call this model to apply it."""

import logging
import time
from collections import defaultdict
from datetime import timedelta

from markupsafe import escape

from odoo import api, fields, models
from odoo.tools import SQL

from .partner_login_pace import THROTTLE_PAUSE_SECONDS, utc
from .website_login_settings import website_setting

_logger = logging.getLogger(__name__)

# minutes between the tries of a mail the server asked to try again later
MAIL_RETRY_MINUTES = (1, 5, 15, 60, 120, 240, 480)


class PartnerInviteOutcome(models.AbstractModel):
    _name = "partner.invite.outcome"
    _description = "What came of the website login mails of a run"

    # ------------------------------------------------------------------ lines

    @api.model
    def _create_sending(self, run, partners):
        """A line per contact, marked "sending" (delivered right after)."""
        # sudo: lines are the addon's record of what it did
        return (
            self.env["partner.invite.run.line"]
            .sudo()
            .create(
                [
                    {"run_id": run.id, "partner_id": partner.id, "outcome": "sending"}
                    for partner in partners
                ]
            )
        )

    @api.model
    def _create_skipped(self, run, left_out):
        """A "skipped" line per contact a run leaves out.

        :param left_out: {(rule, message): contact ids}
        """
        return (
            self.env["partner.invite.run.line"]
            .sudo()  # lines are the addon's record of what it did
            .create(
                [
                    {
                        "run_id": run.id,
                        "partner_id": partner_id,
                        "outcome": "skipped",
                        "rule": rule,
                        "reason": message,
                    }
                    for (rule, message), partner_ids in left_out.items()
                    for partner_id in partner_ids
                ]
            )
        )

    @api.model
    def _mark_sending(self, lines):
        """Lines due again (a retry), marked "sending" for their delivery."""
        lines.write({"outcome": "sending"})
        return lines

    @api.model
    def _acceptance_cursor(self):
        """A connection of the step's own on which each acceptance commits alone,
        as Odoo's mail queue commits each mail: the batch's transaction keeps its
        cache and the run's lock. In autocommit (as Odoo's database service uses
        one), one round trip a mail, and without waiting for the disk: a commit
        that waits costs more than a mail; what an Odoo crash leaves is kept all
        the same, and only a crash of PostgreSQL itself within its WAL writer's
        delay could lose the last acceptances, whose mails would then go out
        again with a new password, the old one dead. Closed by
        ``_close_acceptance_cursor``."""
        cr = self.env.registry.cursor()
        cr._cnx.autocommit = True
        cr.execute("SET synchronous_commit TO OFF")
        return cr

    @api.model
    def _close_acceptance_cursor(self, cr):
        # the connection goes back to Odoo's pool as it came, never in autocommit
        try:
            cr.execute("RESET synchronous_commit")
        finally:
            try:
                cr._cnx.autocommit = False
            finally:
                cr.close()

    @api.model
    def _keep_acceptance(self, acceptance_cr, line, message_id, server_id):
        """The server took the line's mail: kept at once on ``acceptance_cr``
        (``_acceptance_cursor``), before the batch's outcome is applied (the line
        stays "sending" until then), so that a crash of Odoo does not send this
        mail again."""
        acceptance_cr.execute(
            "UPDATE partner_invite_run_line"
            "   SET accepted_at = %s, message_id = %s, mail_server_id = %s"
            " WHERE id = %s",
            (fields.Datetime.now(), message_id, server_id or None, line.id),
        )

    # ------------------------------------------------------------------ a batch

    @api.model
    def _apply(self, run, lines, outcome):
        """What came of a delivery of ``lines`` (partner_login_delivery.py's
        DeliveryOutcome), applied to the lines, the contacts and the run."""
        credentials = self.env["partner.login.credential"]
        now = fields.Datetime.now()
        sent = outcome.sent
        self._mark_sent(sent, outcome.message_ids, now)
        self._delivered(run, sent, outcome.expires_at, outcome.granted)
        credentials._revoke_for((lines - sent).partner_id)
        waiting, given_up = self._retry_later(lines, outcome, now)
        failed = {**outcome.failed, **given_up}
        line_model = lines.browse()
        for line_id, (outcome_name, reason) in outcome.refused.items():
            line_model.browse(line_id).write(
                {"outcome": outcome_name, "reason": reason}
            )
        for line_id, reason in failed.items():
            line_model.browse(line_id).write({"outcome": "failed", "reason": reason})
        self._keep_failed_mails(line_model.browse(list(failed)), outcome.mails, failed)
        granted = sent.partner_id.browse(outcome.granted)
        if granted_unsent := granted - sent.partner_id:
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
        self._count(run, failed=len(failed) + refused_failures)
        _logger.info(
            "Website login mails of run %s: %s delivered, %s failed, %s to try again",
            run.id,
            len(sent),
            len(failed) + refused_failures,
            len(waiting),
        )

    @api.model
    def _delivered(self, run, lines, expires_at, granted=()):
        """What follows a mail the server took: the contact's state, its note and
        the run's count."""
        if not lines:
            return
        self.env["partner.login.access"]._delivered(
            lines.partner_id, by_run=run.origin == "bulk"
        )
        self.env["partner.login.mail"]._post_notes(
            lines.partner_id, expires_at, run.credential_mode, run, granted
        )
        self._count(run, sent=len(lines))

    @api.model
    def _count(self, run, sent=0, failed=0):
        """The run's counts, added to in one UPDATE."""
        if not (sent or failed):
            return
        run.flush_recordset(["invited_count", "failed_count"])
        self.env.cr.execute(
            SQL(
                """UPDATE partner_invite_run
                      SET invited_count = COALESCE(invited_count, 0) + %s,
                          failed_count = COALESCE(failed_count, 0) + %s
                    WHERE id = %s""",
                sent,
                failed,
                run.id,
            )
        )
        run.invalidate_recordset(["invited_count", "failed_count"])

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
    def _retry_later(self, lines, outcome, now):
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
                minutes = MAIL_RETRY_MINUTES[
                    min(attempts - 1, len(MAIL_RETRY_MINUTES) - 1)
                ]
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

    # ------------------------------------------------------------------ a bounce

    @api.model
    def _bounced(self, message_ids, email, bounce_message_id=None):
        """Odoo's mail gateway received a bounce: if it names the Message-Id of a
        login mail sent to the address that bounced, the line says so, the contact
        shows Bounced, its password or link stops working at once, and no run
        invites the address again until it changes. Anyone may mail a bounce to the
        catch-all: one that names no such mail changes nothing.

        :param message_ids: the Message-Ids the bounce refers to
        :param email: the address that bounced (normalized), if the bounce says
        :param bounce_message_id: the bounce's own Message-Id, for the log
        """
        lines = (
            self.env["partner.invite.run.line"]
            .sudo()
            .search(
                [
                    ("message_id", "in", list(message_ids or ())),
                    ("outcome", "=", "invited"),
                ]
            )
        )
        if email:
            # a login mail's Message-Id bounced from another address (a copy, a
            # forward) says nothing about the contact's own
            lines = lines.filtered(
                lambda line: line.partner_id.email_normalized == email
            )
        if not lines:
            if email and self.env["res.partner"].sudo().search_count(
                [
                    ("email_normalized", "=", email),
                    ("website_access_state", "=", "invited"),
                ],
                limit=1,
            ):
                _logger.info(
                    "Bounce %s names no login mail sent to the address it reports: "
                    "ignored",
                    bounce_message_id or "-",
                )
            return lines
        lines.write(
            {
                "outcome": "bounced",
                "reason": self.env._("The mail bounced: %(email)s", email=email or "-"),
            }
        )
        partners = lines.partner_id.filtered(
            lambda partner: partner.website_access_state != "active"
        )
        self.env["partner.login.credential"]._revoke_for(partners)
        partners.website_user_id._end_website_sessions()
        self.env["partner.login.access"]._bounced(partners)
        return lines

    # ------------------------------------------------------------------ a crash

    @api.model
    def _recover(self, run):
        """A step that crashed while sending left lines "sending": those whose mail
        the server took (kept as it happened) are applied as delivered with the
        credential they carry; for the others nobody knows, so their credentials
        are revoked and they are sent again (at most the mail in flight reaches its
        contact twice, its first password dead; nobody is lost)."""
        left = (
            self.env["partner.invite.run.line"]
            .sudo()
            .search([("run_id", "=", run.id), ("outcome", "=", "sending")])
        )
        if not left:
            return
        completed = self._complete_accepted(run, left.filtered("accepted_at"))
        again = left - completed
        _logger.warning(
            "Website login run %s: a step was interrupted; %s mails were delivered, "
            "%s contacts are sent their mail again",
            run.id,
            len(completed),
            len(again),
        )
        if again:
            self.env["partner.login.credential"]._revoke_for(again.partner_id)
            again.write(
                {
                    "outcome": "waiting",
                    "next_attempt_at": fields.Datetime.now(),
                    "accepted_at": False,
                    "message_id": False,
                }
            )

    @api.model
    def _complete_accepted(self, run, lines):
        """Lines whose mail the server took before a crash, applied as delivered
        with the credential they carry.

        :returns: the lines completed (those whose credential still stands)
        """
        credentials = (
            self.env["partner.login.credential"]
            .sudo()
            .search([("user_id.partner_id", "in", lines.partner_id.ids)])
        )
        expiry_by_partner = {c.user_id.partner_id.id: c.expires_at for c in credentials}
        completed = lines.filtered(lambda line: line.partner_id.id in expiry_by_partner)
        completed.write(
            {"outcome": "invited", "reason": False, "next_attempt_at": False}
        )
        by_expiry = defaultdict(lines.browse)
        for line in completed:
            by_expiry[expiry_by_partner[line.partner_id.id]] |= line
        for expires_at, same_batch in by_expiry.items():
            self._delivered(run, same_batch, expires_at)
        return completed
