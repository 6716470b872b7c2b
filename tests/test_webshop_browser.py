# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A buyer's way through the shop in headless Chromium (website_sale installed;
skipped without), with a screenshot of each step: a guest checkout, "Sign Up"
from the order's confirmation, a login by username on the shop, and a temporary
password sent from the checkout to choose a password and back, the cart kept.

Screenshots: webshop_*.png beside test_browser.py's (var/screenshots/walkthrough/
or $PARTNER_WEBSITE_LOGIN_SCREENSHOTS)."""

import json

from odoo.tests import HttpCase, tagged

from .. import compat
from .test_browser import Walkthrough, screenshots_dir
from .test_webshop import BUYER_PASSWORD, WebshopMixin

ADDRESS = {
    "name": "Gail Guest",
    "email": "gail@home.test",
    "phone": "+32 2 555 01 01",
    "street": "Rue des Tilleuls 4",
    "city": "Namur",
    "zip": "5000",
}


@tagged("post_install", "-at_install")
class TestWebshopBrowser(WebshopMixin, HttpCase):
    browser_size = "1280x900"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_shop()

    def add_to_cart_in_page(self, walk):
        """The cart call the product page's button makes, from the page."""
        # the page may still load (its lazy assets): one request or the test at a time
        with compat.test_request_lock(self):
            variant = self.product.product_variant_id
        if compat.ODOO_MAJOR >= 19:
            route, params = (
                "/shop/cart/add",
                {
                    "product_template_id": self.product.id,
                    "product_id": variant.id,
                    "quantity": 1,
                },
            )
        else:
            route, params = (
                "/shop/cart/update_json",
                {"product_id": variant.id, "add_qty": 1},
            )
        body = json.dumps({"jsonrpc": "2.0", "method": "call", "params": params})
        headers = json.dumps({"Content-Type": "application/json"})
        walk.evaluate(
            f"fetch({json.dumps(route)}, {{method: 'POST', headers: {headers}, "
            f"body: {json.dumps(body)}}}).then((response) => response.json())"
        )

    def submit_address(self, walk):
        """Fill the checkout's address form and send it as its button does."""
        walk.wait_for_selector("form input[name='street']", "the address form")
        for name, value in ADDRESS.items():
            walk.fill(f"form input[name='{name}']", value)
        walk.fill("form select[name='country_id']", str(self.country.id))
        walk.screenshot("webshop_01_guest_address")
        redirect = walk.evaluate(
            """(async () => {
                const form = document.querySelector("input[name='street']").form;
                const response = await fetch("/shop/address/submit",
                    {method: "POST", body: new FormData(form)});
                return (await response.json()).redirectUrl;
            })()"""
        )
        self.assertTrue(redirect, "the shop takes the address")
        walk.open(redirect)

    def test_a_buyers_journey_through_the_shop(self):
        folder = screenshots_dir()
        # a guest orders
        guest = Walkthrough(self, folder)
        self.authenticate(None, None, browser=guest.browser)
        guest.open(f"/shop/{self.product.id}")
        guest.wait_for(
            "document.body.innerText.includes('Walnut Desk Lamp')", "the product"
        )
        self.add_to_cart_in_page(guest)
        guest.open("/shop/address")
        self.submit_address(guest)
        guest.open("/shop/checkout")
        # the checkout page's own calls run on the test's cursor: one at a time
        with compat.test_request_lock(self):
            order = self.cart_order()
            order_name = order.name
            buyer = order.partner_id
            self.assertEqual(buyer.email, "gail@home.test")
            order.sudo().action_confirm()  # what the shop's payment provider does
            self.env.flush_all()  # the pages read the database, not this cache
        guest.open("/shop/confirmation")
        guest.wait_for_selector("a[href*='/web/signup']", "the Sign Up button")
        guest.screenshot("webshop_02_confirmation_sign_up")

        # "Sign Up to follow your order": the order's contact gets its login
        guest.click("a[href*='/web/signup']")
        guest.wait_for_selector("form.oe_signup_form input[name='password']", "sign up")
        self.assertFalse(
            guest.evaluate("document.body.innerText.includes('used already')")
        )
        guest.fill("input[name='password']", BUYER_PASSWORD)
        guest.fill("input[name='confirm_password']", BUYER_PASSWORD)
        guest.screenshot("webshop_03_sign_up")
        guest.click("form.oe_signup_form button[type='submit']")
        guest.wait_for(
            "!location.pathname.startsWith('/web/signup')", "the account created"
        )
        guest.stop()
        with compat.test_request_lock(self):
            buyer.invalidate_recordset()
            self.assertTrue(buyer.allow_login)
            self.assertEqual(len(buyer.user_ids), 1)
            # a manager gives the buyer a username: it logs in with it on the shop
            buyer.with_user(self.manager).username = "gail"
            self.env.flush_all()
        visitor = Walkthrough(self, folder)
        self.authenticate(None, None, browser=visitor.browser)
        visitor.open("/web/login?redirect=/my/orders")
        visitor.fill("input[name='login']", "gail")
        visitor.fill("input[name='password']", BUYER_PASSWORD)
        self.assertEqual(
            visitor.evaluate("document.querySelector('label[for=login]').innerText"),
            "Email or username",
        )
        visitor.screenshot("webshop_04_login_by_username")
        visitor.click("form.oe_login_form button[type='submit']")
        visitor.wait_for(
            "location.pathname === '/my/orders' && "
            f"document.body.innerText.includes({json.dumps(order_name)})",
            "the buyer's orders",
        )
        visitor.screenshot("webshop_05_my_orders")
        visitor.stop()

        # a temporary password: the checkout waits for a password of one's own
        with compat.test_request_lock(self):
            tess = self.make_shop_buyer()
            password = self.issue(tess)
            self.env.flush_all()
        shopper = Walkthrough(self, folder)
        self.authenticate(None, None, browser=shopper.browser)
        shopper.open("/shop")
        self.add_to_cart_in_page(shopper)
        with compat.test_request_lock(self):
            cart = self.cart_order()
        shopper.open("/web/login?redirect=/shop/checkout")
        shopper.fill("input[name='login']", "tess")
        shopper.fill("input[name='password']", password)
        shopper.click("form.oe_login_form button[type='submit']")
        shopper.wait_for(
            "location.pathname === '/my/security' && "
            "document.body.innerText.includes('Choose your password')",
            "the page to choose a password",
        )
        self.assertEqual(
            shopper.evaluate("new URLSearchParams(location.search).get('redirect')"),
            "/shop/checkout",
        )
        self.assertFalse(shopper.evaluate("document.body.innerText.includes('Gent')"))
        shopper.screenshot("webshop_06_checkout_waits_for_password")
        shopper.fill("input[name='new1']", BUYER_PASSWORD)
        shopper.fill("input[name='new2']", BUYER_PASSWORD)
        shopper.click("form.oe_reset_password_form button[type='submit']")
        shopper.wait_for(
            "location.pathname.startsWith('/shop') && "
            "document.body.innerText.includes('Kerkstraat')",
            "the checkout with the contact's address",
        )
        shopper.screenshot("webshop_07_back_at_checkout")
        shopper.open("/shop/cart")
        shopper.wait_for(
            "document.body.innerText.includes('Walnut Desk Lamp')", "the cart kept"
        )
        shopper.stop()
        with compat.test_request_lock(self):
            self.assertEqual(self.cart_order(), cart)
            cart.invalidate_recordset()
            self.assertEqual(cart.partner_id, tess)
