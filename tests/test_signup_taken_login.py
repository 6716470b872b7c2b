# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A visitor's free sign-up cannot take a login somebody logs in by (a customer's
email, a username), and an email that is both one user's login and another's email
login logs nobody in. With Odoo's website addon, "taken" follows its rule: one
account per login per website (a website's "Specific User Account")."""

import re

from odoo.exceptions import UserError
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .. import compat
from .common import REFUSAL, WebsiteLoginCase, password_from, smtp_server

PASSWORD = "Customer-Own-42!"
VISITOR_PASSWORD = "Visitor-Chosen-1"
# Odoo's own answer to a sign-up with a login that exists (auth_signup)
TAKEN = "Another user is already registered using this email address."
SHARED_EMAIL = "buyer@two-shops.test"


class SignupMixin:
    def open_free_signup(self):
        """Settings > Free sign up (website_sale turns it on per website)."""
        self.env["ir.config_parameter"].set_param("auth_signup.invitation_scope", "b2c")
        if "website" in self.env:
            self.env["website"].search([]).auth_signup_uninvited = "b2c"

    def form_post(self, url, values, host=None):
        """A form of ``url`` filled in as a browser does, on the website named by
        ``host`` (its domain) if given."""
        headers = {"Host": host} if host else None
        page = self.url_open(url, headers=headers)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        return self.url_open(
            url,
            data={"csrf_token": csrf, **values},
            headers=headers,
            allow_redirects=False,
        )

    def log_out(self, host=None):
        # the test's browser keeps a session per host name
        headers = {"Host": host} if host else None
        self.url_open("/web/session/logout", headers=headers, allow_redirects=False)

    def visitor_signs_up(self, login, host=None):
        self.log_out(host)
        return self.form_post(
            "/web/signup",
            {
                "login": login,
                "name": "A Visitor",
                "password": VISITOR_PASSWORD,
                "confirm_password": VISITOR_PASSWORD,
            },
            host,
        )

    def logs_in(self, login, password, host=None):
        """Whether /web/login (on the website of ``host``) lets the pair in."""
        self.log_out(host)
        response = self.form_post(
            "/web/login", {"login": login, "password": password}, host
        )
        if response.status_code == 303:
            self.assertNotIn("/web/login", response.headers["Location"])
            return True
        self.assertEqual(response.status_code, 200)
        self.assertIn(REFUSAL, response.text)
        return False

    def assertSignupRefused(self, response):
        self.assertEqual(response.status_code, 200, "no account, no redirect")
        self.assertIn(TAKEN, response.text)
        self.assertNotIn("Could not create a new account", response.text)

    def users_with_login(self, login):
        return (
            self.env["res.users"]
            .with_context(active_test=False)
            .search([("login", "=ilike", login)])
        )


@tagged("post_install", "-at_install")
class TestSignupTakenLogin(SignupMixin, WebsiteLoginCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_website_login()
        cls.jane = cls.make_active_contact(PASSWORD)

    def setUp(self):
        super().setUp()
        self.forget_login_failures()
        self.open_free_signup()

    @mute_logger("odoo.http", "odoo.addons.base.models.res_users")
    def test_a_visitor_cannot_sign_up_with_a_customers_email(self):
        for login in ("jane.doe@retailer.test", "JANE.Doe@Retailer.TEST"):
            with self.subTest(login=login):
                self.assertSignupRefused(self.visitor_signs_up(login))
                self.assertFalse(self.users_with_login(login))
        self.assertTrue(self.logs_in("jane.doe@retailer.test", PASSWORD))
        self.assertFalse(self.logs_in("jane.doe@retailer.test", VISITOR_PASSWORD))
        self.assertFalse(self.logs_in("JANE.DOE@RETAILER.TEST", VISITOR_PASSWORD))

    @mute_logger("odoo.http", "odoo.addons.base.models.res_users")
    def test_a_username_or_the_email_a_customer_was_mailed_is_taken_alike(self):
        # the email the customer's login mail went to, though its contact now
        # shows another one
        self.env["partner.login.access"]._delivered(self.jane, by_run=False)
        self.jane.with_user(self.manager).email = "jane.new@retailer.test"
        answers = {
            login: self.visitor_signs_up(login)
            for login in ("jane.doe", "JANE.DOE", "jane.doe@retailer.test")
        }
        for login, answer in answers.items():
            with self.subTest(login=login):
                self.assertSignupRefused(answer)
        self.assertTrue(self.logs_in("jane.doe@retailer.test", PASSWORD))
        # the same page as for a login that is a user's login (Odoo's own check)
        internal = self.visitor_signs_up("pwl_manager")
        self.assertSignupRefused(internal)

    def test_a_free_email_still_signs_up(self):
        answer = self.visitor_signs_up("new.buyer@shop.test")
        self.assertEqual(answer.status_code, 303)
        self.assertTrue(self.logs_in("new.buyer@shop.test", VISITOR_PASSWORD))

    @mute_logger("odoo.http", "odoo.addons.base.models.res_users")
    def test_an_email_that_is_a_login_and_another_email_login_logs_nobody_in(self):
        # made before sign-ups were checked: a user whose login is Jane's email
        taker = self.env["res.users"].create(
            {
                "name": "Earlier Taker",
                "login": "jane.doe@retailer.test",
                "email": "taker@elsewhere.test",
                "password": VISITOR_PASSWORD,
                compat.GROUPS_FIELD: [(6, 0, [self.env.ref("base.group_portal").id])],
            }
        )
        self.assertTrue(taker.share)
        self.assertFalse(self.logs_in("jane.doe@retailer.test", VISITOR_PASSWORD))
        self.assertFalse(self.logs_in("jane.doe@retailer.test", PASSWORD))
        self.assertTrue(self.logs_in("jane.doe", PASSWORD))  # its username still does

    def test_a_contact_without_username_is_refused_before_the_window_opens(self):
        other = self.make_contact(
            name="Same Mailbox",
            username=False,
            website_enabled=False,
            email="jane.doe@retailer.test",
        )
        with smtp_server(self.env) as smtp:
            with self.assertRaisesRegex(UserError, "already belongs to another user"):
                other.with_user(self.manager).action_random_password_mail()
            self.assertFalse(smtp.messages)
        self.assertFalse(other.user_ids)


@tagged("post_install", "-at_install")
class TestAccountsPerWebsite(SignupMixin, WebsiteLoginCase, HttpCase):
    """Two shops with accounts of their own ("Specific User Account"): the same
    buyer at both, by one email."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_website_login()

    def setUp(self):
        super().setUp()
        if "website" not in self.env:
            self.skipTest(
                "needs Odoo's website addon (the test database with website_sale)"
            )
        self.forget_login_failures()
        self.open_free_signup()
        websites = self.env["website"]
        self.shop_one = websites.create(
            {"name": "Shop One", "domain": "https://shop-one.test"}
        )
        self.shop_two = websites.create(
            {"name": "Shop Two", "domain": "https://shop-two.test"}
        )
        (self.shop_one | self.shop_two).write(
            {"specific_user_account": True, "auth_signup_uninvited": "b2c"}
        )
        # at shop one with a username, at shop two by its email only
        self.at_one = self.make_contact(
            name="Buyer One",
            username="buyer.one",
            email=SHARED_EMAIL,
            website_id=self.shop_one.id,
        )
        self.at_two = self.make_contact(
            name="Buyer Two",
            username=False,
            website_enabled=False,
            email=SHARED_EMAIL,
            website_id=self.shop_two.id,
        )

    def mail_password(self, partner):
        """Random Password Mail as a Website Login manager: the password mailed."""
        with smtp_server(self.env) as smtp:
            action = partner.with_user(self.manager).action_random_password_mail()
            window = self.env[action["res_model"]].with_user(self.manager)
            window = window.browse(action["res_id"])
            self.assertFalse(window.line_ids.refusal)
            window.action_send()
        [message] = smtp.messages
        return password_from(message)

    @mute_logger("odoo.http", "odoo.addons.base.models.res_users")
    def test_each_shop_logs_in_its_own_buyer_by_the_shared_email(self):
        one_password = self.mail_password(self.at_one)
        two_password = self.mail_password(self.at_two)
        self.assertTrue(one_password and two_password)
        self.assertEqual(self.at_two.website_user_id.login, SHARED_EMAIL)
        self.assertEqual(self.at_two.website_user_id.website_id, self.shop_two)
        one, two = "shop-one.test", "shop-two.test"
        self.assertTrue(self.logs_in(SHARED_EMAIL, one_password, host=one))
        self.assertFalse(self.logs_in(SHARED_EMAIL, two_password, host=one))
        self.assertTrue(self.logs_in(SHARED_EMAIL.upper(), two_password, host=two))
        self.assertFalse(self.logs_in(SHARED_EMAIL, one_password, host=two))
        self.assertTrue(self.logs_in("buyer.one", one_password, host=one))
        self.assertFalse(self.logs_in("buyer.one", one_password, host=two))

    def test_a_login_taken_on_the_same_shop_is_refused_before_the_window_opens(self):
        self.mail_password(self.at_one)
        again = self.make_contact(
            name="Buyer Again",
            username=False,
            website_enabled=False,
            email=SHARED_EMAIL,
            website_id=self.shop_one.id,
        )
        with smtp_server(self.env) as smtp:
            with self.assertRaisesRegex(UserError, "already belongs to another user"):
                again.with_user(self.manager).action_random_password_mail()
            self.assertFalse(smtp.messages)

    @mute_logger("odoo.http", "odoo.addons.base.models.res_users")
    def test_a_visitor_signs_up_with_the_buyers_email_on_the_other_shop_only(self):
        one_password = self.mail_password(self.at_one)
        one, two = "shop-one.test", "shop-two.test"
        self.assertSignupRefused(self.visitor_signs_up(SHARED_EMAIL.upper(), host=one))
        self.at_two.allow_login = False  # shop two: nobody logs in by it there
        answer = self.visitor_signs_up(SHARED_EMAIL, host=two)
        self.assertEqual(answer.status_code, 303, "Odoo's rule: another website")
        visitor = self.users_with_login(SHARED_EMAIL) - self.at_one.user_ids
        self.assertEqual(visitor.website_id, self.shop_two)
        self.assertTrue(self.logs_in(SHARED_EMAIL, VISITOR_PASSWORD, host=two))
        self.assertFalse(self.logs_in(SHARED_EMAIL, VISITOR_PASSWORD, host=one))
        self.assertTrue(self.logs_in(SHARED_EMAIL, one_password, host=one))
