# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Public users stay public: an administrator who creates a user in the Public
group, or one without a group, or a website (whose visitors browse as a public
user of its company), gives nobody a login or portal access. Only portal users
created by a manager get Allow Login."""

from odoo import Command
from odoo.tests import TransactionCase, new_test_user, tagged

from .. import compat
from .common import WebsiteLoginCase, require_modules


class PublicUsersCase(WebsiteLoginCase, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_website_login()
        cls.admin = new_test_user(
            cls.env,
            login="pwl_admin",
            groups="base.group_user,base.group_system",
            name="Ari Administrator",
        )

    def assert_stays_public(self, user, active):
        self.assertTrue(user._is_public())
        self.assertFalse(user._is_portal())
        self.assertEqual(user.active, active)
        self.assertFalse(user.partner_id.allow_login)


@tagged("post_install", "-at_install")
class TestUsersWithoutPortal(PublicUsersCase):
    def create_user(self, login, groups):
        return (
            self.env["res.users"]
            .with_user(self.admin)
            .create(
                {
                    "name": login,
                    "login": login,
                    compat.GROUPS_FIELD: [Command.set(groups.ids)],
                }
            )
        )

    def test_a_public_user_stays_public(self):
        user = self.create_user("pwl_public", self.env.ref("base.group_public"))
        self.assert_stays_public(user, active=True)

    def test_a_user_without_a_group_gets_none(self):
        user = self.create_user("pwl_nobody", self.env["res.groups"])
        self.assertFalse(user[compat.GROUPS_FIELD])
        self.assertFalse(user._is_portal())
        self.assertFalse(user.partner_id.allow_login)

    def test_a_portal_user_may_log_in(self):
        user = self.create_user("pwl_portal", self.env.ref("base.group_portal"))
        self.assertTrue(user._is_portal())
        self.assertTrue(user.partner_id.allow_login)


@tagged("post_install", "-at_install")
class TestWebsitesOfASecondCompany(PublicUsersCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        require_modules(cls.env, "website")

    def test_two_websites_for_a_new_company(self):
        public = self.env.ref("base.public_user")
        company = (
            self.env["res.company"]
            .with_user(self.admin)
            .create({"name": "Second Shop Ltd"})
        )
        self.admin.company_ids |= company
        websites = self.env["website"].with_user(self.admin)
        first = websites.create({"name": "Second Shop", "company_id": company.id})
        visitor = first.sudo().user_id
        self.assertNotEqual(visitor, public)
        self.assertEqual(visitor.company_id, company)
        self.assert_stays_public(visitor, active=public.active)

        second = websites.create({"name": "Second Shop B2B", "company_id": company.id})
        self.assertEqual(second.sudo().user_id, visitor)
        self.assert_stays_public(visitor, active=public.active)

    def test_allow_login_on_a_visitors_contact_keeps_it_public(self):
        visitor = self.env["website"].search([], limit=1).user_id
        active = visitor.active
        visitor.partner_id.with_user(self.admin).allow_login = True
        self.assertTrue(visitor._is_public())
        self.assertFalse(visitor._is_portal())
        self.assertEqual(visitor.active, active)
