# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json
import re
from datetime import timedelta
from urllib.parse import urlparse

from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import HttpCase, new_test_user, tagged

from .. import compat
from ..models.partner_login_credential import (
    TEMPORARY_PASSWORD_ALPHABET,
    TEMPORARY_PASSWORD_LENGTH,
)
from .common import WebsiteLoginCase


@tagged("post_install", "-at_install")
class TestTemporaryPassword(WebsiteLoginCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_website_login()
        cls.jane = cls.make_contact()

    def setUp(self):
        super().setUp()
        self.forget_login_failures()

    def logs_in(self, login, password):
        response = self.post_login(login, password)
        return response.status_code == 303

    def test_issuing_creates_a_portal_user_without_odoo_signup_mail(self):
        mails_before = self.env["mail.mail"].search_count([])
        password = self.issue(self.jane)
        user = self.jane.website_user_id
        self.assertTrue(user.has_group("base.group_portal"))
        self.assertEqual(user.login, "jane.doe")
        self.assertEqual(self.env["mail.mail"].search_count([]), mails_before)
        self.assertEqual(len(password), TEMPORARY_PASSWORD_LENGTH)
        self.assertTrue(set(password) <= set(TEMPORARY_PASSWORD_ALPHABET))
        self.assertNotEqual(password, self.issue(self.jane))
        self.assertEqual(self.jane.website_access_state, "invited")
        self.assertTrue(self.jane.allow_login)

    def test_only_a_keyed_hash_is_stored(self):
        password = self.issue(self.jane)
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT secret_hash FROM partner_login_credential WHERE user_id = %s",
            [self.jane.website_user_id.id],
        )
        [stored] = self.env.cr.fetchone()
        self.assertNotIn(password, stored)
        self.assertRegex(stored, r"^[0-9a-f]{64}$")
        self.env.cr.execute(
            "SELECT count(*) FROM res_users WHERE password = %s", [password]
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0)

    def test_refuses_internal_users_and_contacts_without_a_valid_email(self):
        internal = new_test_user(self.env, login="staff", groups="base.group_user")
        internal.partner_id.email = "staff@ourcompany.test"
        no_email = self.make_contact(name="No Mail", username="nomail", email=False)
        two_emails = self.make_contact(
            name="Two Mails", username="two", email="a@x.test, b@x.test"
        )
        for partner, message in (
            (internal.partner_id, "internal user"),
            (no_email, "no valid email"),
            (two_emails, "no valid email"),
        ):
            with self.subTest(partner=partner.name):
                with self.assertRaisesRegex(UserError, message):
                    self.env["partner.login.credential"]._issue(partner)

    def test_a_new_password_replaces_the_previous_one_and_the_own_one(self):
        first = self.issue(self.jane)
        self.jane.website_user_id.password = "Own-Password-42!"
        second = self.issue(self.jane)
        self.assertFalse(self.logs_in("jane.doe", first))
        self.assertFalse(self.logs_in("jane.doe", "Own-Password-42!"))
        self.assertTrue(self.logs_in("jane.doe", second))

    def test_an_expired_password_is_refused_and_shown_expired(self):
        password = self.issue(self.jane)
        # the default, with no system parameter set
        self.assertEqual(self.env["partner.login.credential"]._validity_hours(), 48)
        expires = self.jane.website_password_expires
        self.assertAlmostEqual(
            expires,
            fields.Datetime.now() + timedelta(hours=48),
            delta=timedelta(minutes=1),
        )
        with freeze_time(expires + timedelta(seconds=1)):
            self.assertFalse(self.logs_in("jane.doe", password))
            self.env["partner.login.credential"]._cron_expire()
        self.assertEqual(self.jane.website_access_state, "expired")

    def test_the_validity_setting_is_read(self):
        self.env["ir.config_parameter"].set_param(
            "partner_website_login.temp_password_hours", 2
        )
        self.issue(self.jane)
        self.assertAlmostEqual(
            self.jane.website_password_expires,
            fields.Datetime.now() + timedelta(hours=2),
            delta=timedelta(minutes=1),
        )

    def test_temporary_password_leads_to_my_security_until_changed(self):
        password = self.issue(self.jane)
        self.assertTrue(self.logs_in("jane.doe", password))
        for page in ("/my", "/my/home", "/odoo", "/my/account"):
            with self.subTest(page=page):
                response = self.url_open(page)
                self.assertEqual(urlparse(response.url).path, "/my/security")
        security = self.url_open("/my/security")
        # only what the contact can do now: choose a password, the field it wants
        self.assertIn("Choose your password", security.text)
        # not the temporary password again: this session was opened with it
        self.assertNotIn('name="old"', security.text)
        for later in ("Two-factor", "Log out from all devices", "API Key"):
            self.assertNotIn(later, security.text)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', security.text).group(1)
        response = self.url_open(
            "/my/security",
            data={
                "op": "password",
                "new1": "Chosen-By-Jane-7",
                "new2": "Chosen-By-Jane-7",
                "csrf_token": csrf,
            },
            allow_redirects=False,
        )
        # on to the portal, which now opens; the security page is Odoo's again
        self.assertEqual(response.status_code, 303)
        self.assertEqual(urlparse(response.headers["Location"]).path, "/my")
        self.assertIn("Two-factor", self.url_open("/my/security").text)
        self.assertEqual(self.url_open("/my", allow_redirects=False).status_code, 200)
        self.assertEqual(self.jane.website_access_state, "active")
        self.assertFalse(self.logs_in("jane.doe", password))
        self.assertTrue(self.logs_in("jane.doe", "Chosen-By-Jane-7"))

    def test_portal_signup_lets_in_without_joining_the_bulk_invite(self):
        self.env["ir.config_parameter"].set_param("auth_signup.invitation_scope", "b2c")
        self.env["res.users"].signup(
            {
                "login": "new@visitor.test",
                "name": "New Visitor",
                "password": "Visitor-1",
            }
        )
        partner = (
            self.env["res.users"]
            .search([("login", "=", "new@visitor.test")])
            .partner_id
        )
        self.assertFalse(partner.website_enabled)  # nothing to invite: has a password
        self.assertTrue(partner.allow_login)
        self.assertTrue(self.logs_in("new@visitor.test", "Visitor-1"))


# the gate's answer to a JSON-RPC call
REFUSED = "werkzeug.exceptions.Forbidden"


@tagged("post_install", "-at_install")
class TestTemporaryPasswordGate(WebsiteLoginCase, HttpCase):
    """While a temporary password is in use, JSON calls wait for a credential of
    one's own; on 19.0 that may be a passkey (auth_passkey_portal on /my/security),
    which ends the temporary password as a password of one's own does."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_website_login()
        cls.jane = cls.make_contact()

    def setUp(self):
        super().setUp()
        self.forget_login_failures()
        self.password = self.issue(self.jane)
        self.assertEqual(self.post_login("jane.doe", self.password).status_code, 303)

    def call(self, model, method, args, kwargs=None):
        """A web client's call: (the error's name or None, its result)."""
        response = self.url_open(
            f"/web/dataset/call_kw/{model}/{method}",
            data=json.dumps(
                {
                    "jsonrpc": "2.0",
                    "method": "call",
                    "params": {
                        "model": model,
                        "method": method,
                        "args": args,
                        "kwargs": kwargs or {},
                    },
                }
            ),
            headers={"Content-Type": "application/json"},
        )
        answer = response.json()
        error = answer.get("error")
        return error and error["data"]["name"], answer.get("result")

    def test_json_calls_and_bearer_routes_are_refused(self):
        uid = self.jane.website_user_id.id
        self.assertEqual(self.call("res.users", "api_key_wizard", [[uid]])[0], REFUSED)
        self.assertEqual(self.call("res.partner", "read", [[self.jane.id]])[0], REFUSED)
        # 19.0's /json/2 (auth="bearer") takes a browser's session with its headers
        response = self.url_open(
            "/json/2/res.partner/read",
            data=json.dumps({"ids": [self.jane.id], "fields": ["email"]}),
            headers={
                "Content-Type": "application/json",
                "Sec-Fetch-Dest": "document",
                "Sec-Fetch-Mode": "navigate",
                "Sec-Fetch-Site": "same-origin",
                "Sec-Fetch-User": "?1",
            },
        )
        if compat.ODOO_MAJOR >= 19:
            self.assertEqual(response.status_code, 403)
        else:  # 18.0 has no /json/2: nothing of the contact's comes back
            self.assertNotIn(self.jane.email, response.text)

    def test_a_first_passkey_ends_the_temporary_password(self):
        user = self.jane.website_user_id
        if compat.ODOO_MAJOR < 19:
            self.assertNotIn("auth.passkey.key", self.env)  # 18.0 has no passkeys
            return
        # /my/security's "Add Passkey": the identity check, with the temporary
        # password, then the passkey's options
        error, check = self.call("res.users", "action_create_passkey", [[user.id]])
        self.assertEqual((error, check["res_model"]), (None, "res.users.identitycheck"))
        error, action = self.call(
            "res.users.identitycheck",
            "run_check",
            [[check["res_id"]]],
            {"context": {"password": self.password}},
        )
        self.assertIsNone(error)
        self.assertEqual(action["res_model"], "auth.passkey.key.create")
        self.assertIn("challenge", action["context"]["registration"])
        # an identity check made for anything else stays refused
        other = (
            self.env["res.users.identitycheck"]
            .with_user(user)
            .sudo()
            .create(
                {
                    "request": json.dumps(
                        [{}, "res.users", [user.id], "api_key_wizard", [], {}]
                    )
                }
            )
        )
        other.create_uid = user
        self.assertEqual(
            self.call(
                "res.users.identitycheck",
                "run_check",
                [[other.id]],
                {"context": {"password": self.password}},
            )[0],
            REFUSED,
        )
        # the passkey saved as auth.passkey.key.create's make_key saves it (its
        # WebAuthn verification needs an authenticator)
        user.sudo().write(
            {
                "auth_passkey_key_ids": [
                    Command.create({"name": "Key", "credential_identifier": "k1"})
                ]
            }
        )
        credentials = self.env["partner.login.credential"]
        self.assertFalse(credentials._must_change_password(user))  # the gate opens
        self.assertFalse(credentials.sudo().search([("user_id", "=", user.id)]))
        self.assertEqual(self.jane.website_access_state, "active")
        self.assertNotEqual(self.post_login("jane.doe", self.password).status_code, 303)
