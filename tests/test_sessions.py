# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.service import security
from odoo.tests import HttpCase, tagged

from .. import compat
from .common import WebsiteLoginCase

PASSWORD = "Own-Password-42!"


@tagged("post_install", "-at_install")
class TestSessionsEndWithAccess(WebsiteLoginCase, HttpCase):
    """Whatever ends a contact's access logs out its open sessions, and only its."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_website_login()
        cls.jane = cls.make_active_contact(PASSWORD)
        other_company = cls.env["res.partner"].create(
            {"name": "Other Customer", "is_company": True}
        )
        cls.john = cls.make_active_contact(
            PASSWORD, name="John Roe", username="john.roe", parent_id=other_company.id
        )

    def open_sessions(self, login="jane.doe"):
        """John's session, kept aside, and Jane's (or ``login``'s), used by the
        next requests."""
        self.authenticate("john.roe", PASSWORD)
        john_session, self.session = self.session, None
        self.authenticate(login, PASSWORD)
        self.assertEqual(self.portal_page_status(), 200)
        return john_session

    def portal_page_status(self):
        return self.url_open("/my/security", allow_redirects=False).status_code

    def assert_only_first_logged_out(self, john_session):
        response = self.url_open("/my/security", allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        self.assertIn("/web/login", response.headers["Location"])
        self.assertTrue(security.check_session(john_session, self.env))

    def test_allow_login_off(self):
        john_session = self.open_sessions()
        self.jane.with_user(self.manager).allow_login = False
        self.assert_only_first_logged_out(john_session)

    def test_contact_archived_with_its_user(self):
        # Odoo refuses to archive a contact whose user is active: the user goes first
        john_session = self.open_sessions()
        self.jane.website_user_id.active = False
        self.jane.active = False
        self.assert_only_first_logged_out(john_session)

    def test_company_archived(self):
        john_session = self.open_sessions()
        self.company.active = False
        self.assert_only_first_logged_out(john_session)

    def test_new_temporary_password(self):
        # Ivy has only a temporary password: the password column does not change
        ivy = self.make_contact(name="Ivy Invited", username="ivy")
        self.issue(ivy)
        john_session = self.open_sessions("ivy")
        self.issue(ivy)
        self.assert_only_first_logged_out(john_session)

    def test_a_lapsed_temporary_password_ends_its_sessions(self):
        ivy = self.make_contact(name="Ivy Invited", username="ivy")
        self.issue(ivy)
        john_session = self.open_sessions("ivy")
        with freeze_time(ivy.website_password_expires + timedelta(seconds=1)):
            self.env["partner.login.credential"]._cron_expire()
        self.assertEqual(ivy.website_access_state, "expired")
        self.assertFalse(
            self.env["partner.login.credential"]
            .sudo()
            .search([("user_id", "=", ivy.website_user_id.id)]),
            "the lapsed hash is kept",
        )
        self.assert_only_first_logged_out(john_session)

    def test_revoke_website_access(self):
        second_password = self.issue(self.john)  # John was invited again
        self.assertTrue(second_password)
        john_session = self.open_sessions()
        self.john.with_user(self.manager).action_revoke_website_access()
        self.assertFalse(self.john.allow_login)
        self.assertEqual(self.john.website_access_state, "none")
        self.assertFalse(
            self.env["partner.login.credential"]
            .sudo()
            .search([("user_id", "=", self.john.website_user_id.id)])
        )
        self.assertFalse(security.check_session(john_session, self.env))
        self.assertEqual(self.portal_page_status(), 200, "Jane is untouched")
        # one note, Odoo's own where the portal user lost access, by the manager
        note = self.john.message_ids.filtered(
            lambda message: (
                "Portal Access Revoked" in message.body
                or "Website access revoked" in message.body
            )
        )
        self.assertEqual(len(note), 1)
        self.assertEqual(note.author_id, self.manager.partner_id)

    def test_revoke_is_for_managers(self):
        action = self.env.ref(
            "partner_website_login.action_server_revoke_website_access"
        )
        self.assertEqual(
            action[compat.GROUPS_FIELD],
            self.env.ref("partner_website_login.group_website_login_manager"),
        )
        with self.assertRaises(AccessError):
            self.jane.with_user(self.clerk).action_revoke_website_access()
        self.assertTrue(self.jane.allow_login)
