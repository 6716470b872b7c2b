# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What an anonymous prober learns from the login and reset-password pages: nothing
about which logins exist."""

import re
import statistics

from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .common import REFUSAL, TIMING_SAMPLES, WebsiteLoginCase, smtp_server

PASSWORD = "Own-Password-42!"


@tagged("post_install", "-at_install")
class TestLoginProbing(WebsiteLoginCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.use_real_password_hashing()
        cls.setup_website_login()
        cls.jane = cls.make_active_contact(PASSWORD)

    @mute_logger("odoo.http", "odoo.addons.base.models.res_users")
    def test_odd_passwords_are_refused_alike_for_known_and_unknown_logins(self):
        self.forget_login_failures()
        self.authenticate_json("nobody.here", "warm-up")  # makes the decoy hash
        for password in ("", 123, [], {}, "x" * 5000):
            with self.subTest(password=str(password)[:10]):
                known, unknown = [], []
                for _sample in range(TIMING_SAMPLES):  # interleaved: same machine load
                    self.forget_login_failures()
                    seconds, known_error = self.authenticate_json("jane.doe", password)
                    known.append(seconds)
                    self.forget_login_failures()
                    seconds, unknown_error = self.authenticate_json(
                        "nobody.here", password
                    )
                    unknown.append(seconds)
                self.assertEqual(known_error, "odoo.exceptions.AccessDenied")
                self.assertEqual(unknown_error, "odoo.exceptions.AccessDenied")
                ratio = statistics.median(known) / statistics.median(unknown)
                self.assertGreater(ratio, 0.6)
                self.assertLess(ratio, 1.7)

    @mute_logger("odoo.http", "odoo.addons.base.models.res_users")
    def test_odd_passwords_count_towards_the_cooldown(self):
        self.forget_login_failures()
        self.env["ir.config_parameter"].set_param(
            "partner_website_login.ip_cooldown_failures", 5
        )
        for password in (123, [], {}, "", "x" * 5000):
            self.authenticate_json("jane.doe", password)
        # Odoo's cooldown: after 5 failures from one address, refused at once
        seconds, error = self.authenticate_json("jane.doe", PASSWORD)
        self.assertEqual(error, "odoo.exceptions.AccessDenied")
        self.forget_login_failures()
        self.assertIsNone(self.authenticate_json("jane.doe", PASSWORD)[1])

    def test_an_overlong_password_on_the_login_page_is_a_refusal_not_a_crash(self):
        self.forget_login_failures()
        with mute_logger("odoo.addons.base.models.res_users"):
            response = self.post_login("jane.doe", "x" * 5000)
        self.assertEqual(response.status_code, 200)
        self.assertIn(REFUSAL, response.text)

    # --------------------------------------------------------- reset password

    def ask_reset(self, login):
        page = self.url_open("/web/reset_password")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        response = self.url_open(
            "/web/reset_password", data={"login": login, "csrf_token": csrf}
        )
        self.assertEqual(response.status_code, 200)
        answer = re.search(
            r'<p class="alert alert-(\w+)"[^>]*>\s*(.*?)\s*</p>', response.text, re.S
        )
        return answer and (answer.group(1), answer.group(2))

    @mute_logger("odoo.addons.partner_website_login.models.res_users")
    def test_reset_password_answers_alike_whoever_is_asked_for(self):
        for name in ("Twin One", "Twin Two"):
            self.make_active_contact(
                PASSWORD,
                name=name,
                username=name.lower().replace(" ", "."),
                email="twin@x.test",
            )
        with smtp_server(self.env) as smtp:
            answers = {
                login: self.ask_reset(login)
                for login in (
                    "jane.doe",
                    "JANE.DOE@retailer.test",
                    "nobody.here",
                    "nobody@retailer.test",
                    "twin@x.test",
                )
            }
        self.assertEqual(len(set(answers.values())), 1, answers)
        self.assertEqual(answers["nobody.here"][0], "success")
        # Jane, and only Jane, got the instructions
        self.assertEqual(
            sorted(message["To"].addresses[0].addr_spec for message in smtp.messages),
            ["jane.doe@retailer.test", "jane.doe@retailer.test"],
        )

    @mute_logger("odoo.addons.partner_website_login.models.res_users")
    def test_an_anonymous_reset_keeps_a_pending_link(self):
        self.env["ir.config_parameter"].set_param(
            "partner_website_login.credential_mode", "link"
        )
        ivo = self.make_contact(name="Ivo Invited", username="ivo")
        url = self.env["partner.login.credential"]._issue(ivo, "link")[0][ivo.id]
        token = re.search(r"token=([^&]+)", url).group(1)
        with smtp_server(self.env) as smtp:
            answer = self.ask_reset("ivo")
        self.assertEqual(answer, self.ask_reset("nobody.here"))
        self.assertFalse(smtp.messages)
        self.assertEqual(ivo.sudo().signup_type, "website_link")
        self.assertTrue(self.env["res.partner"]._get_partner_from_token(token))
