# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The invite funnel, as a Website Login manager who is not an administrator sees
it: a run over five contacts, of which one logs in and sets a password of her own,
one logs in only, one never answers, one's mail bounces (a DSN through Odoo's mail
gateway) and one's invite lapses; the run's funnel, the analysis, its filters and
the activities say exactly that."""

from datetime import datetime, timedelta

from freezegun import freeze_time
from lxml import etree

from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger
from odoo.tools.safe_eval import safe_eval

from .common import password_from, smtp_server
from .test_bulk_invite import BulkInviteMixin
from .test_mail_providers import MAIL_LOGGERS, bounce_of

SENT_AT = datetime(2026, 3, 2, 9, 0, 0)
ANALYSIS_SEARCH = "partner_website_login.partner_invite_analysis_view_search"


@tagged("post_install", "-at_install")
class TestInviteFunnel(BulkInviteMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_website_login()
        cls.leave_out_earlier_contacts()
        cls.seller = new_test_user(
            cls.env, login="pwl_seller", groups="base.group_user", name="Sam Seller"
        )
        cls.ada = cls.make_contact(name="Ada", username="ada", user_id=cls.seller.id)
        cls.ben = cls.make_contact(name="Ben", username="ben")
        cls.cy = cls.make_contact(name="Cy", username="cy")
        cls.dee = cls.make_contact(name="Dee", username="dee", user_id=cls.seller.id)
        cls.eve = cls.make_contact(name="Eve", username="eve")
        cls.contacts = cls.ada | cls.ben | cls.cy | cls.dee | cls.eve
        # one invite each: Eve's first lapse ends her invites as unanswered
        cls.env["ir.config_parameter"].set_param(
            "partner_website_login.invite_attempts", 1
        )

    def assertNotManagerAdmin(self):
        self.assertFalse(self.manager.has_group("base.group_system"))

    def run_as_manager(self):
        """The manager starts a run; the worker job mails everyone at SENT_AT."""
        with freeze_time(SENT_AT), smtp_server(self.env) as smtp:
            self.env["partner.invite.run"].with_user(self.manager).action_start()
            run = self.env["partner.invite.run"].search([], limit=1)
            self.work_off(run)
        self.assertEqual(run.state, "done")
        return run, {m["To"].addresses[0].addr_spec: m for m in smtp.messages}

    def bounce(self, message):
        bounce_address = self.env.company.bounce_email or "bounce@retailer.test"
        self.env["mail.thread"].message_process(
            False, bounce_of(message, bounce_address)
        )

    def lapse(self, partner, moment):
        """``partner``'s invite ends before the others' (theirs last 48 hours),
        then the scheduled expiry runs."""
        self.env.cr.execute(
            "UPDATE res_partner SET website_password_expires = %s WHERE id = %s",
            [moment - timedelta(minutes=1), partner.id],
        )
        self.env.cr.execute(
            "UPDATE partner_login_credential SET expires_at = %s WHERE user_id = %s",
            [moment - timedelta(minutes=1), partner.website_user_id.id],
        )
        self.env.invalidate_all()
        with freeze_time(moment):
            self.env["partner.login.credential"]._cron_expire()

    @mute_logger(*MAIL_LOGGERS, "odoo.addons.mail.models.mail_thread")
    def play_the_funnel(self):
        run, mails = self.run_as_manager()
        # Ada logs in two hours later with the mailed password, and sets her own
        with freeze_time(SENT_AT + timedelta(hours=2)):
            self.assertTrue(
                self.authenticates("ada", password_from(mails[self.ada.email]))
            )
            self.ada.website_user_id.password = "Ada-Own-Password-1"
        # Ben logs in after six hours, and goes no further
        with freeze_time(SENT_AT + timedelta(hours=6)):
            self.assertTrue(
                self.authenticates("ben", password_from(mails[self.ben.email]))
            )
        # a later login is no first login
        with freeze_time(SENT_AT + timedelta(hours=30)):
            self.assertTrue(
                self.authenticates("ben", password_from(mails[self.ben.email]))
            )
        # Dee's mail bounces; Eve's invite lapses
        self.bounce(mails[self.dee.email])
        self.lapse(self.eve, SENT_AT + timedelta(hours=8))
        return run, mails

    def analysis_filter(self, name):
        arch = etree.fromstring(self.env.ref(ANALYSIS_SEARCH).arch)
        [node] = arch.xpath(f"//filter[@name='{name}']")
        return safe_eval(node.get("domain"))

    def test_the_run_the_analysis_and_the_activities_tell_what_happened(self):
        self.assertNotManagerAdmin()
        run, mails = self.play_the_funnel()
        # each line's stage, and each contact's latest invite
        stages = {line.partner_id: line.stage for line in run.line_ids}
        expected = {
            self.ada: "active",
            self.ben: "logged_in",
            self.cy: "sent",
            self.dee: "bounced",
            self.eve: "expired",
        }
        self.assertEqual(stages, expected)
        for contact, stage in expected.items():
            self.assertEqual(
                contact.with_user(self.manager).website_invite_stage, stage
            )
        [ben_line] = run.line_ids.filtered(lambda line: line.partner_id == self.ben)
        self.assertEqual(ben_line.first_login_at, SENT_AT + timedelta(hours=6))

        # the run's form, read as the web client reads it
        self.authenticate("pwl_manager", "pwl_manager")
        [form] = self.call_kw(
            "partner.invite.run",
            "web_read",
            [run.ids],
            {
                "specification": {
                    name: {}
                    for name in (
                        "funnel_delivered",
                        "funnel_logged_in",
                        "funnel_active",
                        "funnel_bounced",
                        "funnel_unanswered",
                        "funnel_activation_rate",
                        "funnel_median_hours",
                        "funnel_bar",
                    )
                }
            },
        )
        self.assertEqual(
            [
                form["funnel_delivered"],
                form["funnel_logged_in"],
                form["funnel_active"],
                form["funnel_bounced"],
                form["funnel_unanswered"],
            ],
            [4, 2, 1, 1, 1],
        )
        self.assertEqual(form["funnel_activation_rate"], 25.0)
        self.assertEqual(form["funnel_median_hours"], 4.0)  # 2 h and 6 h
        # one fifth each: own password, logged in only, bounced; two fifths neither
        for css, width in (
            ("bg-success", 20.0),
            ("bg-info", 20.0),
            ("bg-secondary", 40.0),
            ("bg-danger", 20.0),
        ):
            self.assertIn(
                f'{css}" role="progressbar" style="width: {width}%"', form["funnel_bar"]
            )

        # the pivot's totals, as the manager's pivot groups them
        analysis = self.env["partner.invite.analysis"].with_user(self.manager)
        measures = [
            "sent_count:sum",
            "delivered_count:sum",
            "bounced_count:sum",
            "logged_in_count:sum",
            "active_count:sum",
            "unanswered_count:sum",
            "activation_rate:avg",
            "hours_to_first_login:avg",
        ]
        [(run_group, *totals)] = analysis._read_group([], ["run_id"], measures)
        self.assertEqual(run_group, run)
        self.assertEqual(totals, [5, 4, 1, 2, 1, 1, 25.0, 4.0])
        by_salesperson = dict(analysis._read_group([], ["user_id"], ["__count"]))
        self.assertEqual(by_salesperson, {self.seller: 2, self.env["res.users"]: 3})
        by_company = dict(
            analysis._read_group([], ["commercial_partner_id"], ["active_count:sum"])
        )
        self.assertEqual(by_company, {self.company: 1})
        by_stage = dict(analysis._read_group([], ["stage"], ["__count"]))
        self.assertEqual(
            by_stage,
            {"active": 1, "logged_in": 1, "sent": 1, "bounced": 1, "expired": 1},
        )
        [(week, count)] = analysis._read_group([], ["invited_at:week"], ["__count"])
        # the week as the user's language starts it (Sunday in en_US)
        self.assertLessEqual(week, SENT_AT)
        self.assertLess(SENT_AT, week + timedelta(days=7))
        self.assertEqual(count, 5)

        # the filters
        for name, contacts in (
            ("never_logged_in", self.cy | self.eve),
            ("bounced", self.dee),
            ("unanswered", self.eve),
        ):
            found = analysis.search(self.analysis_filter(name))
            self.assertEqual(found.partner_id, contacts, name)

        # one activity for the bounce (to Dee's salesperson) and one for the lapse
        # (Eve has none: to the manager who started the run)
        activities = self.env["mail.activity"].search(
            [("res_model", "=", "res.partner"), ("res_id", "in", self.contacts.ids)]
        )
        todo = self.env.ref("mail.mail_activity_data_todo")
        self.assertEqual(
            sorted(
                (a.res_id, a.user_id.id, a.summary, a.activity_type_id.id)
                for a in activities
            ),
            sorted(
                [
                    (
                        self.dee.id,
                        self.seller.id,
                        "Website invite bounced: Retailer Ltd, Dee",
                        todo.id,
                    ),
                    (
                        self.eve.id,
                        self.manager.id,
                        "Website invites unanswered: Retailer Ltd, Eve",
                        todo.id,
                    ),
                ]
            ),
        )
        note_of = {activity.res_id: activity.note for activity in activities}
        self.assertIn(self.dee.email, note_of[self.dee.id])
        self.assertIn("Eve did not answer 1 website invites", note_of[self.eve.id])

        # once: a second notice of the same bounce and the next expiry add nothing
        with mute_logger(*MAIL_LOGGERS, "odoo.addons.mail.models.mail_thread"):
            self.bounce(mails[self.dee.email])
        with freeze_time(SENT_AT + timedelta(hours=9)):
            self.env["partner.login.credential"]._cron_expire()
        self.assertEqual(
            self.env["mail.activity"].search_count(
                [("res_model", "=", "res.partner"), ("res_id", "in", self.contacts.ids)]
            ),
            2,
        )

    @mute_logger(*MAIL_LOGGERS, "odoo.addons.mail.models.mail_thread")
    def test_the_setting_turns_the_activities_off(self):
        settings = self.env["res.config.settings"].create({})
        self.assertTrue(settings.website_invite_activities)  # on by default
        settings.website_invite_activities = False
        settings.execute()
        _run, mails = self.run_as_manager()
        self.bounce(mails[self.dee.email])
        self.lapse(self.eve, SENT_AT + timedelta(hours=8))
        self.assertEqual(self.dee.website_access_state, "bounced")
        self.assertEqual(self.eve.website_access_state, "unanswered")
        self.assertFalse(
            self.env["mail.activity"].search(
                [("res_model", "=", "res.partner"), ("res_id", "in", self.contacts.ids)]
            )
        )
