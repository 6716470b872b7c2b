# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Invites against a real SMTP server that behaves as mail providers do: a sending
rate it enforces with 454 answers, a daily quota, greylisting with 451, refusals
with 550, and bounces fed back through Odoo's mail gateway. Asserted as the contact
(mails received, passwords that work) and the manager (states, run lines) see it."""

import logging
import time
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid

from odoo import fields
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .common import password_from, recipients, smtp_server
from .test_bulk_invite import BulkInviteMixin

DELIVERY_LOGGER = "odoo.addons.partner_website_login.models.partner_login_delivery"
RUN_LOGGER = "odoo.addons.partner_website_login.models.partner_invite_worker"
OUTCOME_LOGGER = "odoo.addons.partner_website_login.models.partner_invite_outcome"
MAIL_LOGGERS = (
    DELIVERY_LOGGER,
    RUN_LOGGER,
    OUTCOME_LOGGER,
    "odoo.addons.base.models.ir_mail_server",
)


def bounce_of(
    message,
    bounce_address,
    named_message_id=None,
    sender="MAILER-DAEMON@mx.retailer.test",
):
    """A delivery status notification (RFC 3464) for ``message``, as a receiving
    server sends it back to the sender's bounce address; it names
    ``named_message_id`` as the mail that bounced (by default the message's own,
    which anybody but the receiving server has to guess)."""
    recipient = message["To"].addresses[0].addr_spec
    named = named_message_id or message["Message-Id"]
    return f"""From: {sender}
To: {bounce_address}
Subject: Undelivered Mail Returned to Sender
Message-Id: {make_msgid()}
In-Reply-To: {named}
References: {named}
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="BOUNDARY"

--BOUNDARY
Content-Type: text/plain

The mail to {recipient} could not be delivered: no such mailbox.

--BOUNDARY
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.retailer.test

Final-Recipient: rfc822; {recipient}
Action: failed
Status: 5.1.1

--BOUNDARY
Content-Type: text/rfc822-headers

Message-Id: {named}
To: {recipient}
Subject: {message["Subject"]}

--BOUNDARY--
"""


@tagged("post_install", "-at_install")
class TestMailProviders(BulkInviteMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_website_login()
        cls.leave_out_earlier_contacts()
        cls.contacts = cls.env["res.partner"]
        for index in range(12):
            cls.contacts |= cls.make_contact(
                name=f"Buyer {index}", username=f"b{index}"
            )

    def setUp(self):
        super().setUp()
        self.last_mail_before = max(self.env["mail.mail"].search([]).ids, default=0)

    def assert_each_got_one_working_password(self, smtp, contacts):
        self.assertEqual(recipients(smtp), sorted(contacts.mapped("email")))
        for message in smtp.messages:
            login = message["To"].addresses[0].addr_spec
            self.assertTrue(self.authenticates(login, password_from(message)), login)

    @mute_logger(*MAIL_LOGGERS)
    def test_a_throttling_provider_with_no_rate_set_gets_everyone_at_its_pace(self):
        """Past 5 mails a second the provider answers as Amazon SES does (454)."""
        with smtp_server(self.env, rate=5) as smtp:
            run = self.run_invite(time_passes=True)
            self.assertGreater(smtp.throttled, 0, "the provider did push back")
        self.assertEqual((run.invited_count, run.failed_count), (12, 0))
        self.assert_each_got_one_working_password(smtp, self.contacts)
        # the run's own mails (a webshop's demo orders leave failed mails of theirs)
        self.assertFalse(
            self.env["mail.mail"].search(
                [("state", "=", "exception"), ("id", ">", self.last_mail_before)]
            )
        )
        self.assertIn("learned from its answers", run.pace_summary)

    @mute_logger(*MAIL_LOGGERS)
    def test_a_rate_set_on_the_server_is_kept_to_without_one_refusal(self):
        started = time.monotonic()
        with smtp_server(self.env, rate=8, rate_per_minute=8 * 60) as smtp:
            run = self.run_invite()
        seconds = time.monotonic() - started
        self.assertEqual(smtp.throttled, 0)
        self.assertEqual((run.invited_count, run.failed_count), (12, 0))
        # evenly spaced: 12 mails at 8 a second take at least the 11 gaps less the
        # half second of catch-up the pace allows
        self.assertGreater(seconds, 11 / 8 - 0.5)
        self.assertIn("480", run.pace_summary)
        self.assert_each_got_one_working_password(smtp, self.contacts)

    @mute_logger(*MAIL_LOGGERS)
    def test_a_daily_quota_holds_the_rest_until_the_window_reopens(self):
        with smtp_server(self.env, quota_per_day=5) as smtp:
            self.env["res.partner"]._cron_send_bulk_website_invite()
            run = self.env["partner.invite.run"].search([], limit=1)
            self.work_off(run)
            self.assertEqual(len(smtp.messages), 5)
            self.assertEqual(run.state, "running")
            self.assertEqual(run.waiting_count, 7)
            tomorrow = fields.Datetime.now() + timedelta(hours=23)
            self.assertGreater(run.next_attempt_at, tomorrow)
            waiting = run.line_ids.filtered(lambda line: line.outcome == "waiting")
            self.assertFalse(self.credentials_of(waiting.partner_id))
            # a Random Password Mail counts against the same quota
            extra = self.make_contact(name="Late Buyer", username="late")
            action = extra.with_user(self.manager).action_random_password_mail()
            answer = (
                self.env["random.password.mail"]
                .with_user(self.manager)
                .browse(action["res_id"])
                .action_send()
            )
            self.assertEqual(answer["params"]["type"], "warning")
            self.assertEqual(len(smtp.messages), 5)

    @mute_logger(*MAIL_LOGGERS)
    def test_greylisted_mails_are_tried_again_and_each_contact_mailed_once(self):
        with smtp_server(self.env, greylist=True) as smtp:
            self.env["res.partner"]._cron_send_bulk_website_invite()
            run = self.env["partner.invite.run"].search([], limit=1)
            self.work_off(run)
            self.assertFalse(smtp.messages)
            self.assertEqual(smtp.greylisted, 12)
            lines = run.line_ids
            self.assertEqual(set(lines.mapped("outcome")), {"waiting"})
            self.assertEqual(set(lines.mapped("attempt_count")), {1})
            in_a_minute = fields.Datetime.now() + timedelta(seconds=50)
            self.assertTrue(
                all(at > in_a_minute for at in lines.mapped("next_attempt_at"))
            )
            self.assertIn("451", lines[0].reason)
            self.assertFalse(self.credentials_of(self.contacts))
            self.work_off(run, time_passes=True)  # the retry, a minute later
        self.assertEqual(run.state, "done")
        self.assertEqual((run.invited_count, run.failed_count), (12, 0))
        self.assert_each_got_one_working_password(smtp, self.contacts)

    @mute_logger(*MAIL_LOGGERS)
    def test_temporary_refusals_fail_once_past_the_retry_limit(self):
        with smtp_server(self.env, greylist=True) as smtp:
            self.env["res.partner"]._cron_send_bulk_website_invite()
            run = self.env["partner.invite.run"].search([], limit=1)
            self.work_off(run)
            # a day of refusals later (the greylist never lets this one through)
            smtp.seen.clear()
            self.env.cr.execute(
                "UPDATE partner_invite_run_line SET first_attempt_at = "
                "first_attempt_at - interval '25 hours' WHERE run_id = %s",
                [run.id],
            )
            self.env["partner.invite.run.line"].invalidate_model()
            self.work_off(run, time_passes=True)
        self.assertEqual(run.state, "done")
        self.assertEqual(run.failed_count, 12)
        [reason] = set(run.line_ids.mapped("reason"))
        self.assertIn("retry limit", reason)
        failed = self.env["mail.mail"].search([("email_to", "ilike", "buyer.0@")])
        self.assertEqual(failed.state, "exception")

    @mute_logger(*MAIL_LOGGERS)
    def test_a_550_fails_at_once(self):
        buyer = self.contacts[0]
        with smtp_server(self.env, refuse_recipients=[buyer.email]) as smtp:
            run = self.run_invite()
        self.assertEqual((run.invited_count, run.failed_count), (11, 1))
        [line] = run.line_ids.filtered(lambda line: line.partner_id == buyer)
        self.assertEqual((line.outcome, line.attempt_count), ("failed", 0))
        self.assertNotIn(buyer.email, recipients(smtp))

    @mute_logger(*MAIL_LOGGERS, "odoo.addons.mail.models.mail_thread")
    def test_a_bounce_stops_the_password_and_keeps_the_address_out(self):
        with smtp_server(self.env) as smtp:
            run = self.run_invite()
        buyer = self.contacts[0]
        [message] = [m for m in smtp.messages if buyer.email in m["To"]]
        password = password_from(message)
        self.assertTrue(self.authenticates(buyer.username, password))
        [line] = run.line_ids.filtered(lambda line: line.partner_id == buyer)
        self.assertEqual(line.message_id, message["Message-Id"])
        # the receiving server's notification, fetched by Odoo's mail gateway
        bounce_address = self.env.company.bounce_email or "bounce@retailer.test"
        self.env["mail.thread"].message_process(
            False, bounce_of(message, bounce_address)
        )
        line.invalidate_recordset()
        self.assertEqual(line.outcome, "bounced")
        self.assertEqual(buyer.website_access_state, "bounced")
        self.assertGreaterEqual(buyer.message_bounce, 1)
        self.assertFalse(self.authenticates(buyer.username, password))
        # later runs leave the address out, with its reason...
        self.env["partner.login.access"]._lapsed()
        self.env.cr.execute(
            "UPDATE res_partner SET website_password_expires = now() - interval "
            "'1 day', website_access_state = 'expired' WHERE id IN %s",
            [tuple((self.contacts - buyer).ids)],
        )
        self.env["res.partner"].invalidate_model()
        with smtp_server(self.env) as smtp:
            second = self.run_invite()
        self.assertNotIn(buyer.email, recipients(smtp))
        [skipped] = second.line_ids.filtered(lambda line: line.partner_id == buyer)
        self.assertEqual(skipped.rule, "bounced")
        # ...until a manager corrects the email
        buyer.with_user(self.manager).email = "buyer.0@new-mailbox.test"
        self.assertEqual(buyer.website_access_state, "none")
        with smtp_server(self.env) as smtp:
            self.run_invite()
        self.assertEqual(recipients(smtp), ["buyer.0@new-mailbox.test"])

    def bounce(self, message, named_message_id=None, sender=None):
        """``message``'s bounce (or one naming another mail), fetched by Odoo's
        mail gateway into the company's catch-all."""
        bounce_address = self.env.company.bounce_email or "bounce@retailer.test"
        extra = {"sender": sender} if sender else {}
        self.env["mail.thread"].message_process(
            False, bounce_of(message, bounce_address, named_message_id, **extra)
        )
        self.env.invalidate_all()

    def expire_invites(self):
        self.env.cr.execute(
            "UPDATE res_partner SET website_password_expires = now() - interval "
            "'1 day' WHERE id IN %s",
            [tuple(self.contacts.ids)],
        )
        self.env["res.partner"].invalidate_model()
        self.env["partner.login.access"]._lapsed()

    @mute_logger(*MAIL_LOGGERS, "odoo.addons.mail.models.mail_thread")
    def test_a_forged_bounce_changes_nothing_and_the_real_one_counts(self):
        with smtp_server(self.env) as smtp:
            run = self.run_invite()
        buyer = self.contacts[0]
        [message] = [m for m in smtp.messages if buyer.email in m["To"]]
        password = password_from(message)
        [line] = run.line_ids.filtered(lambda line: line.partner_id == buyer)
        # anybody on the internet: the customer's address, a Message-Id never sent
        # logging.INFO: Odoo names its level 25 "INFO" as well
        with self.assertLogs(OUTCOME_LOGGER, logging.INFO) as logs:
            for _forged in range(5):
                self.bounce(
                    message,
                    named_message_id=make_msgid(domain="evil.example"),
                    sender="MAILER-DAEMON@evil.example",
                )
        self.assertEqual(len(logs.output), 5, logs.output)
        self.assertIn("names no login mail", logs.output[0])
        self.assertNotIn(buyer.email, "".join(logs.output))
        self.assertGreaterEqual(buyer.message_bounce, 5)  # Odoo's own count
        self.assertEqual(line.outcome, "invited")
        self.assertEqual(buyer.website_access_state, "invited")
        self.assertTrue(self.authenticates(buyer.username, password))
        # five forged bounces do not make the address "bounced too often"
        self.expire_invites()
        with smtp_server(self.env) as smtp:
            second = self.run_invite()
        self.assertIn(buyer.email, recipients(smtp))
        self.assertNotIn(
            buyer, second.line_ids.filtered(lambda line: line.rule).partner_id
        )
        [message] = [m for m in smtp.messages if buyer.email in m["To"]]
        password = password_from(message)
        self.assertTrue(self.authenticates(buyer.username, password))
        # a copy of the mail bouncing from another address says nothing of hers
        other = EmailMessage()
        other["To"] = "someone.else@retailer.test"
        other["Subject"] = message["Subject"]
        other["Message-Id"] = message["Message-Id"]
        self.bounce(other)
        self.assertEqual(buyer.website_access_state, "invited")
        # the receiving server's notification of the mail that was sent
        self.bounce(message)
        [line] = second.line_ids.filtered(lambda line: line.partner_id == buyer)
        self.assertEqual(line.outcome, "bounced")
        self.assertEqual(buyer.website_access_state, "bounced")
        self.assertFalse(self.authenticates(buyer.username, password))

    @mute_logger(*MAIL_LOGGERS, "odoo.addons.mail.models.mail_thread")
    def test_blacklisted_and_bouncing_addresses_are_left_out(self):
        self.env["ir.config_parameter"].set_param(
            "partner_website_login.bounce_limit", 1
        )
        blacklisted, bouncing, forged = self.contacts[:3]
        self.env["mail.blacklist"].sudo()._add(blacklisted.email)
        forged.message_bounce = 5  # bounces that named none of the addon's mails
        with smtp_server(self.env) as smtp:
            self.run_invite()
        self.assertIn(forged.email, recipients(smtp))
        [message] = [m for m in smtp.messages if bouncing.email in m["To"]]
        self.bounce(message)
        # the address corrected by a manager: the contact bounced once already
        bouncing.with_user(self.manager).email = "bouncing@new-mailbox.test"
        self.assertEqual(bouncing.website_access_state, "none")
        self.expire_invites()
        with smtp_server(self.env) as smtp:
            run = self.run_invite()
        self.assertNotIn(blacklisted.email, recipients(smtp))
        self.assertNotIn(bouncing.email, recipients(smtp))
        rules = {line.partner_id: line.rule for line in run.line_ids}
        self.assertEqual(rules[blacklisted], "blacklisted")
        self.assertEqual(rules[bouncing], "bouncing")


@tagged("post_install", "-at_install")
class TestRandomPasswordMailRetry(BulkInviteMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_website_login()
        cls.jane = cls.make_contact()

    @mute_logger(*MAIL_LOGGERS)
    def test_a_greylisted_password_mail_tells_the_operator_and_goes_out_later(self):
        with smtp_server(self.env, greylist=True) as smtp:
            action = self.jane.with_user(self.manager).action_random_password_mail()
            answer = (
                self.env["random.password.mail"]
                .with_user(self.manager)
                .browse(action["res_id"])
                .action_send()
            )
            self.assertEqual(answer["params"]["type"], "warning")
            self.assertIn("goes out again by itself", answer["params"]["message"])
            self.assertFalse(smtp.messages)
            run = self.env["partner.invite.run"].search([], limit=1)
            self.assertEqual(run.origin, "manual")
            self.work_off(run, time_passes=True)
        [message] = smtp.messages
        self.assertTrue(self.authenticates("jane.doe", password_from(message)))
        self.assertIn("manager@ourcompany.test", message["From"])
