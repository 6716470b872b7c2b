# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import AccessError
from odoo.tests import Form, TransactionCase, new_test_user, tagged

from .common import WebsiteLoginCase


@tagged("post_install", "-at_install")
class TestAccessRights(WebsiteLoginCase, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_website_login()
        cls.contact = cls.make_contact()
        cls.portal_contact = cls.make_contact(name="Paul Portal", username="paul")
        cls.portal_user = new_test_user(
            cls.env,
            login="paul.portal.login",
            groups="base.group_portal",
            partner_id=cls.portal_contact.id,
        )

    def test_manager_edits_website_access(self):
        self.contact.with_user(self.manager).write(
            {"username": "jane.x", "allow_login": False, "website_enabled": False}
        )
        self.assertEqual(self.contact.username, "jane.x")

    def test_internal_user_reads_but_cannot_change(self):
        as_clerk = self.contact.with_user(self.clerk)
        self.assertEqual(as_clerk.username, "jane.doe")
        for values in ({"username": "x.y.z"}, {"allow_login": False}):
            with self.subTest(values=values), self.assertRaises(AccessError):
                as_clerk.write(values)
        as_clerk.write({"phone": "123", "allow_login": True})  # unchanged value: fine

    def test_nobody_sets_the_access_state_by_hand(self):
        with self.assertRaises(AccessError):
            self.contact.with_user(self.manager).write(
                {"website_access_state": "active"}
            )

    def test_the_form_is_read_only_for_other_internal_users(self):
        for user, editable in ((self.clerk, False), (self.manager, True)):
            with self.subTest(user=user.login):
                form = Form(self.contact.with_user(user))
                self.assertEqual(
                    not form._get_modifier("username", "readonly"), editable
                )

    def test_portal_user_cannot_read_website_fields(self):
        for field in (
            "username",
            "allow_login",
            "website_enabled",
            "website_access_state",
        ):
            with self.subTest(field=field), self.assertRaises(AccessError):
                self.contact.with_user(self.portal_user).read([field])

    def test_manager_group_is_implied_for_settings_administrators(self):
        admin = new_test_user(self.env, login="pwl_admin", groups="base.group_system")
        self.assertTrue(
            admin.has_group("partner_website_login.group_website_login_manager")
        )

    def test_no_group_reads_hashed_credentials(self):
        self.issue(self.contact)
        admin = new_test_user(self.env, login="pwl_admin2", groups="base.group_system")
        for user in (admin, self.manager, self.clerk, self.portal_user):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.env["partner.login.credential"].with_user(user).search([])
