# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A second newcomer's walk through the demo: what the settings, the Random
Password Mail window, a run's form, the notes, the mail and the forced change of
password say, as the administrator, the manager and the contact read them."""

import re

from odoo.exceptions import UserError
from odoo.tests import HttpCase, TransactionCase, new_test_user, tagged

from .common import message_html, password_from, smtp_server
from .test_bulk_invite import BulkInviteMixin

PASSWORD = "Own-Password-42!"
WORDS = "[temporary password, made when the mail goes out]"


@tagged("post_install", "-at_install")
class TestNewcomerSecondWalk(BulkInviteMixin, HttpCase):
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
        cls.manager.tz = "Europe/Brussels"

    def open_window(self, partners):
        action = partners.with_user(self.manager).action_random_password_mail()
        return (
            self.env["random.password.mail"]
            .with_user(self.manager)
            .browse(action["res_id"])
        )

    def notes_of(self, partner):
        return partner.message_ids.mapped(lambda message: str(message.body))

    # ------------------------------------------------------------- settings

    def test_the_settings_are_named_by_what_they_do(self):
        settings = self.env["res.config.settings"].with_user(self.admin)
        labels = {
            name: field["string"]
            for name, field in settings.fields_get(
                ["website_key_user_approval", "website_key_user_daily_limit"]
            ).items()
        }
        self.assertEqual(
            labels["website_key_user_approval"],
            "Approve colleagues added by customers' Website Administrators",
        )
        arch = settings.get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertNotIn("Website Administrators of customers", arch)
        self.assertIn("Colleagues a customer's Website Administrator may add", arch)
        # an empty limit shows as 0 in Odoo's form: the help says what 0 means
        servers = self.env["ir.mail_server"].with_user(self.admin)
        for name in ("send_rate_per_minute", "send_quota_per_day"):
            self.assertIn("0: no limit", servers.fields_get([name])[name]["help"])

    # ------------------------------------------------- Random Password Mail

    def test_the_review_shows_words_where_the_password_goes(self):
        jane = self.make_contact()
        window = self.open_window(jane)
        self.assertEqual(window.body.count(WORDS), 1)
        self.assertNotIn("[[temporary-password", window.body)
        self.assertEqual(window.placeholder_text, WORDS)
        original = window.body
        # the words gone, or twice: refused, nothing sent
        for body in (original.replace(WORDS, ""), original + f"<p>{WORDS}</p>"):
            window.body = body
            with smtp_server(self.env) as smtp, self.assertRaises(UserError):
                window.action_send()
            self.assertFalse(smtp.messages)
        window.body = original
        with smtp_server(self.env) as smtp:
            window.action_send()
        html = message_html(smtp.messages[0])
        self.assertNotIn(WORDS, html)
        password = password_from(smtp.messages[0])
        self.assertEqual(html.count(password), 1)
        self.assertTrue(self.authenticates("jane.doe", password))

    def test_a_runs_skipped_count_is_the_windows_left_out(self):
        fresh = self.make_contact(name="Fred Fresh", username="fred")
        active = self.make_active_contact(PASSWORD, name="Alma Active", username="alma")
        broken = self.make_contact(
            name="Eve Broken", username="eve", email="eve-at-retailer"
        )
        window = self.open_window(fresh | active | broken)
        with smtp_server(self.env):
            answer = window.action_send()
        self.assertEqual(
            answer["params"]["message"], "1 password mail sent, 2 contacts left out."
        )
        run = self.env["partner.invite.run"].search([("origin", "=", "manual")])
        self.assertEqual((run.invited_count, run.skipped_count), (1, 2))
        self.assertIn(
            "Unticked in the Random Password Mail window", run.skipped_summary
        )
        skipped = run.line_ids.filtered(lambda line: line.outcome == "skipped")
        self.assertEqual(skipped.partner_id, active | broken)

    # ------------------------------------------------------------- runs

    def test_the_run_tells_the_servers_pace_from_a_refusal(self):
        for index in range(3):
            self.make_contact(name=f"Buyer {index}", username=f"buyer{index}")
        with smtp_server(self.env, quota_per_day=1):
            self.env["res.partner"]._cron_send_bulk_website_invite()
            run = self.env["partner.invite.run"].search([], limit=1)
            self.work_off(run)
        self.assertEqual(
            (run.invited_count, run.paced_count, run.retry_count), (1, 2, 0)
        )
        self.assertFalse(run.next_retry_at)
        fields = run.fields_get(["paced_count", "retry_count", "next_retry_at"])
        self.assertEqual(
            fields["paced_count"]["string"], "Waiting for the server's pace"
        )
        self.assertEqual(fields["retry_count"]["string"], "Waiting after a refusal")

    def test_the_run_tells_a_refusal_and_its_next_retry(self):
        self.make_contact(name="Grey Listed", username="grey")
        with smtp_server(self.env, greylist=True):
            self.env["res.partner"]._cron_send_bulk_website_invite()
            run = self.env["partner.invite.run"].search([], limit=1)
            self.work_off(run)
        self.assertEqual((run.paced_count, run.retry_count), (0, 1))
        self.assertTrue(run.next_retry_at)

    def test_the_funnel_shows_no_median_before_anyone_logged_in(self):
        self.make_contact()
        with smtp_server(self.env):
            run = self.run_invite()
        self.assertEqual((run.funnel_delivered, run.funnel_logged_in), (1, 0))
        arch = run.get_views([(False, "form")])["views"]["form"]["arch"]
        median = re.search(r'<field name="funnel_median_hours"[^>]*>', arch).group(0)
        self.assertIn("not funnel_logged_in", median)
        # the menu is named as the page it opens
        menu = self.env.ref("partner_website_login.partner_invite_analysis_menu")
        self.assertEqual(menu.name, menu.action.name)
        self.assertEqual(menu.name, "Invite Funnel")

    # ------------------------------------------------------ notes and mails

    def test_the_note_of_a_sent_mail_reads_once_with_its_time_zone(self):
        jane = self.make_contact()
        with smtp_server(self.env):
            self.open_window(jane).action_send()
        [note] = [body for body in self.notes_of(jane) if "Password mail sent" in body]
        self.assertIn("by Morgan Manager (Random Password Mail), valid until", note)
        self.assertEqual(note.count(" by "), 1)
        self.assertIn("(Europe/Brussels)", note)
        ben = self.make_contact(name="Ben Bulk", username="ben")
        with smtp_server(self.env):
            self.run_invite()
        [note] = [body for body in self.notes_of(ben) if "Password mail sent" in body]
        self.assertIn("by the bulk website invite of", note)
        self.assertEqual(note.count(" by "), 1)

    def test_a_revoke_leaves_one_note(self):
        active = self.make_active_contact(PASSWORD, name="Alma Active", username="alma")
        never = self.make_contact(name="Nora Never", username="nora")
        (active | never).with_user(self.manager).action_revoke_website_access()
        for partner in (active, never):
            with self.subTest(partner=partner.name):
                notes = [body for body in self.notes_of(partner) if "evoked" in body]
                self.assertEqual(len(notes), 1, notes)
        self.assertEqual(active.website_access_state, "none")

    def test_the_mail_heading_names_the_login_and_the_person(self):
        jane = self.make_contact()
        with smtp_server(self.env) as smtp:
            self.open_window(jane).action_send()
        html = message_html(smtp.messages[0])
        # Odoo's light layout: "Your <what>" over the record's name, in bold
        heading = re.search(r'font-size: ?10px;?">\s*Your ([^<]*)</span>', html)
        self.assertEqual(heading.group(1).strip(), "website login")
        name = re.search(r'font-size: ?20px; font-weight: ?bold;?">\s*([^<]*)<', html)
        self.assertEqual(name.group(1).strip(), "Jane Doe")

    # ------------------------------------------------- the forced change

    def test_the_forced_change_keeps_odoos_policy_and_says_it_worked(self):
        jane = self.make_contact()
        password = self.issue(jane)
        self.post_login("jane.doe", password)
        page = self.url_open("/my/security")
        self.assertIn("Choose your password", page.text)
        self.assertNotIn('name="old"', page.text)
        self.assertIn("At least 8 characters", page.text)

        def choose(new):
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
            return self.url_open(
                "/my/security",
                data={"new1": new, "new2": new, "csrf_token": csrf},
                allow_redirects=False,
            )

        refused = choose("abc")
        self.assertEqual(refused.status_code, 200)
        self.assertIn("at least 8 characters", refused.text)
        self.assertEqual(jane.website_access_state, "invited")
        done = choose("Chosen-By-Jane-7")
        self.assertEqual(done.status_code, 303)
        home = self.url_open("/my")
        self.assertIn("Your password is set", home.text)
        self.assertNotIn("Your password is set", self.url_open("/my").text)  # once
        self.assertEqual(jane.website_access_state, "active")
        self.assertTrue(self.authenticates("jane.doe", "Chosen-By-Jane-7"))


@tagged("post_install", "-at_install")
class TestDemoForABulkRun(TransactionCase):
    def test_the_demo_leaves_enough_to_invite_in_bulk(self):
        demo = self.env["ir.model.data"].search(
            [
                ("module", "=", "partner_website_login"),
                ("name", "=like", "demo_bulk_contact_%"),
            ]
        )
        if not demo:
            self.skipTest("installed without demo data")
        eligible = self.env["res.partner"].search(
            [
                ("id", "in", demo.mapped("res_id")),
                *self.env["partner.login.eligibility"]._invite_domain(),
            ]
        )
        self.assertGreaterEqual(len(eligible), 30)
        self.assertGreaterEqual(len(eligible.commercial_partner_id), 4)
