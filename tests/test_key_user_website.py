# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""With Odoo's website: a second website's key user adds a colleague who belongs
to that website, is invited to it and logs in there only. Skipped without
``website`` (the plain database); scripts/test.sh runs it on the database with
``website_sale``."""

import re
import unittest

from odoo.tests import HttpCase, tagged

from .common import WebsiteLoginCase, message_html, password_from, smtp_server

KIM_PASSWORD = "Kim-Own-Pass-42!"


@tagged("post_install", "-at_install")
class TestKeyUserWebsite(WebsiteLoginCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if "website_id" not in cls.env["res.partner"]._fields:
            raise unittest.SkipTest(
                "Odoo's website is not installed here: the key user's website is "
                "tested on the database with website_sale"
            )
        cls.setup_website_login()
        cls.leave_out_earlier_contacts()
        cls.first_site = cls.env["website"].create(
            {"name": "First Shop", "domain": "https://first-shop.test"}
        )
        cls.second_site = cls.env["website"].create(
            {"name": "Second Shop", "domain": "https://second-shop.test"}
        )
        cls.kim = cls.make_active_contact(
            KIM_PASSWORD,
            name="Kim Key",
            username="kim",
            website_id=cls.second_site.id,
        )
        cls.kim.with_user(cls.manager).website_admin = True

    def logs_in_on(self, website, login, password):
        """/web/login of ``website`` (its host) takes the pair (or shows the login
        page again, refused)."""
        host = {"Host": website.domain.split("://")[1]}
        self.url_open("/web/session/logout", headers=host, allow_redirects=False)
        page = self.url_open("/web/login", headers=host)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        response = self.url_open(
            "/web/login",
            data={"login": login, "password": password, "csrf_token": csrf},
            headers=host,
            allow_redirects=False,
        )
        self.assertIn(response.status_code, (200, 303), login)
        return response.status_code == 303

    def setUp(self):
        super().setUp()
        self.forget_login_failures()

    def test_a_second_websites_key_user_adds_a_colleague_of_its_website(self):
        self.assertTrue(self.logs_in_on(self.second_site, "kim", KIM_PASSWORD))
        host = {"Host": "second-shop.test"}
        page = self.url_open("/my/colleagues/new", headers=host)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        with smtp_server(self.env) as smtp:
            response = self.url_open(
                "/my/colleagues/new",
                data={
                    "name": "Wes Web",
                    "email": "wes@retailer.test",
                    "invite": "1",
                    "csrf_token": csrf,
                },
                headers=host,
                allow_redirects=False,
            )
        self.assertEqual(response.status_code, 303)
        colleague = self.env["res.partner"].search(
            [("email", "=", "wes@retailer.test")]
        )
        self.assertEqual(colleague.website_id, self.second_site)
        [mail] = smtp.messages
        html = message_html(mail)
        self.assertIn("https://second-shop.test/web/login", html)
        self.assertNotIn("first-shop.test", html)
        password = password_from(mail)
        self.assertTrue(self.logs_in_on(self.second_site, "wes", password))
        self.assertFalse(self.logs_in_on(self.first_site, "wes", password))
        self.assertFalse(
            self.logs_in_on(self.first_site, "wes@retailer.test", password)
        )
