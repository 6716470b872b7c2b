# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Invites go straight to a real SMTP server: what the contact, the manager and an
attacker reading the database see when the server takes, refuses, hangs up or
crawls."""

import time

from odoo.tests import HttpCase, tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

from .common import WebsiteLoginCase, password_from, smtp_server
from .test_bulk_invite import BulkInviteMixin

MAILER_LOGGER = "odoo.addons.partner_website_login.models.partner_login_mailer"
RUN_LOGGER = "odoo.addons.partner_website_login.models.partner_invite_worker"


@tagged("post_install", "-at_install")
class TestDelivery(BulkInviteMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_website_login()
        cls.leave_out_earlier_contacts()
        cls.contacts = cls.env["res.partner"]
        for name in ("Ada", "Ben", "Cat", "Dan"):
            cls.contacts |= cls.make_contact(name=name, username=name.lower())

    def secret_left_in_database(self, secret):
        self.env.flush_all()
        self.env.cr.execute(
            """SELECT (SELECT count(*) FROM mail_mail
                        WHERE body_html LIKE %(s)s)
                    + (SELECT count(*) FROM mail_message WHERE body LIKE %(s)s)""",
            {"s": f"%{secret}%"},
        )
        return self.env.cr.fetchone()[0]

    def test_a_delivered_invite_leaves_no_mail_and_a_note(self):
        with smtp_server(self.env) as smtp:
            run = self.run_invite()
        self.assertEqual(len(smtp.messages), 4)
        self.assertEqual(run.invited_count, 4)
        for message in smtp.messages:
            password = password_from(message)
            self.assertFalse(self.secret_left_in_database(password))
        self.assertFalse(
            self.env["mail.mail"].search([("subject", "=like", "Welcome to the %")])
        )
        note = self.contacts[0].message_ids.filtered(
            lambda message: "Password mail sent" in message.body
        )
        self.assertIn("by the bulk website invite of", note.body)
        self.assertIn("valid until", note.body)

    @mute_logger(MAILER_LOGGER, RUN_LOGGER)
    def test_a_refused_recipient_becomes_a_failed_mail_without_its_password(self):
        ben = self.contacts[1]
        with smtp_server(self.env, refuse_recipients=[ben.email]) as smtp:
            run = self.run_invite()
        self.assertEqual(len(smtp.messages), 3)
        self.assertEqual((run.invited_count, run.failed_count), (3, 1))
        [failed_line] = run.line_ids.filtered(lambda line: line.outcome == "failed")
        self.assertEqual(failed_line.partner_id, ben)
        self.assertIn("550", failed_line.reason)
        failed = self.env["mail.mail"].search([("email_to", "ilike", ben.email)])
        self.assertEqual(failed.state, "exception")
        self.assertIn("550", failed.failure_reason)
        self.assertIn("revoked", failed.body_html)
        self.assertFalse(self.credentials_of(ben))
        self.assertEqual(ben.website_access_state, "none")
        # eligible again: the next run sends to Ben, and only to Ben
        with smtp_server(self.env) as smtp:
            self.run_invite()
        [message] = smtp.messages
        self.assertIn(ben.email, message["To"])
        self.assertTrue(self.authenticates("ben", password_from(message)))

    @mute_logger(MAILER_LOGGER, RUN_LOGGER)
    def test_a_server_that_hangs_up_after_data_gets_the_mail_again_later(self):
        with smtp_server(self.env, hang_up_after=1) as smtp:
            self.env["res.partner"]._cron_send_bulk_website_invite()
            run = self.env["partner.invite.run"].search([], limit=1)
            self.work_off(run)
            # the mail cut off waits for its next try, with nothing that works
            [half_sent] = smtp.cut_off
            [cut_off] = self.contacts.filtered(
                lambda contact: contact.email in half_sent["To"]
            )
            [line] = run.line_ids.filtered(lambda line: line.partner_id == cut_off)
            self.assertEqual(line.outcome, "waiting")
            self.assertEqual(run.state, "running")
            self.assertFalse(self.credentials_of(cut_off))
            self.assertFalse(
                self.authenticates(cut_off.username, password_from(half_sent))
            )
            self.work_off(run, time_passes=True)  # a minute later
        self.assertEqual(run.state, "done")
        self.assertEqual((run.invited_count, run.failed_count), (4, 0))
        self.assertEqual(len(smtp.messages), 4)
        # the half-sent mail's password never works, the second mail's does
        self.assertFalse(self.authenticates(cut_off.username, password_from(half_sent)))
        self.assertFalse(
            self.env["mail.mail"].search([("email_to", "ilike", cut_off.email)])
        )
        for message in smtp.messages:
            password = password_from(message)
            self.assertFalse(self.secret_left_in_database(password))
            login = message["To"].addresses[0].addr_spec
            self.assertTrue(self.authenticates(login, password))

    @mute_logger(MAILER_LOGGER, RUN_LOGGER)
    def test_a_slow_server_cannot_hold_a_step_past_its_time(self):
        self.env["ir.config_parameter"].set_param(
            "partner_website_login.invite_step_seconds", "1"
        )
        self.env["res.partner"]._cron_send_bulk_website_invite()
        run = self.env["partner.invite.run"].search([], limit=1)
        steps = []
        with smtp_server(self.env, delay=0.4) as smtp:
            while run.state != "done" and len(steps) < 20:
                started = time.monotonic()
                self.env["partner.invite.run"]._cron_process_batch()
                steps.append(time.monotonic() - started)
        self.assertEqual(run.state, "done")
        self.assertGreater(len(steps), 1, "the mails did not fit in one step")
        # a step ends within its second plus the one mail under way
        self.assertLess(max(steps), 1 + 0.4 + 0.5)
        self.assertEqual(len(smtp.messages), 4)
        self.assertEqual(run.invited_count, 4)
        for partner in self.contacts:
            self.assertEqual(len(self.credentials_of(partner)), 1)

    def test_the_recipient_is_always_the_contacts_own_address(self):
        ada = self.contacts[0]
        ada.with_user(self.manager).name = "Ada\r\nBcc: thief@evil.test"
        with smtp_server(self.env) as smtp:
            action = ada.with_user(self.manager).action_random_password_mail()
            window = (
                self.env["random.password.mail"]
                .with_user(self.manager)
                .browse(action["res_id"])
            )
            # what an RPC write could do though the form shows it read-only
            window.write({"email_from": "x@evil.test"})
            window.line_ids.write({"email_to": "thief@evil.test"})
            window.action_send()
        [message] = smtp.messages
        self.assertEqual(
            [address.addr_spec for address in message["To"].addresses], [ada.email]
        )
        self.assertIsNone(message["Bcc"])
        self.assertIn("manager@ourcompany.test", message["From"])

    @mute_logger(MAILER_LOGGER, RUN_LOGGER)
    def test_an_address_odoo_cannot_send_to_ends_cleanly(self):
        idn = self.make_contact(name="Ünal", username="unal", email="unal@bücher.test")
        with smtp_server(self.env) as smtp:
            self.run_invite()
        delivered = [m for m in smtp.messages if "unal" in m["To"]]
        if delivered:
            self.assertTrue(self.authenticates("unal", password_from(delivered[0])))
        else:
            self.assertFalse(self.credentials_of(idn))
            self.assertEqual(idn.website_access_state, "none")


@tagged("post_install", "-at_install")
class TestWhoCanBeInvited(WebsiteLoginCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_website_login()

    def test_odoos_own_users_never_get_a_website_login(self):
        public = self.env.ref("base.public_user").partner_id
        template_id = self.env["ir.config_parameter"].get_param(
            "base.template_portal_user_id"
        )
        template = self.env["res.users"].browse(int(template_id)).partner_id
        for partner in (public, template):
            # an administrator may unarchive them and give them an address
            partner.write({"active": True, "email": "odoo-own@example.test"})
            with self.subTest(partner=partner.name):
                refusals = (
                    self.env["partner.login.eligibility"]
                    .with_user(self.manager)
                    ._refusals(partner.with_user(self.manager))
                )
                _rule, message = refusals[partner.id]
                self.assertIn("Odoo's own users", message)

    def test_allow_login_off_on_a_company_keeps_its_contacts_out(self):
        jane = self.make_active_contact("Own-Password-42!")
        self.assertTrue(self.authenticates("jane.doe", "Own-Password-42!"))
        self.company.with_user(self.manager).allow_login = False
        self.env.flush_all()  # a request commits; the login below reads the database
        self.assertFalse(jane.allow_login)
        self.assertFalse(self.authenticates("jane.doe", "Own-Password-42!"))

    def test_a_temporary_password_opens_no_json_call(self):
        jane = self.make_contact()
        password = self.issue(jane)
        self.forget_login_failures()
        self.post_login("jane.doe", password)
        with mute_logger("odoo.http"), self.assertRaises(JsonRpcException) as caught:
            self.make_jsonrpc_request(
                "/web/dataset/call_kw/res.users/write",
                {
                    "model": "res.users",
                    "method": "write",
                    "args": [jane.website_user_id.ids, {"email": "thief@evil.test"}],
                    "kwargs": {},
                },
            )
        self.assertIn("Forbidden", str(caught.exception))
        self.assertEqual(jane.email, "jane.doe@retailer.test")
