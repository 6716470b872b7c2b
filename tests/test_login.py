# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import re

from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import REFUSAL, WebsiteLoginCase

PASSWORD = "Own-Password-42!"


@tagged("post_install", "-at_install")
class TestLogin(WebsiteLoginCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_website_login()
        cls.jane = cls.make_active_contact(PASSWORD)

    def setUp(self):
        super().setUp()
        self.forget_login_failures()

    def assertLoggedIn(self, response):
        self.assertEqual(response.status_code, 303, "login should redirect")
        self.assertNotIn("/web/login", response.headers["Location"])

    def assertRefused(self, response):
        self.assertEqual(response.status_code, 200)
        self.assertIn(REFUSAL, response.text)

    def refusal_page(self, login, password):
        """The refusal page with what differs between two requests taken out."""
        response = self.post_login(login, password)
        self.assertRefused(response)
        text = response.text.replace(login, "LOGIN")
        return response.status_code, re.sub(r"[0-9a-f]{40}o\d+", "CSRF", text)

    def test_a_cleared_username_stops_working_as_login_at_once(self):
        self.assertTrue(self.authenticates("jane.doe", PASSWORD))
        self.jane.with_user(self.manager).write(
            {"website_enabled": False, "username": False}
        )
        self.assertFalse(self.authenticates("jane.doe", PASSWORD))
        self.assertTrue(self.authenticates(self.jane.email, PASSWORD))
        self.assertEqual(self.jane.website_user_id.login, self.jane.email_normalized)

    def test_the_reference_in_any_case_with_spaces(self):
        self.jane.ref = "C-1001"
        for login in ("C-1001", "c-1001", "  C-1001 "):
            with self.subTest(login=login):
                self.assertTrue(self.authenticates(login, PASSWORD))

    def test_a_shared_reference_logs_nobody_in_by_it(self):
        self.jane.ref = "42"
        other = self.make_active_contact(
            "Other-Password-1", name="Olga", username="olga"
        )
        other.ref = " 42"
        self.assertFalse(self.authenticates("42", PASSWORD))
        self.assertFalse(self.authenticates("42", "Other-Password-1"))
        self.assertTrue(self.authenticates("jane.doe", PASSWORD))  # still works
        # once Olga may not log in, the Reference is Jane's alone
        other.with_user(self.manager).allow_login = False
        self.assertTrue(self.authenticates("42", PASSWORD))

    def test_an_archived_contact_does_not_log_in_by_its_reference(self):
        self.jane.ref = "77"
        self.assertTrue(self.authenticates("77", PASSWORD))
        # SQL: Odoo refuses to archive a contact whose user is active (an import or
        # another addon may)
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE res_partner SET active = FALSE WHERE id = %s", [self.jane.id]
        )
        self.jane.invalidate_recordset()
        self.assertFalse(self.authenticates("77", PASSWORD))

    def test_a_username_or_a_login_comes_before_a_reference(self):
        other = self.make_active_contact("Other-Password-2", name="Pat", username="pat")
        self.jane.ref = "pat"  # Pat's username
        self.assertFalse(self.authenticates("pat", PASSWORD))
        self.assertTrue(self.authenticates("pat", "Other-Password-2"))
        self.jane.ref = "pwl_clerk"  # an internal user's login
        self.assertFalse(self.authenticates("pwl_clerk", PASSWORD))
        self.assertTrue(self.authenticates("pwl_clerk", "pwl_clerk"))
        self.assertEqual(other.website_access_state, "active")

    def test_login_by_reference_can_be_switched_off(self):
        self.jane.ref = "C-2002"
        self.env["ir.config_parameter"].set_param(
            "partner_website_login.login_by_reference", "False"
        )
        self.assertFalse(self.authenticates("C-2002", PASSWORD))
        settings = self.env["res.config.settings"].create({})
        self.assertFalse(settings.website_login_by_reference)
        settings.website_login_by_reference = True
        settings.execute()
        self.assertTrue(self.authenticates("C-2002", PASSWORD))

    def test_username_and_email_in_any_case_with_spaces(self):
        for login in (
            "jane.doe",
            "  JANE.Doe ",
            "jane.doe@retailer.test",
            " Jane.Doe@Retailer.TEST  ",
        ):
            with self.subTest(login=login):
                self.assertLoggedIn(self.post_login(login, PASSWORD))

    def test_json_authenticate_with_username_and_email(self):
        for login in ("JANE.DOE", "jane.doe@retailer.test"):
            with self.subTest(login=login):
                result = self.make_jsonrpc_request(
                    "/web/session/authenticate",
                    {"db": self.env.cr.dbname, "login": login, "password": PASSWORD},
                )
                self.assertEqual(result["uid"], self.jane.website_user_id.id)

    def test_wrong_password_and_unknown_login_are_refused(self):
        self.assertRefused(self.post_login("jane.doe", "not-the-password"))
        self.assertRefused(self.post_login("nobody.here", PASSWORD))
        self.assertRefused(self.post_login("nobody@retailer.test", PASSWORD))

    def test_an_email_shared_by_two_login_users_logs_nobody_in(self):
        self.make_active_contact(
            PASSWORD, name="Twin", username="twin", email="jane.doe@retailer.test"
        )
        self.assertRefused(self.post_login("jane.doe@retailer.test", PASSWORD))
        self.assertLoggedIn(self.post_login("jane.doe", PASSWORD))
        self.assertLoggedIn(self.post_login("twin", PASSWORD))

    def test_blocked_contacts_are_refused_even_with_the_right_password(self):
        cases = {
            "allow login off": (self.jane, "allow_login"),
            "contact archived": (self.jane, "active"),
            "company archived": (self.company, "active"),
        }
        for reason, (record, field) in cases.items():
            with self.subTest(reason=reason):
                # SQL: Odoo refuses to archive a contact whose user is active, but
                # an import or another addon may, and the gate must hold then too
                self.env.cr.execute(
                    f"UPDATE res_partner SET {field} = FALSE WHERE id = %s", [record.id]
                )
                record.invalidate_recordset()
                self.assertRefused(self.post_login("jane.doe", PASSWORD))
                self.env.cr.execute(
                    f"UPDATE res_partner SET {field} = TRUE WHERE id = %s", [record.id]
                )
                record.invalidate_recordset()
                self.assertLoggedIn(self.post_login("jane.doe", PASSWORD))

    def test_every_refusal_looks_like_a_wrong_password(self):
        expected = self.refusal_page("jane.doe", "wrong-password")
        self.jane.allow_login = False
        pages = {
            "unknown username": self.refusal_page("no.such.user", PASSWORD),
            "unknown email": self.refusal_page("no.such@retailer.test", PASSWORD),
            "blocked contact": self.refusal_page("jane.doe", PASSWORD),
        }
        for case, page in pages.items():
            with self.subTest(case=case):
                self.assertEqual(page, expected)

    @mute_logger("odoo.addons.base.models.res_users")
    def test_cooldown_counts_failures_of_every_login_form(self):
        self.env["ir.config_parameter"].set_param(
            "partner_website_login.ip_cooldown_failures", 3
        )
        for login in ("jane.doe", "JANE.DOE@retailer.test", "no.such.user"):
            self.post_login(login, "wrong")
        response = self.post_login("jane.doe", PASSWORD)
        self.assertEqual(response.status_code, 200)  # the right password, refused
        self.assertIn(REFUSAL, response.text)

    def test_internal_users_log_in_as_before_without_the_gate(self):
        internal = new_test_user(
            self.env,
            login="Internal.User",
            password="Internal-Pass-1",
            groups="base.group_user",
        )
        self.assertFalse(internal.partner_id.allow_login)
        self.assertLoggedIn(self.post_login("Internal.User", "Internal-Pass-1"))
        # Odoo's own rule stays: logins of internal users are matched exactly
        self.assertRefused(self.post_login("internal.user", "Internal-Pass-1"))
