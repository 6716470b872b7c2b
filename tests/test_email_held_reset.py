# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""An employee who is not a Website Login manager writes his own address on a
customer's contact, then has Odoo mail a login to it: Odoo's Reset Password, its
signup and reset tokens, the portal wizard's welcome. None reaches the new address
until a manager confirms it; the customer's own password keeps working."""

import re

import lxml.html

from odoo.exceptions import UserError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import (
    WebsiteLoginCase,
    message_html,
    password_from,
    recipients,
    smtp_server,
)

PASSWORD = "Own-Password-42!"
THIEF_PASSWORD = "Chosen-By-Thief-1"
ATTACKER = "attacker@evil.example"
# the second: 19.0's "deprecated ... removal in Odoo 20" warning of XML-RPC
RPC_LOGGERS = ("odoo.http", "odoo.addons.rpc.controllers.xmlrpc")
USERS_LOGGER = "odoo.addons.partner_website_login.models.res_users"


@tagged("post_install", "-at_install")
class TestEmailHeldReset(WebsiteLoginCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_website_login()
        cls.env["ir.config_parameter"].set_param("auth_signup.reset_password", "True")
        cls.employee = new_test_user(
            cls.env,
            login="pwl_employee",
            groups="base.group_user,base.group_partner_manager",
            email="employee@ourcompany.test",
            name="Eddie Employee",
        )
        cls.admin = new_test_user(
            cls.env,
            login="pwl_admin",
            groups="base.group_user,base.group_system,base.group_partner_manager",
            email="admin@ourcompany.test",
        )
        cls.jane = cls.make_active_contact(PASSWORD)

    def setUp(self):
        super().setUp()
        self.forget_login_failures()

    # ------------------------------------------------------------ the attacker

    @mute_logger(*RPC_LOGGERS)
    def employee_writes_email(self, partner, email=ATTACKER):
        """The employee's script: res.partner.write over XML-RPC."""
        self.xmlrpc_object.execute_kw(
            self.env.cr.dbname,
            self.employee.id,
            "pwl_employee",
            "res.partner",
            "write",
            [partner.ids, {"email": email}],
        )
        partner.invalidate_recordset()
        self.assertEqual(partner.email, email)

    def ask_reset(self, login):
        """The public's Reset Password form: the page's answer (its alert)."""
        self.url_open("/web/session/logout", allow_redirects=False)
        page = self.url_open("/web/reset_password")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        response = self.url_open(
            "/web/reset_password", data={"login": login, "csrf_token": csrf}
        )
        self.assertEqual(response.status_code, 200)
        answer = re.search(
            r'<p class="alert alert-(\w+)"[^>]*>\s*(.*?)\s*</p>', response.text, re.S
        )
        return answer and (answer.group(1), answer.group(2))

    def set_password_by_link(self, link, password):
        """Follow a set-password link and fill in its form, as a browser would:
        whether the form was there to fill in."""
        self.url_open("/web/session/logout", allow_redirects=False)
        path = "/web/" + link.split("/web/", 1)[1]
        page = lxml.html.fromstring(self.url_open(path).text)
        forms = page.xpath("//form[hasclass('oe_reset_password_form')]")
        if not forms or not page.xpath("//input[@name='confirm_password']"):
            return False
        values = dict(forms[0].form_values())
        values.update(password=password, confirm_password=password)
        with mute_logger("odoo.http", "odoo.addons.auth_signup.controllers.main"):
            self.url_open(path, data=values, allow_redirects=False)
        return True

    def logged_in(self, response):
        return response.status_code == 303 and "/web/login" not in response.headers.get(
            "Location", ""
        )

    def mails_to(self, address):
        return self.env["mail.mail"].sudo().search([("email_to", "ilike", address)])

    def open_wizard(self, user, partner):
        """Contacts > Action > Grant portal access, opened by ``user``."""
        return (
            self.env["portal.wizard"]
            .with_user(user)
            .with_context(active_ids=partner.ids, active_model="res.partner")
            .create({})
        )

    def refused_in_wizard(self, user, partner, method):
        """The wizard's button refuses, and what it did is undone (as the web
        client's request is)."""
        with (
            self.assertRaisesRegex(UserError, "Random Password Mail"),
            self.env.cr.savepoint(),
        ):
            getattr(self.open_wizard(user, partner).user_ids, method)()
        self.env.invalidate_all()

    def send_random_password_mail(self, partner):
        action = partner.with_user(self.manager).action_random_password_mail()
        self.env["random.password.mail"].with_user(self.manager).browse(
            action["res_id"]
        ).action_send()

    # ------------------------------------------------------------------ tests

    @mute_logger(USERS_LOGGER, "odoo.addons.auth_signup.models.res_users")
    def test_odoos_reset_password_hands_no_link_to_whoever_changed_the_email(self):
        bystander = self.make_active_contact(
            "Other-Pass-1234", name="Bo Bystander", username="bo"
        )
        self.employee_writes_email(self.jane)
        self.assertTrue(self.jane.website_email_held)
        with smtp_server(self.env) as smtp:
            answers = {
                login: self.ask_reset(login)
                for login in ("jane.doe", ATTACKER, "bo", "nobody.here")
            }
        # the page reads alike for the held contact, anyone else and no one
        self.assertEqual(len(set(answers.values())), 1, answers)
        self.assertEqual(answers["jane.doe"][0], "success")
        # only the bystander, whose address nobody touched, got instructions
        self.assertEqual(recipients(smtp), [bystander.email])
        self.assertFalse(self.mails_to("evil.example"))
        self.assertNotIn(ATTACKER, str([message_html(m) for m in smtp.messages]))

        # a token Odoo made for the contact (as its portal share or a
        # notification would) opens no form while the address is held
        partner_sudo = self.jane.sudo()
        partner_sudo.signup_prepare(signup_type="reset")
        link = partner_sudo._get_signup_url_for_action()[self.jane.id]
        self.assertFalse(self.set_password_by_link(link, THIEF_PASSWORD))
        self.assertFalse(self.authenticates("jane.doe", THIEF_PASSWORD))
        self.assertFalse(self.authenticates(ATTACKER, THIEF_PASSWORD))
        # Jane's own password logs her in
        self.assertTrue(self.logged_in(self.post_login("jane.doe", PASSWORD)))
        self.assertEqual(self.jane.website_access_state, "active")

    @mute_logger(USERS_LOGGER)
    def test_odoos_tokens_from_before_the_change_stop_working(self):
        partner_sudo = self.jane.sudo()
        partner_sudo.signup_prepare(signup_type="reset")
        old_link = partner_sudo._get_signup_url_for_action()[self.jane.id]
        self.employee_writes_email(self.jane)
        self.assertFalse(self.set_password_by_link(old_link, THIEF_PASSWORD))
        self.assertTrue(self.authenticates("jane.doe", PASSWORD))

    @mute_logger(USERS_LOGGER)
    def test_the_user_forms_reset_button_sends_nothing_to_a_held_address(self):
        self.employee_writes_email(self.jane)
        with smtp_server(self.env) as smtp:
            answer = self.jane.website_user_id.with_user(
                self.admin
            ).action_reset_password()
        self.assertFalse(smtp.messages)
        self.assertFalse(self.mails_to("evil.example"))
        self.assertEqual(answer["params"]["type"], "warning")
        self.assertIn("Random Password Mail", answer["params"]["message"])

    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_the_portal_wizard_sends_no_welcome_to_a_held_address(self):
        newcomer = self.make_contact(name="Nina New", username="nina")
        self.employee_writes_email(newcomer, "nina@evil.example")
        self.employee_writes_email(self.jane)
        with smtp_server(self.env) as smtp:
            for user in (self.employee, self.manager):
                self.refused_in_wizard(user, newcomer, "action_grant_access")
                self.refused_in_wizard(user, self.jane, "action_invite_again")
        self.assertFalse(smtp.messages)
        self.assertFalse(self.mails_to("evil.example"))
        self.assertTrue(self.authenticates("jane.doe", PASSWORD))

    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_an_address_typed_into_the_wizard_gets_no_welcome(self):
        wizard = self.open_wizard(self.employee, self.jane)
        wizard.user_ids.email = ATTACKER
        with (
            smtp_server(self.env) as smtp,
            self.assertRaisesRegex(UserError, "Random Password Mail"),
        ):
            wizard.user_ids.action_invite_again()
        self.assertFalse(smtp.messages)

    def test_no_signup_token_for_a_held_address_in_odoos_notifications(self):
        self.env["ir.config_parameter"].set_param("auth_signup.invitation_scope", "b2c")
        newcomer = self.make_contact(name="Nina New", username="nina")
        params = newcomer.with_user(self.employee).signup_get_auth_param()
        self.assertTrue(params[newcomer.id].get("auth_signup_token"))
        self.employee_writes_email(newcomer, "nina@evil.example")
        params = newcomer.with_user(self.employee).signup_get_auth_param()
        self.assertFalse(params[newcomer.id].get("auth_signup_token"))

    @mute_logger(USERS_LOGGER, "odoo.addons.mail.models.mail_mail")
    def test_a_managers_random_password_mail_releases_the_hold(self):
        self.employee_writes_email(self.jane, "jane@new-mailbox.test")
        with smtp_server(self.env) as smtp:
            self.send_random_password_mail(self.jane)
        self.assertEqual(recipients(smtp), ["jane@new-mailbox.test"])
        self.assertFalse(self.jane.website_email_held)
        self.assertTrue(self.authenticates("jane.doe", password_from(smtp.messages[0])))
        # Odoo's own mails go to the confirmed address again
        with smtp_server(self.env) as smtp:
            self.ask_reset("jane.doe")
            self.open_wizard(self.employee, self.jane).user_ids.action_invite_again()
        self.assertEqual(
            recipients(smtp), ["jane@new-mailbox.test", "jane@new-mailbox.test"]
        )

    @mute_logger(USERS_LOGGER)
    def test_a_managers_correction_ends_tokens_made_while_held(self):
        self.employee_writes_email(self.jane)
        partner_sudo = self.jane.sudo()
        partner_sudo.signup_prepare(signup_type="reset")
        link = partner_sudo._get_signup_url_for_action()[self.jane.id]
        self.jane.with_user(self.manager).email = "jane.doe@retailer.test"
        self.assertFalse(self.jane.website_email_held)
        self.assertFalse(self.set_password_by_link(link, THIEF_PASSWORD))
        self.assertTrue(self.authenticates("jane.doe", PASSWORD))
