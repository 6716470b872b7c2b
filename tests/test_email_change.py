# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A contact's email is where its login goes: nobody but a Website Login manager
(or the contact itself) moves a login to another address, and nobody takes or
blocks a customer's email login by writing that address on another contact."""

import re

from odoo.exceptions import ValidationError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .. import compat
from .common import WebsiteLoginCase, password_from, recipients, smtp_server
from .test_bulk_invite import BulkInviteMixin

PASSWORD = "Own-Password-42!"


@tagged("post_install", "-at_install")
class TestEmailChange(BulkInviteMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_website_login()
        cls.leave_out_earlier_contacts()
        cls.employee = new_test_user(
            cls.env,
            login="pwl_employee",
            groups="base.group_user,base.group_partner_manager",
            email="employee@ourcompany.test",
            name="Eddie Employee",
        )
        cls.jane = cls.make_contact()

    def send_random_password_mail(self, partner):
        action = partner.with_user(self.manager).action_random_password_mail()
        self.env["random.password.mail"].with_user(self.manager).browse(
            action["res_id"]
        ).action_send()

    def test_an_employee_cannot_redirect_the_scheduled_invite_to_himself(self):
        colleague = self.make_contact(name="Cole", username="cole")
        self.jane.with_user(self.employee).email = "eddie@evil.test"
        with smtp_server(self.env) as smtp:
            run = self.run_invite()
        self.assertEqual(recipients(smtp), [colleague.email])
        [line] = run.line_ids.filtered(lambda line: line.partner_id == self.jane)
        self.assertEqual(line.rule, "email_held")
        self.assertTrue(self.jane.website_email_held)
        note = self.jane.message_ids[0].body
        self.assertIn("jane.doe@retailer.test", note)
        self.assertIn("eddie@evil.test", note)
        self.assertIn("Eddie Employee", note)
        # a manager who checked the address sends to it; runs invite it again
        with smtp_server(self.env) as smtp:
            self.send_random_password_mail(self.jane)
        self.assertEqual(recipients(smtp), ["eddie@evil.test"])
        self.assertFalse(self.jane.website_email_held)

    def test_a_pending_password_stops_working_when_an_employee_moves_the_email(self):
        with smtp_server(self.env) as smtp:
            self.run_invite()
        password = password_from(smtp.messages[0])
        self.assertTrue(self.authenticates("jane.doe", password))
        self.jane.with_user(self.employee).email = "eddie@evil.test"
        self.assertFalse(self.authenticates("jane.doe", password))
        self.assertEqual(self.jane.website_access_state, "none")

    def test_a_managers_change_of_address_is_invited_as_usual(self):
        self.jane.with_user(self.manager).email = "jane@new-mailbox.test"
        self.assertFalse(self.jane.website_email_held)
        with smtp_server(self.env) as smtp:
            self.run_invite()
        self.assertEqual(recipients(smtp), ["jane@new-mailbox.test"])

    def test_an_employee_editing_other_fields_holds_nothing(self):
        self.jane.with_user(self.employee).write({"phone": "+32 2 000 00 00"})
        self.jane.with_user(self.employee).email = " Jane.Doe@retailer.test "
        self.assertFalse(self.jane.website_email_held)


@tagged("post_install", "-at_install")
class TestEmailOwnership(WebsiteLoginCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_website_login()

    def setUp(self):
        super().setUp()
        self.forget_login_failures()

    def mail_and_activate(self, partner, password):
        """The contact got its login mail at its address and chose a password."""
        with smtp_server(self.env) as smtp:
            action = partner.with_user(self.manager).action_random_password_mail()
            self.env["random.password.mail"].with_user(self.manager).browse(
                action["res_id"]
            ).action_send()
        partner.website_user_id.password = password
        self.assertEqual(partner.website_login_email, partner.email_normalized)
        return smtp.messages

    @mute_logger("odoo.addons.partner_website_login.models.res_users")
    def test_another_portal_user_writing_a_customers_address_takes_nothing(self):
        victim = self.make_contact()
        self.mail_and_activate(victim, PASSWORD)
        mallory = self.make_contact(name="Mallory", username="mallory")
        self.mail_and_activate(mallory, "Mallory-Pass-123")
        # Mallory, logged in to the portal, puts Jane's address on her own account
        self.authenticate("mallory", "Mallory-Pass-123")
        page = self.url_open("/my/account")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        form = {
            "csrf_token": csrf,
            "name": "Mallory",
            "email": victim.email,
            "phone": "1",
            "street": "1 Road",
            "city": "Town",
            "country_id": str(self.env.ref("base.be").id),
        }
        if compat.ODOO_MAJOR >= 19:  # 19.0 saves My Account through its address form
            form.update(partner_id=str(mallory.id), address_type="billing", zip="1000")
            self.url_open("/my/address/submit", data=form)
        else:  # 18.0's form names the postal code zipcode and refuses other names
            form.update(zipcode="1000")
            self.url_open("/my/account", data=form)
        self.url_open("/web/session/logout", allow_redirects=False)
        mallory.invalidate_recordset()
        self.assertEqual(mallory.email, victim.email)  # Odoo let her write it
        # Jane still logs in with her address, and her reset mail is hers
        self.assertTrue(self.authenticates(victim.email, PASSWORD))
        self.assertFalse(self.authenticates(victim.email, "Mallory-Pass-123"))
        users = self.env["res.users"]
        self.assertEqual(
            users.search(users._get_login_domain(victim.email)), victim.website_user_id
        )

    def test_the_latest_contact_mailed_at_an_address_owns_it(self):
        old = self.make_contact(
            name="Old Buyer", username="old.buyer", email="buyer@retailer.test"
        )
        self.mail_and_activate(old, "Old-Buyer-Pass-1")
        new = self.make_contact(
            name="New Buyer", username="new.buyer", email="buyer@retailer.test"
        )
        self.mail_and_activate(new, "New-Buyer-Pass-1")
        old.invalidate_recordset()
        self.assertFalse(old.website_login_email)
        self.assertTrue(self.authenticates("buyer@retailer.test", "New-Buyer-Pass-1"))
        self.assertFalse(self.authenticates("buyer@retailer.test", "Old-Buyer-Pass-1"))
        self.assertTrue(self.authenticates("old.buyer", "Old-Buyer-Pass-1"))

    def test_clearing_a_username_never_hands_a_shared_email_to_one_contact(self):
        one = self.make_active_contact(
            "One-Pass-1234", name="One", username="one", email="shared@retailer.test"
        )
        self.make_active_contact(
            "Two-Pass-1234", name="Two", username="two", email="shared@retailer.test"
        )
        with self.assertRaises(ValidationError):
            one.with_user(self.manager).write(
                {"website_enabled": False, "username": False}
            )
        self.assertEqual(one.website_user_id.login, "one")
