# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What a new administrator and a new customer contact meet on their first walk
through the demo, as they meet it: the Random Password Mail window, a run they
start, the mails they get, the pages they open."""

import re

from odoo.exceptions import UserError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import MANAGER_GROUP, message_html, password_from, recipients, smtp_server
from .test_bulk_invite import BulkInviteMixin

PASSWORD = "Own-Password-42!"


@tagged("post_install", "-at_install")
class TestNewcomerWalk(BulkInviteMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_website_login()
        cls.leave_out_earlier_contacts()
        cls.admin = new_test_user(
            cls.env,
            login="pwl_admin",
            groups="base.group_system,base.group_partner_manager",
            email="admin@ourcompany.test",
            name="Ada Administrator",
        )

    def open_window(self, partners):
        action = partners.with_user(self.manager).action_random_password_mail()
        return (
            self.env["random.password.mail"]
            .with_user(self.manager)
            .browse(action["res_id"])
        )

    # ------------------------------------------------------- the mail window

    def test_the_window_shows_who_is_in_and_warns_before_replacing_a_password(self):
        fresh = self.make_contact(name="Fred Fresh", username="fred")
        active = self.make_active_contact(PASSWORD, name="Alma Active", username="alma")
        self.authenticates("alma", PASSWORD)
        window = self.open_window(fresh | active)
        lines = {line.partner_id: line for line in window.line_ids}
        self.assertEqual(lines[active].website_access_state, "active")
        self.assertTrue(lines[active].website_login_date)
        self.assertTrue(lines[active].replaces_own_password)
        self.assertFalse(lines[fresh].replaces_own_password)
        # the contact who has a password of its own is left alone unless ticked
        self.assertEqual((lines[fresh].send, lines[active].send), (True, False))
        self.assertEqual(window.replaces_count, 0)
        lines[active].send = True
        self.assertEqual(window.replaces_count, 1)
        lines[active].send = False
        with smtp_server(self.env) as smtp:
            answer = window.action_send()
        self.assertEqual(recipients(smtp), [fresh.email])
        self.assertEqual(
            answer["params"]["message"], "1 password mail sent, 1 contact left out."
        )
        self.assertTrue(self.authenticates("alma", PASSWORD))

    def test_one_active_contact_is_reviewed_with_the_warning_even_without_review(self):
        self.env["ir.config_parameter"].set_param(
            "partner_website_login.send_without_review", "True"
        )
        active = self.make_active_contact(PASSWORD, name="Alma Active", username="alma")
        window = self.open_window(active)  # a window, not a silent send
        self.assertTrue(window.reviewable)
        self.assertEqual(window.replaces_count, 1)

    def test_a_company_record_is_not_invited_like_a_person(self):
        self.company.write({"username": "retailer", "website_enabled": True})
        with self.assertRaisesRegex(UserError, "is a company"):
            self.open_window(self.company)
        person = self.make_contact()
        with smtp_server(self.env) as smtp:
            run = self.run_invite()
        self.assertEqual(recipients(smtp), [person.email])
        [line] = run.line_ids.filtered(lambda line: line.partner_id == self.company)
        self.assertEqual(line.rule, "is_company")

    # ------------------------------------------------------------- runs

    def test_a_start_with_nobody_eligible_says_so_and_makes_no_run(self):
        answer = self.env["partner.invite.run"].with_user(self.manager).action_start()
        self.assertIn("Nobody to invite right now", answer["params"]["message"])
        self.assertFalse(self.env["partner.invite.run"].search([]))

    def test_run_manually_starts_the_run_as_the_person_who_pressed_it(self):
        self.make_contact()
        self.authenticate("pwl_admin", "pwl_admin")
        cron = self.env.ref("partner_website_login.ir_cron_send_bulk_website_invite")
        answer = self.call_kw("ir.cron", "method_direct_trigger", [cron.ids])
        run = self.env["partner.invite.run"].search([])
        self.assertEqual(run.started_by_id, self.admin)
        self.assertEqual(answer["params"]["next"]["res_id"], run.id)

    def test_managers_views_are_told_of_each_batch(self):
        self.make_contact()
        bus = self.env["bus.bus"].sudo()
        before = bus.search_count([])
        with smtp_server(self.env):
            run = self.run_invite()
        self.env.cr.execute(
            "SELECT message FROM bus_bus WHERE channel LIKE %s ORDER BY id",
            [f'%"res.groups",{self.env.ref(MANAGER_GROUP).id}]%'],
        )
        payloads = [row[0] for row in self.env.cr.fetchall()]
        self.assertGreater(bus.search_count([]), before)
        self.assertTrue(any(f'"run_ids":[{run.id}]' in payload for payload in payloads))
        self.assertEqual(run.progress, 100)

    # ------------------------------------------------------------- mails

    def test_the_mails_look_like_the_companys_other_mails(self):
        self.company.company_id = self.env.company
        jane = self.make_contact(tz="Europe/Brussels")
        with smtp_server(self.env) as smtp:
            self.run_invite()
        [message] = smtp.messages
        html = message_html(message)
        self.assertIn("Powered by", html)  # Odoo's light layout, the company's
        self.assertIn("(Europe/Brussels)", html)  # the expiry names its zone
        self.assertNotIn("orders", html)  # true of any portal
        self.assertIn("/web/login?login=jane.doe", html)  # the login filled in
        self.assertTrue(self.authenticates("jane.doe", password_from(message)))
        self.assertTrue(jane)

    # ------------------------------------------------------------- pages

    def test_the_login_page_asks_for_an_email_or_a_username(self):
        page = self.url_open("/web/login?login=jane.doe")
        self.assertIn("Email or username", page.text)
        self.assertIn('value="jane.doe"', page.text)

    @mute_logger("odoo.http")
    def test_a_used_link_says_what_to_do(self):
        self.env["ir.config_parameter"].set_param(
            "partner_website_login.credential_mode", "link"
        )
        jane = self.make_contact()
        with smtp_server(self.env) as smtp:
            self.open_window(jane).action_send()
        html = message_html(smtp.messages[0])
        self.assertIn("Set my password", html)
        link = re.search(r'href="([^"]*/web/reset_password\?[^"]+)"', html).group(1)
        link = "/web/" + link.replace("&amp;", "&").split("/web/", 1)[1]
        page = self.url_open(link)
        self.assertIn("Set my password", page.text)
        self.env["partner.login.credential"]._revoke_for(jane)
        used = self.url_open(link)
        self.assertIn("This link was used already or has expired", used.text)
        self.assertNotIn("Invalid signup token", used.text)
