# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Odoo's own user and portal screens, driven as the web client drives them, by
the roles that use them: the addon must neither break them nor be bypassed by them."""

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

from .. import compat
from .common import WebsiteLoginCase, password_from, recipients, smtp_server


@tagged("post_install", "-at_install")
class TestOdooUserScreens(WebsiteLoginCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_website_login()
        cls.admin = new_test_user(
            cls.env,
            login="pwl_admin",
            groups="base.group_system,base.group_partner_manager",
            email="admin@ourcompany.test",
        )
        cls.employee = new_test_user(
            cls.env,
            login="pwl_employee",
            groups="base.group_user,base.group_partner_manager",
            email="employee@ourcompany.test",
        )

    # ---------------------------------------------------------------- users

    def test_an_administrator_creates_users_from_settings(self):
        self.authenticate("pwl_admin", "pwl_admin")
        # Settings > Users > New, then Save (the form's own call)
        saved = self.call_kw(
            "res.users",
            "web_save",
            [[], {"name": "New Colleague", "login": "new.colleague@x.test"}],
            {"specification": {"login": {}}},
        )
        self.assertEqual(saved[0]["login"], "new.colleague@x.test")
        # "Invite new user" on the Settings page
        self.call_kw("res.users", "web_create_users", [["invited@x.test"]])
        self.assertTrue(
            self.env["res.users"].search([("login", "=", "invited@x.test")])
        )
        # Duplicate
        colleague = self.env["res.users"].browse(saved[0]["id"])
        copied = self.call_kw("res.users", "copy", [colleague.ids])
        self.assertTrue(self.env["res.users"].browse(copied).exists())
        # and a plain create over RPC
        self.call_kw("res.users", "create", [{"name": "Plain", "login": "plain"}])
        self.assertTrue(self.env["res.users"].search([("login", "=", "plain")]))

    def test_a_new_user_contact_starts_without_website_access(self):
        user = (
            self.env["res.users"]
            .with_user(self.admin)
            .create({"name": "Fresh", "login": "fresh"})
        )
        self.assertEqual(user.partner_id.website_access_state, "none")
        self.assertFalse(user.partner_id.website_password_expires)

    def test_nobody_sets_the_access_state_through_create(self):
        for values in (
            {"website_access_state": "active"},
            {"website_password_expires": "2030-01-01 00:00:00"},
        ):
            with self.subTest(values=values), self.assertRaises(AccessError):
                self.env["res.partner"].with_user(self.admin).create(
                    {"name": "Forged", **values}
                )

    # --------------------------------------------------------- default_* keys

    def employee_creates(self, **defaults):
        context = {f"default_{name}": value for name, value in defaults.items()}
        return (
            self.env["res.partner"]
            .with_user(self.employee)
            .with_context(**context)
            .create({"name": "Mallory's friend", "email": "mallory@evil.test"})
        )

    def test_default_keys_in_the_context_are_checked_like_values(self):
        customer = self.make_contact(name="Carla Customer", username="carla")
        cases = {
            "a username": {"username": "carla.2"},
            "Allow Login": {"allow_login": True},
            "Website Enabled": {"website_enabled": True},
            "the access state": {"website_access_state": "active"},
            "an expiry": {"website_password_expires": "2030-01-01 00:00:00"},
            "a customer's email as username": {"username": customer.email},
        }
        for case, defaults in cases.items():
            with self.subTest(case=case), self.assertRaises(AccessError):
                self.employee_creates(**defaults)
        # what an employee may not do, a manager may not do wrongly either
        for bad in ("carla@retailer.test", "has space", "Сarla", "carla"):
            with self.subTest(username=bad), self.assertRaises(ValidationError):
                self.env["res.partner"].with_user(self.manager).with_context(
                    default_username=bad
                ).create({"name": "Bad"})

    def test_default_keys_are_checked_for_every_record_of_a_batch(self):
        """The first record names every website field (unchanged values pass), so
        the second's context defaults used to slip through unchecked."""
        customer = self.make_contact(name="Carla Customer", username="carla")
        named = {
            "name": "Decoy",
            "username": False,
            "allow_login": False,
            "website_enabled": False,
            "website_access_state": "none",
        }
        squatter = {"name": "Squatter", "email": "mallory@evil.test"}
        for defaults in (
            {"username": customer.email},
            {"allow_login": True},
            {"website_enabled": True, "username": "sq"},
            {"website_access_state": "active"},
        ):
            with self.subTest(defaults=defaults), self.assertRaises(AccessError):
                self.env["res.partner"].with_user(self.employee).with_context(
                    **{f"default_{name}": value for name, value in defaults.items()}
                ).create([named, squatter])
        self.assertFalse(self.env["res.partner"].search([("name", "=", "Squatter")]))

    def test_a_plain_contact_by_an_employee_still_works(self):
        partner = self.employee_creates()
        self.assertFalse(partner.username)
        self.assertFalse(partner.allow_login)

    # ---------------------------------------------------------- portal wizard

    def open_wizard(self, user, partner):
        """Contacts > Action > Grant portal access, opened by ``user``."""
        return (
            self.env["portal.wizard"]
            .with_user(user)
            .with_context(active_ids=partner.ids, active_model="res.partner")
            .create({})
        )

    def grant_in_wizard(self, user, partner, method="action_grant_access"):
        wizard = self.open_wizard(user, partner)
        getattr(wizard.user_ids, method)()
        return wizard

    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_an_employee_cannot_let_a_kept_out_contact_in_through_the_wizard(self):
        kept_out = self.make_contact(name="Kay Out", username="kay.out")
        kept_out.with_user(self.manager).action_revoke_website_access()
        with self.assertRaisesRegex(AccessError, "Website Login manager"):
            self.grant_in_wizard(self.employee, kept_out)
        self.assertFalse(kept_out.website_user_id.active)
        # a copy keeps the email: granting it is refused the same way
        copy = kept_out.with_user(self.employee).copy()
        self.assertFalse(copy.allow_login)
        with self.assertRaisesRegex(AccessError, "Website Login manager"):
            self.grant_in_wizard(self.employee, copy)

    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_a_manager_grant_in_the_wizard_lets_the_contact_in(self):
        contact = self.make_contact(
            name="Gina Grant", username="gina", allow_login=False
        )
        self.grant_in_wizard(self.manager, contact)
        self.assertTrue(contact.allow_login)
        self.assertTrue(contact.website_user_id.active)
        # the contact waits for Odoo's invitation: it shows as invited, not as
        # "No access" beside a portal user that may log in
        self.assertEqual(contact.website_access_state, "invited")
        self.assertTrue(contact.website_password_expires)

    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_an_employee_cannot_revoke_through_odoos_wizard(self):
        contact = self.make_active_contact(
            "Own-Password-66", name="Stay In", username="stay.in"
        )
        with self.assertRaisesRegex(AccessError, "Website Login managers"):
            self.grant_in_wizard(self.employee, contact, "action_revoke_access")
        self.assertTrue(contact.website_user_id.active)
        self.assertTrue(self.authenticates("stay.in", "Own-Password-66"))

    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_an_employee_may_invite_again_a_contact_a_manager_let_in(self):
        contact = self.make_contact(name="Ian Again", username="ian")
        self.grant_in_wizard(self.manager, contact)
        self.grant_in_wizard(self.employee, contact, "action_invite_again")

    def test_an_employee_over_rpc_meets_the_same_refusal(self):
        kept_out = self.make_contact(
            name="Rita Rpc", username="rita", allow_login=False
        )
        self.authenticate("pwl_employee", "pwl_employee")
        wizard_id = self.call_kw(
            "portal.wizard",
            "create",
            [{}],
            {"context": {"active_ids": kept_out.ids, "active_model": "res.partner"}},
        )
        line_ids = self.call_kw("portal.wizard", "read", [[wizard_id], ["user_ids"]])[
            0
        ]["user_ids"]
        with mute_logger("odoo.http"), self.assertRaises(JsonRpcException):
            self.call_kw("portal.wizard.user", "action_grant_access", [line_ids])
        self.assertFalse(kept_out.with_context(active_test=False).user_ids)

    # -------------------------------------------- the wizard and the contact agree

    def wizard_line(self, partner):
        """The line Odoo's "Grant portal access" wizard shows for the contact."""
        return self.open_wizard(self.admin, partner).user_ids

    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_a_revoke_in_odoos_wizard_shows_on_the_contact_and_sticks(self):
        active = self.make_active_contact(
            "Own-Password-77", name="Ria Revoked", username="ria.revoked"
        )
        self.assertTrue(self.wizard_line(active).is_portal)
        user_was_active = self.authenticates("ria.revoked", "Own-Password-77")
        self.authenticate("pwl_admin", "pwl_admin")
        # Contacts > Action > Grant portal access > Revoke, as the web client does it
        wizard_id = self.call_kw(
            "portal.wizard",
            "create",
            [{}],
            {"context": {"active_ids": active.ids, "active_model": "res.partner"}},
        )
        line_ids = self.call_kw("portal.wizard", "read", [[wizard_id], ["user_ids"]])[
            0
        ]["user_ids"]
        self.call_kw("portal.wizard.user", "action_revoke_access", [line_ids])
        self.assertFalse(active.allow_login)
        self.assertEqual(active.website_access_state, "none")
        self.assertTrue(user_was_active)
        self.assertFalse(self.authenticates("ria.revoked", "Own-Password-77"))
        # no run invites the contact again behind the administrator's back
        self.assertTrue(active.website_enabled)
        with smtp_server(self.env) as smtp:
            self.env["partner.invite.run"].action_start()
        self.assertNotIn(active.email, recipients(smtp))
        self.assertFalse(active.website_user_id.active)

    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_a_manager_mail_after_odoos_revoke_gives_portal_access_back_in_full(self):
        contact = self.make_contact(name="Ben Back", username="ben.back")
        self.grant_in_wizard(self.manager, contact)
        self.wizard_line(contact).action_revoke_access()
        user = contact.website_user_id
        self.assertTrue(user._is_public())
        with smtp_server(self.env) as smtp:
            action = contact.with_user(self.manager).action_random_password_mail()
            self.env["random.password.mail"].with_user(self.manager).browse(
                action["res_id"]
            ).action_send()
        password = password_from(smtp.messages[0])
        self.assertTrue(user.active)
        self.assertTrue(user._is_portal())
        self.assertFalse(user._is_public())
        self.assertTrue(self.authenticates("ben.back", password))
        self.assertTrue(self.wizard_line(contact).is_portal)

    def test_the_addons_revoke_shows_in_odoos_wizard(self):
        active = self.make_active_contact(
            "Own-Password-88", name="Wes Wizard", username="wes.wizard"
        )
        active.with_user(self.manager).action_revoke_website_access()
        line = self.wizard_line(active)
        self.assertFalse(line.is_portal)
        # ticking Allow Login again is a manager's explicit act: access comes back
        active.with_user(self.manager).allow_login = True
        self.assertTrue(self.wizard_line(active).is_portal)
        self.assertEqual(active.website_access_state, "active")
        self.assertTrue(self.authenticates("wes.wizard", "Own-Password-88"))

    def test_archiving_the_portal_user_on_the_user_form_ends_access(self):
        active = self.make_active_contact(
            "Own-Password-99", name="Uma User", username="uma.user"
        )
        user = active.website_user_id
        self.authenticate("pwl_admin", "pwl_admin")
        self.call_kw("res.users", "action_archive", [user.ids])
        self.assertFalse(active.allow_login)
        self.assertEqual(active.website_access_state, "none")
        self.call_kw("res.users", "action_unarchive", [user.ids])
        self.assertTrue(active.allow_login)
        self.assertEqual(active.website_access_state, "active")
        self.assertTrue(self.authenticates("uma.user", "Own-Password-99"))

    def test_moving_the_portal_user_to_public_on_the_user_form_ends_access(self):
        active = self.make_active_contact(
            "Own-Password-66", name="Pia Public", username="pia.public"
        )
        user = active.website_user_id
        self.authenticate("pwl_admin", "pwl_admin")
        portal = self.env.ref("base.group_portal")
        public = self.env.ref("base.group_public")
        # the user form's "User Type" set to Public, as the web client saves it
        self.call_kw(
            "res.users",
            "web_save",
            [user.ids, {compat.GROUPS_FIELD: [(3, portal.id), (4, public.id)]}],
            {"specification": {"share": {}}},
        )
        self.assertFalse(active.allow_login)
        self.assertEqual(active.website_access_state, "none")
        self.assertFalse(self.authenticates("pia.public", "Own-Password-66"))
        self.assertFalse(self.wizard_line(active).is_portal)

    def portal_template_user(self):
        template_id = self.env["ir.config_parameter"].get_param(
            "base.template_portal_user_id"
        )
        return (
            self.env["res.users"]
            .with_context(active_test=False)
            .browse(int(template_id))
        )

    def send_password_mail(self, contact):
        action = contact.with_user(self.manager).action_random_password_mail()
        return (
            self.env["random.password.mail"]
            .with_user(self.manager)
            .browse(action["res_id"])
            .action_send()
        )

    def test_new_portal_users_are_made_like_odoos_from_the_portal_template(self):
        # what an administrator set on Odoo's portal template user reaches the users
        # the addon makes, as it reaches those of signup and the portal wizard
        extras = self.env["res.groups"].create({"name": "Retailer Portal Extras"})
        self.portal_template_user().with_user(self.admin)[compat.GROUPS_FIELD] = [
            (4, extras.id)
        ]
        contact = self.make_contact(name="Tia Template", username="tia.template")
        with smtp_server(self.env) as smtp:
            self.send_password_mail(contact)
        user = contact.website_user_id
        self.assertIn(extras, user[compat.GROUPS_FIELD])
        self.assertTrue(user._is_portal())
        self.assertEqual(user.partner_id, contact)
        self.assertEqual(contact.name, "Tia Template")
        self.assertTrue(
            self.authenticates("tia.template", password_from(smtp.messages[0]))
        )

    def test_a_portal_template_in_an_internal_group_makes_no_internal_user(self):
        self.portal_template_user().with_user(self.admin)[compat.GROUPS_FIELD] = [
            (6, 0, [self.env.ref("base.group_user").id])
        ]
        contact = self.make_contact(name="Ivo Internal", username="ivo.internal")
        with (
            smtp_server(self.env) as smtp,
            self.assertRaisesRegex(
                UserError, "portal template user is not a portal user"
            ),
        ):
            self.send_password_mail(contact)
        self.assertFalse(smtp.messages)
        self.assertFalse(self.env["res.users"].search([("login", "=", "ivo.internal")]))
