# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import config, mute_logger

from .. import compat
from .common import WebsiteLoginCase, message_html, password_from, smtp_server

SEND_LOGGER = "odoo.addons.partner_website_login.models.partner_login_mailer"


@tagged("post_install", "-at_install")
class TestRandomPasswordMail(WebsiteLoginCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_website_login()
        cls.jane = cls.make_contact(allow_login=False)

    def open_window(self, partners):
        action = partners.with_user(self.manager).action_random_password_mail()
        self.assertEqual(action["res_model"], "random.password.mail")
        return (
            self.env["random.password.mail"]
            .with_user(self.manager)
            .browse(action["res_id"])
        )

    def password_left_in_database(self, password):
        self.env.flush_all()
        self.env.cr.execute(
            """SELECT (SELECT count(*) FROM mail_mail WHERE body_html LIKE %(p)s)
                    + (SELECT count(*) FROM mail_message
                        WHERE body LIKE %(p)s OR subject LIKE %(p)s)""",
            {"p": f"%{password}%"},
        )
        return self.env.cr.fetchone()[0]

    def test_review_then_send_delivers_one_mail_and_keeps_no_password(self):
        with smtp_server(self.env) as smtp:
            window = self.open_window(self.jane)
            self.assertTrue(window.turns_on_login)
            self.assertIn("manager@ourcompany.test", window.email_from)
            self.assertTrue(window.reviewable)
            self.assertIn("jane.doe@retailer.test", window.email_to)
            self.assertIn("jane.doe", window.body)  # the login to use
            self.assertIn("/web/login", window.body)
            self.assertRegex(window.placeholder, r"^\[\[temporary-password-\w{16}\]\]$")
            # the operator reads words where the password goes, not the placeholder
            self.assertNotIn(window.placeholder, window.body)
            self.assertEqual(
                window.body.count("[temporary password, made when the mail goes out]"),
                1,
            )
            window.body = window.body.replace("Hello", "Dear")  # the operator edits
            with self.assertLogs("odoo", level="DEBUG") as logs:
                window.action_send()
        [message] = smtp.messages
        self.assertIn("manager@ourcompany.test", message["From"])
        self.assertIn("jane.doe@retailer.test", message["To"])
        self.assertIn("Your website login", message["Subject"])
        self.assertIn("Dear", message_html(message))
        password = password_from(message)
        self.assertTrue(password)
        self.assertTrue(self.jane.allow_login)
        self.assertEqual(self.jane.website_access_state, "invited")
        self.assertTrue(self.authenticates("jane.doe", password))
        self.assertTrue(self.authenticates("jane.doe@retailer.test", password))
        self.assertFalse(self.password_left_in_database(password))
        # odoo.sql_db logs every query only at --log-level=debug_sql, mail bodies
        # included (README, known limits); every other logger is checked
        self.assertFalse(
            [
                line
                for line in logs.output
                if password in line and not line.startswith("DEBUG:odoo.sql_db")
            ]
        )
        note = self.jane.message_ids.filtered(lambda m: "Password mail sent" in m.body)
        self.assertIn("Morgan Manager", note.body)
        self.assertIn("valid until", note.body)

    def test_each_refusal_says_how_to_fix_it(self):
        no_mail_manager = new_test_user(
            self.env,
            login="pwl_manager_no_mail",
            groups="base.group_user,partner_website_login.group_website_login_manager",
        )
        no_mail_manager.email = False
        internal = new_test_user(self.env, login="staff", groups="base.group_user")
        internal.partner_id.email = "staff@ourcompany.test"
        archived = self.make_contact(name="Gone", username="gone")
        archived.active = False
        no_email = self.make_contact(name="No Mail", username="nomail", email=False)
        partners = self.env["res.partner"]
        cases = [
            (partners, self.manager, "Save the contact first"),
            (no_email, self.manager, "no valid email"),
            (self.jane, no_mail_manager, "no email address to send from"),
            (archived, self.manager, "archived"),
            (internal.partner_id, self.manager, "internal user"),
        ]
        with smtp_server(self.env):
            for partner, user, message in cases:
                with self.subTest(message=message):
                    with self.assertRaisesRegex(UserError, message):
                        partner.with_user(user).action_random_password_mail()
        self.env["ir.mail_server"].search([]).active = False
        with patch.dict(config.options, {"smtp_server": ""}):
            with self.assertRaisesRegex(UserError, "No outgoing mail server"):
                self.jane.with_user(self.manager).action_random_password_mail()

    def test_only_managers_use_it(self):
        with self.assertRaises(AccessError):
            self.jane.with_user(self.clerk).action_random_password_mail()
        action = self.env.ref(
            "partner_website_login.action_server_random_password_mail"
        )
        self.assertEqual(action.binding_model_id.model, "res.partner")
        self.assertEqual(
            action[compat.GROUPS_FIELD],
            self.env.ref("partner_website_login.group_website_login_manager"),
        )

    def test_send_without_review_sends_at_once(self):
        self.env["ir.config_parameter"].set_param(
            "partner_website_login.send_without_review", "True"
        )
        with smtp_server(self.env) as smtp:
            action = self.jane.with_user(self.manager).action_random_password_mail()
        self.assertEqual(action["tag"], "display_notification")
        self.assertEqual(len(smtp.messages), 1)
        self.assertTrue(self.authenticates("jane.doe", password_from(smtp.messages[0])))

    def test_several_contacts_one_mail_each_and_the_skipped_named(self):
        john = self.make_contact(name="John Roe", username="john.roe")
        no_email = self.make_contact(name="No Mail", username="nomail", email=False)
        with smtp_server(self.env) as smtp:
            window = self.open_window(self.jane | john | no_email)
            self.assertEqual(window.recipient_count, 2)
            self.assertFalse(window.reviewable)  # several mails: nothing to edit
            refused = window.line_ids.filtered("refusal")
            self.assertEqual(refused.partner_id, no_email)
            self.assertIn("no valid email", refused.refusal)
            window.action_send()
        self.assertEqual(
            sorted(message["To"].addresses[0].addr_spec for message in smtp.messages),
            ["jane.doe@retailer.test", "john.roe@retailer.test"],
        )
        for message, login in zip(
            sorted(smtp.messages, key=lambda m: m["To"].addresses[0].addr_spec),
            ("jane.doe", "john.roe"),
            strict=True,
        ):
            self.assertTrue(self.authenticates(login, password_from(message)))

    @mute_logger(SEND_LOGGER)
    def test_one_refused_mail_among_several_keeps_the_others_working(self):
        john = self.make_contact(name="John Roe", username="john.roe")
        with smtp_server(
            self.env, refuse_recipients=["john.roe@retailer.test"]
        ) as smtp:
            action = self.open_window(self.jane | john).action_send()
        self.assertEqual(action["params"]["type"], "warning")
        self.assertIn("John Roe", action["params"]["message"])
        self.assertIn("550", action["params"]["message"])
        [message] = smtp.messages
        self.assertTrue(self.authenticates("jane.doe", password_from(message)))
        self.assertEqual(john.website_access_state, "none")
        self.assertFalse(
            self.env["partner.login.credential"]
            .sudo()
            .search([("user_id.partner_id", "=", john.id)])
        )
        failed = self.env["mail.mail"].search([("email_to", "ilike", "john.roe")])
        self.assertEqual(failed.state, "exception")  # Odoo's usual place, no secret
        self.assertNotIn("Temporary password", failed.body_html)

    def assert_nothing_half_done(self, window, message):
        credentials = self.env["partner.login.credential"].sudo()
        with mute_logger(SEND_LOGGER), self.assertRaisesRegex(UserError, message):
            window.action_send()
        self.assertFalse(
            credentials.search([("user_id.partner_id", "=", self.jane.id)])
        )
        self.assertEqual(self.jane.website_access_state, "none")
        self.assertFalse(self.jane.allow_login)
        self.assertFalse(
            self.env["mail.mail"].search([("email_to", "ilike", "jane.doe")])
        )

    def test_a_refusing_server_leaves_no_password_and_no_mail(self):
        with smtp_server(self.env, refuse=True):
            self.assert_nothing_half_done(self.open_window(self.jane), "550")

    def test_an_unreachable_server_gets_the_mail_again_by_itself(self):
        credentials = self.env["partner.login.credential"].sudo()
        with smtp_server(self.env, reachable=False), mute_logger(SEND_LOGGER):
            action = self.open_window(self.jane).action_send()
        self.assertEqual(action["params"]["type"], "warning")
        self.assertIn("goes out again by itself at", action["params"]["message"])
        self.assertFalse(
            credentials.search([("user_id.partner_id", "=", self.jane.id)])
        )
        self.assertEqual(self.jane.website_access_state, "none")
        # the worker job sends it once the server answers again, as reviewed
        run = self.env["partner.invite.run"].search([], limit=1)
        self.assertEqual(
            (run.origin, run.state, run.waiting_count), ("manual", "running", 1)
        )
        self.env["partner.invite.run.line"].search([("run_id", "=", run.id)]).write(
            {"next_attempt_at": fields.Datetime.now() - timedelta(minutes=1)}
        )
        with smtp_server(self.env) as smtp:
            self.env["partner.invite.run"]._cron_process_batch()
        [message] = smtp.messages
        self.assertIn("manager@ourcompany.test", message["From"])
        self.assertTrue(self.authenticates("jane.doe", password_from(message)))
        self.assertEqual(run.state, "done")
