# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Odoo's free sign-up beside the addon: a visitor's own sign-up still lets a new
contact in, but no signup token opens a login for a contact a manager kept out,
whoever got the token (the third attack: any employee asks for one)."""

import re

from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import WebsiteLoginCase

PASSWORD = "Own-Password-42!"


@tagged("post_install", "-at_install")
class TestSignup(WebsiteLoginCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_website_login()
        # Settings > Free sign up, usual for a shop
        cls.env["ir.config_parameter"].set_param("auth_signup.invitation_scope", "b2c")
        # an employee without any right on contacts beyond reading them
        cls.plain = new_test_user(
            cls.env, login="pwl_plain", groups="base.group_user", email="p@ours.test"
        )

    def setUp(self):
        super().setUp()
        self.forget_login_failures()

    def token_for(self, partner):
        """What the employee gets over JSON-RPC, as the attacker asked for it."""
        self.authenticate("pwl_plain", "pwl_plain")
        answer = self.call_kw("res.partner", "signup_get_auth_param", [partner.ids])
        self.url_open("/web/session/logout", allow_redirects=False)
        return answer[str(partner.id)].get("auth_signup_token")

    def sign_up(self, token, login, password="Chosen-By-Thief-1"):
        page = self.url_open(f"/web/signup?token={token}")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        return self.url_open(
            "/web/signup",
            data={
                "csrf_token": csrf,
                "token": token,
                "login": login,
                "name": "Whoever",
                "password": password,
                "confirm_password": password,
            },
            allow_redirects=False,
        )

    def logged_in(self, response):
        return response.status_code == 303 and "/web/login" not in response.headers.get(
            "Location", ""
        )

    @mute_logger("odoo.http", "odoo.addons.base.models.res_users")
    def test_a_revoked_contact_is_not_let_back_in_by_a_signup_token(self):
        jane = self.make_active_contact(PASSWORD)
        old_user = jane.website_user_id
        jane.with_user(self.manager).action_revoke_website_access()
        self.assertFalse(old_user.active)
        token = self.token_for(jane)
        self.assertTrue(token, "Odoo still hands employees a token here")
        answer = self.sign_up(token, "thief@evil.test")
        self.assertFalse(self.logged_in(answer))
        old_user.invalidate_recordset()
        self.assertFalse(old_user.active)  # nothing but a manager restores it
        self.assertFalse(jane.allow_login)
        self.assertFalse(
            self.env["res.users"].search([("login", "=", "thief@evil.test")])
        )
        self.assertFalse(self.authenticates("jane.doe", PASSWORD))
        self.assertFalse(self.authenticates("thief@evil.test", "Chosen-By-Thief-1"))

    @mute_logger("odoo.http", "odoo.addons.base.models.res_users")
    def test_a_contact_nobody_let_in_is_not_opened_by_a_signup_token(self):
        customer = self.env["res.partner"].create(
            {"name": "Kept Out", "email": "kept.out@retailer.test"}
        )
        answer = self.sign_up(self.token_for(customer), "kept.out@retailer.test")
        self.assertFalse(self.logged_in(answer))
        self.assertFalse(customer.user_ids)

    def test_a_contact_a_manager_let_in_signs_up_with_its_token(self):
        customer = self.env["res.partner"].create(
            {"name": "Let In", "email": "let.in@retailer.test"}
        )
        customer.with_user(self.manager).allow_login = True
        answer = self.sign_up(self.token_for(customer), "let.in@retailer.test")
        self.assertTrue(self.logged_in(answer))
        self.assertTrue(self.authenticates("let.in@retailer.test", "Chosen-By-Thief-1"))

    def test_a_visitors_own_sign_up_makes_a_contact_that_may_log_in(self):
        page = self.url_open("/web/signup")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        answer = self.url_open(
            "/web/signup",
            data={
                "csrf_token": csrf,
                "login": "new.buyer@shop.test",
                "name": "New Buyer",
                "password": "New-Buyer-Pass-1",
                "confirm_password": "New-Buyer-Pass-1",
            },
            allow_redirects=False,
        )
        self.assertTrue(self.logged_in(answer))
        user = self.env["res.users"].search([("login", "=", "new.buyer@shop.test")])
        self.assertTrue(user.partner_id.allow_login)
        self.assertFalse(user.partner_id.website_enabled)
