# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Odoo's two-step login (auth_totp) with the addon installed: a portal user and
an employee who turned it on log in through /web/login, then /web/login/totp with
the code of their authenticator app; a wrong code keeps them out. Runs where
auth_totp is installed (the test command's webshop database)."""

import base64
import re
import secrets

from passlib.totp import TOTP

from odoo.tests import HttpCase, new_test_user, tagged

from .common import WebsiteLoginCase, require_modules

PAT_PASSWORD = "Pat-Own-Pass-42!"
EMMA_PASSWORD = "Emma-Own-Pass-42!"


@tagged("post_install", "-at_install")
class TestTwoStepLogin(WebsiteLoginCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        require_modules(cls.env, "auth_totp")
        cls.setup_website_login()
        cls.pat = cls.make_active_contact(
            PAT_PASSWORD, name="Pat Portal", username="pat"
        ).website_user_id
        cls.emma = new_test_user(
            cls.env,
            login="pwl_totp_emma",
            password=EMMA_PASSWORD,
            groups="base.group_user",
            name="Emma Employee",
        )
        cls.authenticator = {}
        for user in cls.pat | cls.emma:
            secret = base64.b32encode(secrets.token_bytes(20)).decode()
            # what auth_totp's set-up wizard stores once the user typed a code
            user.sudo().totp_secret = secret
            cls.authenticator[user] = TOTP(secret)

    def setUp(self):
        super().setUp()
        self.forget_login_failures()

    def code_of(self, user):
        """The code the user's authenticator app shows now."""
        return self.authenticator[user].generate().token

    def send_code(self, code):
        page = self.url_open("/web/login/totp")
        self.assertEqual(page.status_code, 200)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        return self.url_open(
            "/web/login/totp",
            data={"totp_token": code, "csrf_token": csrf},
            allow_redirects=False,
        )

    def logged_in(self):
        return self.url_open("/my", allow_redirects=False).status_code == 200

    def assert_two_step_login(self, user, login, password):
        response = self.post_login(login, password)
        self.assertEqual(response.status_code, 303)
        self.assertIn("/web/login/totp", response.headers["Location"])
        self.assertFalse(self.logged_in(), "the password alone does not log in")

        right = self.code_of(user)
        wrong = f"{(int(right) + 1) % 1000000:06d}"
        response = self.send_code(wrong)
        self.assertEqual(response.status_code, 200, "the form again, with its error")
        self.assertFalse(self.logged_in())

        response = self.send_code(right)
        self.assertEqual(response.status_code, 303)
        self.assertNotIn("/web/login", response.headers["Location"])
        self.assertTrue(self.logged_in())

    def test_portal_user_logs_in_with_a_code(self):
        self.assert_two_step_login(self.pat, "pat", PAT_PASSWORD)

    def test_employee_logs_in_with_a_code(self):
        self.assert_two_step_login(self.emma, "pwl_totp_emma", EMMA_PASSWORD)
