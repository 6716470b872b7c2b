# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The addon on a shop (website_sale installed beside it; skipped without): a guest
buyer's "Sign Up to follow your order" makes the login of the order's contact, a
contact a manager kept out stays out, and a temporary password's session reaches
no shop page with the contact's data until the password is replaced, the cart
kept."""

import json
import re
import unittest
from urllib.parse import parse_qs, urlsplit

from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .. import compat
from .common import WebsiteLoginCase

BUYER_PASSWORD = "Buyer-Own-Pass-42!"
LINK_REFUSED = "This link was used already or has expired"


class WebshopMixin(WebsiteLoginCase):
    """A shop with one published product, and a visitor's way through it over
    HTTP, as the shop's own pages call it."""

    @classmethod
    def setup_shop(cls):
        modules = cls.env["ir.module.module"].sudo()
        if not modules.search_count(
            [("name", "=", "website_sale"), ("state", "=", "installed")]
        ):
            raise unittest.SkipTest("website_sale is not installed")
        cls.setup_website_login()
        # website_sale's own default: visitors sign up themselves (b2c)
        cls.env["ir.config_parameter"].set_param("auth_signup.invitation_scope", "b2c")
        cls.website = cls.env["website"].get_current_website()
        cls.website.auth_signup_uninvited = "b2c"
        cls.product = cls.env["product.template"].create(
            {
                "name": "Walnut Desk Lamp",
                "list_price": 49.0,
                "sale_ok": True,
                "is_published": True,
                "website_sequence": 1,
            }
        )
        cls.country = cls.env.ref("base.be")

    @classmethod
    def make_shop_buyer(cls):
        """A contact of the shop with a username and a Belgian address."""
        return cls.make_contact(
            name="Tess Temporary",
            username="tess",
            street="Kerkstraat 9",
            city="Gent",
            zip="9000",
            phone="+32 9 555 02 02",
            country_id=cls.country.id,
        )

    def csrf(self, html):
        match = re.search(r'csrf_token["\']?\s*(?::|value=)\s*["\']([^"\']+)', html)
        self.assertTrue(match, "a CSRF token on the page")
        return match.group(1)

    def add_to_cart(self):
        variant = self.product.product_variant_id
        if compat.ODOO_MAJOR >= 19:
            self.make_jsonrpc_request(
                "/shop/cart/add",
                {
                    "product_template_id": self.product.id,
                    "product_id": variant.id,
                    "quantity": 1,
                },
            )
        else:
            self.make_jsonrpc_request(
                "/shop/cart/update_json", {"product_id": variant.id, "add_qty": 1}
            )

    def cart_order(self):
        """The order of the session's cart, as the shop finds it (sudo: tests)."""
        return (
            self.env["sale.order"]
            .sudo()
            .search(
                [("order_line.product_id", "=", self.product.product_variant_id.id)],
                order="id desc",
                limit=1,
            )
        )

    def guest_checkout(self, email, name="Gail Guest"):
        """A visitor fills a cart and gives its address at checkout: the order and
        the contact the shop made for it."""
        self.add_to_cart()
        page = self.url_open("/shop/address")
        self.assertEqual(page.status_code, 200)
        answer = self.url_open(
            "/shop/address/submit",
            data={
                "csrf_token": self.csrf(page.text),
                "address_type": "billing",
                "use_delivery_as_billing": "true",
                "name": name,
                "email": email,
                "phone": "+32 2 555 01 01",
                "street": "Rue des Tilleuls 4",
                "city": "Namur",
                "zip": "5000",
                "country_id": str(self.country.id),
            },
        )
        self.assertEqual(answer.status_code, 200)
        self.assertNotIn("invalid_fields", json.loads(answer.text) or {})
        self.url_open("/shop/checkout")
        order = self.cart_order()
        self.assertEqual(order.partner_id.email, email)
        return order, order.partner_id

    def sign_up_link(self):
        """The "Sign Up" link of the order's confirmation page, as the guest sees
        it."""
        page = self.url_open("/shop/confirmation")
        self.assertEqual(page.status_code, 200)
        match = re.search(r'href="([^"]*/web/signup[^"]*)"', page.text)
        self.assertTrue(match, "a Sign Up button on the confirmation page")
        self.assertIn("to follow your order", page.text)
        return match.group(1).replace("&amp;", "&")

    def sign_up(self, link, password=BUYER_PASSWORD):
        """Open the link and choose a password, as the buyer does: the answer."""
        page = self.url_open(link)
        self.assertEqual(page.status_code, 200)
        if LINK_REFUSED in page.text:
            return page
        token = parse_qs(urlsplit(link).query)["token"][0]
        field = re.search(r'<input[^>]*name="login"[^>]*>', page.text)
        login = field and re.search(r'value="([^"]*)"', field.group(0))
        return self.url_open(
            "/web/signup",
            data={
                "csrf_token": self.csrf(page.text),
                "token": token,
                "login": login.group(1) if login else "",
                "name": "Gail Guest",
                "password": password,
                "confirm_password": password,
            },
            allow_redirects=False,
        )


@tagged("post_install", "-at_install")
class TestWebshopSignup(WebshopMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_shop()

    def setUp(self):
        super().setUp()
        self.forget_login_failures()

    def users_of(self, partner):
        return (
            self.env["res.users"]
            .with_context(active_test=False)
            .search([("partner_id", "=", partner.id)])
        )

    def test_a_guest_buyers_sign_up_makes_the_login_of_the_orders_contact(self):
        order, buyer = self.guest_checkout("gail@home.test")
        self.assertFalse(buyer.allow_login)
        answer = self.sign_up(self.sign_up_link())
        self.assertNotIn(LINK_REFUSED, answer.text)
        self.assertEqual(answer.status_code, 303)  # logged in, on its way
        buyer.invalidate_recordset()
        # one account, of the order's contact, that may log in
        user = self.users_of(buyer)
        self.assertEqual(len(user), 1)
        self.assertTrue(user.active)
        self.assertTrue(buyer.allow_login)
        self.assertEqual(
            self.env["res.partner"].search_count([("email", "=", "gail@home.test")]),
            1,
            "no second contact for the same buyer",
        )
        self.assertTrue(self.authenticates("gail@home.test", BUYER_PASSWORD))
        # the buyer follows the order in the portal
        self.authenticate("gail@home.test", BUYER_PASSWORD)
        orders = self.url_open("/my/orders")
        self.assertEqual(orders.status_code, 200)
        order.invalidate_recordset()
        if order.state == "draft":
            order.sudo().action_confirm()  # what the shop's payment does
        self.assertIn(order.name, self.url_open("/my/orders").text)

    @mute_logger("odoo.http", "odoo.addons.base.models.res_users")
    def test_a_checkout_contact_a_manager_revoked_stays_out(self):
        _order, buyer = self.guest_checkout("rita@home.test")
        self.sign_up(self.sign_up_link())
        self.url_open("/web/session/logout", allow_redirects=False)
        user = self.users_of(buyer)
        self.assertTrue(user)
        buyer.with_user(self.manager).action_revoke_website_access()
        self.assertTrue(buyer.website_access_ended_by_manager)
        # any token of the revoked contact, as an employee would get it
        buyer.sudo().signup_prepare()
        token = buyer.sudo()._generate_signup_token()
        answer = self.sign_up(f"/web/signup?token={token}")
        self.assertIn(LINK_REFUSED, answer.text)
        user.invalidate_recordset()
        self.assertFalse(user.active)
        self.assertFalse(buyer.allow_login)
        self.assertFalse(self.authenticates("rita@home.test", BUYER_PASSWORD))

    @mute_logger("odoo.http", "odoo.addons.base.models.res_users")
    def test_a_checkout_contact_whose_allow_login_a_manager_turned_off_stays_out(
        self,
    ):
        _order, buyer = self.guest_checkout("otto@home.test")
        link = self.sign_up_link()
        buyer.with_user(self.manager).allow_login = True
        buyer.with_user(self.manager).allow_login = False
        self.assertTrue(buyer.website_access_ended_by_manager)
        answer = self.sign_up(link)
        self.assertIn(LINK_REFUSED, answer.text)
        self.assertFalse(self.users_of(buyer))
        # a manager lets it in again: its buyer may sign up
        buyer.with_user(self.manager).allow_login = True
        self.assertFalse(buyer.website_access_ended_by_manager)
        answer = self.sign_up(self.sign_up_link())
        self.assertEqual(answer.status_code, 303)
        self.assertTrue(self.users_of(buyer))

    @mute_logger("odoo.http", "odoo.addons.base.models.res_users")
    def test_a_checkout_contact_whose_user_was_archived_stays_out(self):
        _order, buyer = self.guest_checkout("arch@home.test")
        self.sign_up(self.sign_up_link())
        self.url_open("/web/session/logout", allow_redirects=False)
        user = self.users_of(buyer)
        user.with_user(self.env.ref("base.user_admin")).active = False
        buyer.invalidate_recordset()
        self.assertFalse(buyer.allow_login)
        buyer.sudo().signup_prepare()
        answer = self.sign_up(
            f"/web/signup?token={buyer.sudo()._generate_signup_token()}"
        )
        self.assertIn(LINK_REFUSED, answer.text)
        self.assertEqual(self.users_of(buyer), user)
        self.assertFalse(user.active)

    @mute_logger("odoo.http", "odoo.addons.base.models.res_users")
    def test_a_contact_a_visitors_other_form_made_is_refused(self):
        """A visitor's contact without a web order (a contact form, say)."""
        contact = (
            self.env["res.partner"]
            .with_user(self.website.user_id)
            .sudo()
            .create({"name": "Form Visitor", "email": "form@home.test"})
        )
        contact.signup_prepare()
        answer = self.sign_up(f"/web/signup?token={contact._generate_signup_token()}")
        self.assertIn(LINK_REFUSED, answer.text)
        self.assertFalse(self.users_of(contact))

    @mute_logger("odoo.http", "odoo.addons.base.models.res_users")
    def test_an_employees_token_for_a_customer_made_in_the_backend_is_refused(self):
        """Only a contact the visitor made itself signs up by its token."""
        customer = self.env["res.partner"].create(
            {"name": "Backend Customer", "email": "backend@retailer.test"}
        )
        employee = new_test_user(
            self.env, login="pwl_shop_clerk", groups="base.group_user"
        )
        token = (
            customer.with_user(employee)
            .signup_get_auth_param()[customer.id]
            .get("auth_signup_token")
        )
        self.assertTrue(token)
        answer = self.sign_up(f"/web/signup?token={token}")
        self.assertIn(LINK_REFUSED, answer.text)
        self.assertFalse(self.users_of(customer))


@tagged("post_install", "-at_install")
class TestWebshopTemporaryPassword(WebshopMixin, HttpCase):
    """Whoever read a temporary password's mail reaches no page with the
    contact's data, nor orders in its name, until a password of its own is set."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_shop()
        cls.buyer = cls.make_shop_buyer()

    def setUp(self):
        super().setUp()
        self.forget_login_failures()

    def own_data_pages(self):
        pages = [
            "/shop/checkout",
            "/shop/address",
            "/shop/payment",
            "/shop/extra_info",
            "/shop/confirmation",
            "/my/orders",
            "/my/account",
        ]
        if compat.ODOO_MAJOR < 19:
            pages.append("/shop/confirm_order")
        if "product.wishlist" in self.env:
            pages.append("/shop/wishlist")
        return pages

    def test_a_temporary_password_is_sent_from_each_shop_page_and_back(self):
        password = self.issue(self.buyer)
        self.add_to_cart()  # as a visitor, before logging in
        cart = self.cart_order()
        page = self.url_open("/web/login")
        login = self.url_open(
            "/web/login",
            data={
                "login": "tess",
                "password": password,
                "csrf_token": self.csrf(page.text),
            },
            allow_redirects=False,
        )
        self.assertEqual(login.status_code, 303)
        self.assertEqual(self.cart_order(), cart)
        for page in self.own_data_pages():
            with self.subTest(page=page):
                answer = self.url_open(page, allow_redirects=False)
                self.assertEqual(answer.status_code, 303)
                target = urlsplit(answer.headers["Location"])
                self.assertEqual(target.path, "/my/security")
                self.assertEqual(parse_qs(target.query).get("redirect"), [page])
        # nor does a script of the checkout pay in its name
        transactions = self.env["payment.transaction"].sudo()
        before = transactions.search_count([])
        answer = self.url_open(
            f"/shop/payment/transaction/{cart.id}",
            data=json.dumps(
                {"jsonrpc": "2.0", "method": "call", "params": {"access_token": ""}}
            ),
            headers={"Content-Type": "application/json"},
        )
        self.assertIn("error", answer.json())
        self.assertEqual(transactions.search_count([]), before)
        # the catalogue and the cart stay open, the cart kept
        self.assertEqual(self.url_open("/shop").status_code, 200)
        cart_page = self.url_open("/shop/cart", allow_redirects=False)
        self.assertEqual(cart_page.status_code, 200)
        self.assertIn("Walnut Desk Lamp", cart_page.text)
        self.assertNotIn("Kerkstraat", cart_page.text)
        # the page to choose a password, and back to the checkout
        security = self.url_open(
            "/my/security?website_password_change=1&redirect=/shop/checkout"
        )
        self.assertIn("Choose your password", security.text)
        self.assertIn('name="redirect" value="/shop/checkout"', security.text)
        answer = self.url_open(
            "/my/security",
            data={
                "csrf_token": self.csrf(security.text),
                "op": "password",
                "new1": BUYER_PASSWORD,
                "new2": BUYER_PASSWORD,
                "redirect": "/shop/checkout",
            },
            allow_redirects=False,
        )
        self.assertEqual(answer.status_code, 303)
        self.assertEqual(urlsplit(answer.headers["Location"]).path, "/shop/checkout")
        checkout = self.url_open("/shop/checkout")
        self.assertEqual(checkout.status_code, 200)
        self.assertNotIn("/my/security", checkout.url)
        self.assertIn("Kerkstraat", checkout.text)  # now the contact's address shows
        self.assertEqual(self.cart_order(), cart)
        cart.invalidate_recordset()
        self.assertEqual(cart.partner_id, self.buyer)
        self.assertIn("Walnut Desk Lamp", self.url_open("/shop/cart").text)

    def test_the_page_to_choose_a_password_goes_nowhere_but_this_site(self):
        password = self.issue(self.buyer)
        self.post_login("tess", password)
        security = self.url_open("/my/security?redirect=https://evil.test/x")
        answer = self.url_open(
            "/my/security",
            data={
                "csrf_token": self.csrf(security.text),
                "op": "password",
                "new1": BUYER_PASSWORD,
                "new2": BUYER_PASSWORD,
                "redirect": "//evil.test/x",
            },
            allow_redirects=False,
        )
        self.assertEqual(answer.status_code, 303)
        target = urlsplit(answer.headers["Location"])
        self.assertNotIn("evil", target.netloc)
        self.assertEqual(target.path, "/my")


@tagged("post_install", "-at_install")
class TestLoginFieldLabels(WebsiteLoginCase, HttpCase):
    """The pages that take a login name what they take (with or without a
    website)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_website_login()
        cls.env["ir.config_parameter"].set_param("auth_signup.reset_password", "True")
        cls.env["ir.config_parameter"].set_param("auth_signup.invitation_scope", "b2c")

    def label(self, html):
        match = re.search(r'<label for="login"[^>]*>\s*([^<]*?)\s*</label>', html)
        return match and match.group(1)

    def test_reset_password_asks_for_an_email_or_a_username(self):
        page = self.url_open("/web/reset_password")
        self.assertEqual(self.label(page.text), "Email or username")

    def test_sign_up_names_a_username_only_where_it_shows_a_login(self):
        self.assertEqual(self.label(self.url_open("/web/signup").text), "Email")
        jane = self.make_active_contact("Jane-Own-Pass-1")
        jane.sudo().signup_prepare()
        token = jane.sudo()._generate_signup_token()
        page = self.url_open(f"/web/signup?token={token}")
        self.assertEqual(self.label(page.text), "Email or username")
