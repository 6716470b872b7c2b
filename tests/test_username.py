# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import ValidationError
from odoo.tests import Form, TransactionCase, tagged

from .common import WebsiteLoginCase


@tagged("post_install", "-at_install")
class TestUsername(WebsiteLoginCase, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_website_login()

    def test_spaces_are_stripped_and_empty_means_none(self):
        contact = self.make_contact(username="  jane.doe  ", website_enabled=False)
        self.assertEqual(contact.username, "jane.doe")
        contact.username = "   "
        self.assertFalse(contact.username)

    def test_invalid_usernames_are_refused_with_the_value(self):
        for bad in ("x" * 65, "jane doe", "jane@doe", "jäne", "<b>x</b>", "a;--"):
            with self.subTest(username=bad):
                with self.assertRaisesRegex(ValidationError, "is not valid"):
                    self.make_contact(username=bad)

    def test_unique_without_regard_to_case_archived_included(self):
        archived = self.make_contact(name="Old Jane", username="Jane.Doe")
        archived.active = False
        with self.assertRaisesRegex(
            ValidationError, "(?i)jane.doe is already used by .*Old Jane"
        ):
            self.make_contact(username="jane.doe")
        other = self.make_contact(name="John", username="john")
        with self.assertRaisesRegex(
            ValidationError, "(?i)jane.doe is already used by .*Old Jane"
        ):
            other.username = "JANE.DOE"

    def test_same_username_twice_in_one_create(self):
        with self.assertRaisesRegex(ValidationError, "more than one contact"):
            self.env["res.partner"].create(
                [
                    {"name": "A", "username": "same.name"},
                    {"name": "B", "username": "SAME.name"},
                ]
            )

    def test_username_cannot_be_another_users_login(self):
        with self.assertRaisesRegex(
            ValidationError, "already the login of Morgan Manager"
        ):
            self.make_contact(username="PWL_Manager")

    def test_login_cannot_be_another_contacts_username(self):
        self.make_contact(username="jane.doe")
        with self.assertRaisesRegex(ValidationError, "username of another contact"):
            self.manager.login = "Jane.Doe"

    def test_import_reports_the_conflict_not_a_database_error(self):
        self.make_contact(username="jane.doe")
        result = (
            self.env["res.partner"]
            .with_user(self.manager)
            .load(["name", "username"], [["Imported", "JANE.doe"]])
        )
        self.assertFalse(result["ids"])
        messages = " ".join(message["message"] for message in result["messages"])
        self.assertIn("The username jane.doe is already used by", messages)
        self.assertNotIn("duplicate key", messages)

    def test_changing_the_username_changes_the_portal_login(self):
        contact = self.make_contact()
        self.issue(contact)
        contact.username = "jane.new"
        self.assertEqual(contact.website_user_id.login, "jane.new")

    def test_website_enabled_needs_a_username_and_names_the_contact(self):
        partners = self.env["res.partner"].with_user(self.manager)
        with self.assertRaisesRegex(ValidationError, "Imported Ivan: .*username"):
            # an import row, or an RPC create, that would invite nobody silently
            partners.create(
                {"name": "Imported Ivan", "email": "ivan@x.test", "website_enabled": 1}
            )
        contact = self.make_contact()
        with self.assertRaisesRegex(ValidationError, "Jane Doe: .*username"):
            contact.with_user(self.manager).username = False
        self.assertEqual(contact.username, "jane.doe")

    def test_joining_the_bulk_invite_by_import_lets_the_contact_log_in(self):
        partners = self.env["res.partner"].with_user(self.manager)
        imported = partners.create(
            {
                "name": "Ivan",
                "email": "ivan@x.test",
                "username": "ivan",
                "website_enabled": True,
            }
        )
        self.assertTrue(imported.allow_login)
        later = partners.create({"name": "Lena", "email": "lena@x.test"})
        later.write({"website_enabled": True, "username": "lena"})
        self.assertTrue(later.allow_login)
        kept_out = partners.create(
            {
                "name": "Kai",
                "email": "kai@x.test",
                "username": "kai",
                "website_enabled": True,
                "allow_login": False,
            }
        )
        self.assertFalse(kept_out.allow_login)  # the same values said otherwise

    def test_website_enabled_ticks_allow_login_in_the_form(self):
        form = Form(self.env["res.partner"].with_user(self.manager))
        form.name = "Formed"
        form.website_enabled = True
        form.username = "formed"
        self.assertTrue(form.allow_login)
        form.allow_login = False  # stays independently editable
        contact = form.save()
        self.assertTrue(contact.website_enabled)
        self.assertFalse(contact.allow_login)

    def test_usernames_as_short_as_customer_numbers(self):
        seven = self.make_contact(name="Seven", username="7")
        self.assertEqual(seven.username, "7")
        with self.assertRaisesRegex(ValidationError, "already used by .*Seven"):
            self.make_contact(name="Other Seven", username="7")

    def test_a_manager_fills_usernames_from_references(self):
        first = self.make_contact(name="First", username=False, website_enabled=False)
        first.ref = " 1001 "
        taken = self.make_contact(name="Taken", username="1002")
        second = self.make_contact(name="Second", username=False, website_enabled=False)
        second.ref = "1002"  # already another contact's username
        odd = self.make_contact(name="Odd", username=False, website_enabled=False)
        odd.ref = "10 03"  # not a valid username
        kept = self.make_contact(name="Kept", username="kept")
        kept.ref = "1004"  # has a username already: left as it is
        contacts = first | second | odd | kept
        result = contacts.with_user(self.manager).action_fill_username_from_reference()
        self.assertEqual(first.username, "1001")
        self.assertFalse(second.username)
        self.assertFalse(odd.username)
        self.assertEqual(kept.username, "kept")
        self.assertEqual(taken.username, "1002")
        message = result["params"]["message"]
        self.assertIn("1 usernames filled", message)
        self.assertIn("Second:", message)
        self.assertIn("Odd:", message)

    def test_a_username_stays_while_its_user_has_no_other_login(self):
        contact = self.make_contact(website_enabled=False)
        self.issue(contact)
        as_manager = contact.with_user(self.manager)
        # the email is another user's login already
        self.env["res.users"].create(
            {"name": "Namesake", "login": contact.email_normalized}
        )
        with self.assertRaisesRegex(ValidationError, "Jane Doe: without a username"):
            as_manager.username = False
        contact.email = False  # no email at all
        with self.assertRaisesRegex(ValidationError, "Jane Doe: without a username"):
            as_manager.username = False
        self.assertEqual(contact.website_user_id.login, "jane.doe")
