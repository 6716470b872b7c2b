# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import subprocess
import sys
from datetime import timedelta

from freezegun import freeze_time

from odoo import api, fields
from odoo.tests import HttpCase, TransactionCase, new_test_user, tagged
from odoo.tools import config, mute_logger

from .. import compat
from ..models.partner_login_eligibility_rules import MIN_CANDIDATE_SLICE
from .common import WebsiteLoginCase, password_from, recipients, smtp_server


class BulkInviteMixin(WebsiteLoginCase):
    def without_username(self, partner):
        """A contact Website Enabled without a username, as data written before the
        rule (or straight in SQL) may hold: the addon's writes refuse it."""
        self.env.cr.execute(
            "UPDATE res_partner SET username = NULL WHERE id = %s", [partner.id]
        )
        partner.invalidate_recordset(["username"])
        return partner

    def run_invite(self, time_passes=False):
        """What the scheduled action and the worker job do, to the end (with
        ``time_passes``, the retries a server asked for come due at once, as if the
        minutes between them had passed)."""
        runs = self.env["partner.invite.run"]
        before = runs.search([], limit=1).id or 0
        answer = self.env["res.partner"]._cron_send_bulk_website_invite()
        run = runs.search([("origin", "=", "bulk")], limit=1)
        if run.id <= before and run.state != "running":
            # nobody eligible: the start says so and opens no run
            self.assertIn("Nobody to invite", answer["params"]["message"])
            return None
        self.work_off(run, time_passes)
        self.assertEqual(run.state, "done")
        return run

    def work_off(self, run, time_passes=False):
        for _batch in range(100):
            if run.state != "running":
                break
            if time_passes:
                self.let_retries_come_due(run)
            self.env["partner.invite.run"]._cron_process_batch()

    def let_retries_come_due(self, run):
        self.env["partner.invite.run.line"].sudo().search(
            [("run_id", "=", run.id), ("outcome", "=", "waiting")]
        ).write({"next_attempt_at": fields.Datetime.now() - timedelta(seconds=1)})

    def credentials_of(self, partners):
        return (
            self.env["partner.login.credential"]
            .sudo()
            .search([("user_id.partner_id", "in", partners.ids)])
        )


@tagged("post_install", "-at_install")
class TestBulkInvite(BulkInviteMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_website_login()
        cls.leave_out_earlier_contacts()
        cls.ada = cls.make_contact(name="Ada", username="ada")
        cls.ben = cls.make_contact(name="Ben", username="ben")

    def test_cron_is_installed_inactive_and_named(self):
        cron = self.env.ref("partner_website_login.ir_cron_send_bulk_website_invite")
        self.assertEqual(cron.name, "Send Bulk Website Invite")
        self.assertEqual(cron.model_id.model, "res.partner")
        self.assertFalse(cron.active)
        # every few days, as advised while a website is new
        self.assertEqual((cron.interval_number, cron.interval_type), (3, "days"))
        self.assertTrue(
            self.env.ref(
                "partner_website_login.ir_cron_process_website_invite_batches"
            ).active
        )

    def test_each_eligibility_rule_in_and_out(self):
        closed = self.env["res.partner"].create(
            {"name": "Closed Co", "is_company": True}
        )
        closed_contact = self.make_contact(
            name="Cyrus", username="cyrus", parent_id=closed.id
        )
        closed.active = False
        archived = self.make_contact(name="Dee", username="dee")
        archived.active = False
        out = {
            "company archived": closed_contact,
            "contact archived": archived,
            "bad email": self.make_contact(
                name="Eve", username="eve", email="eve-at-x"
            ),
            "two emails": self.make_contact(
                name="Two", username="two", email="a@x.test, b@x.test"
            ),
            "website disabled": self.make_contact(
                name="Gus", username="gus", website_enabled=False
            ),
            "no username": self.without_username(self.make_contact(name="Finn")),
            "allow login off": self.make_contact(
                name="Hal", username="hal", allow_login=False
            ),
        }
        internal = new_test_user(
            self.env, login="staff", groups="base.group_user", email="staff@ours.test"
        )
        internal.partner_id.write(
            {"website_enabled": True, "allow_login": True, "username": "staff.member"}
        )
        out["internal user"] = internal.partner_id
        active = self.make_contact(name="Ivy", username="ivy")
        self.issue(active)
        active.website_user_id.password = "Ivy-Own-Password-1"
        out["already active"] = active
        pending = self.make_contact(name="Jo", username="joanna")
        self.issue(pending)
        out["invite pending"] = pending

        with smtp_server(self.env) as smtp:
            run = self.run_invite()
        self.assertEqual(recipients(smtp), [self.ada.email, self.ben.email])
        self.assertEqual(run.eligible_count, 2)
        self.assertEqual(run.invited_count, 2)
        counts = {
            "company_archived": 1,
            "contact_archived": 1,
            "invalid_email": 2,
            "internal_user": 1,
            "no_username": 1,
            "login_disabled": 1,
            "already_active": 1,
            "invite_pending": 1,
        }
        by_rule = run._skipped_by_rule()
        self.assertEqual({rule: count for rule, (_, count) in by_rule.items()}, counts)
        self.assertEqual(run.skipped_count, sum(counts.values()))
        # a line for what needs a manager; the contacts that need nobody (active
        # already, an invite under way) are only counted
        lined = set(
            run.line_ids.filtered(lambda line: line.outcome == "skipped").mapped("rule")
        )
        self.assertEqual(lined, set(counts) - {"already_active", "invite_pending"})
        # the run's form, as a manager opens it, names each reason with its count
        summary = run.with_user(self.manager).skipped_summary
        self.assertIn("2: The contact has no valid email address", summary)

    def test_delivered_mail_logs_in_and_a_second_run_sends_nothing(self):
        with smtp_server(self.env) as smtp:
            self.run_invite()
        self.assertEqual(len(smtp.messages), 2)
        message = next(m for m in smtp.messages if "ada@" in m["To"])
        self.assertIn(self.env.company.email, message["From"])  # the company's address
        self.odoo_login("ada", password_from(message))
        self.assertFalse(
            self.env["mail.message"].search([("body", "ilike", password_from(message))])
        )
        with smtp_server(self.env) as smtp:
            second = self.run_invite()
        self.assertIsNone(second)  # nobody to invite: no run
        self.assertFalse(smtp.messages)

    def test_an_expired_invite_is_sent_again(self):
        self.run_invite()
        expiry = self.ada.website_password_expires
        with freeze_time(expiry + timedelta(minutes=1)), smtp_server(self.env) as smtp:
            run = self.run_invite()
        self.assertEqual(run.invited_count, 2)
        self.assertEqual(recipients(smtp), [self.ada.email, self.ben.email])

    def test_the_re_invite_rhythm_ends_after_the_set_number_of_invites(self):
        self.env["ir.config_parameter"].set_param(
            "partner_website_login.invite_attempts", 3
        )
        moment = fields.Datetime.now()
        for attempt in range(1, 4):
            with freeze_time(moment), smtp_server(self.env) as smtp:
                self.run_invite()
            self.assertEqual(recipients(smtp), [self.ada.email, self.ben.email])
            self.assertEqual(self.ada.website_invite_count, attempt)
            moment = self.ada.website_password_expires + timedelta(minutes=1)
        with freeze_time(moment), smtp_server(self.env) as smtp:
            run = self.run_invite()
        self.assertFalse(smtp.messages)
        self.assertEqual(self.ada.website_access_state, "unanswered")
        self.assertIsNone(run)  # nobody left to invite: no run at all
        # a manager invites Ada by hand: her count starts again, runs invite her
        with freeze_time(moment), smtp_server(self.env) as smtp:
            action = self.ada.with_user(self.manager).action_random_password_mail()
            self.env["random.password.mail"].with_user(self.manager).browse(
                action["res_id"]
            ).action_send()
        self.assertEqual(self.ada.website_invite_count, 0)
        later = self.ada.website_password_expires + timedelta(minutes=1)
        with freeze_time(later), smtp_server(self.env) as smtp:
            self.run_invite()
        self.assertEqual(recipients(smtp), [self.ada.email])

    def test_a_contact_who_sets_a_password_starts_the_count_again(self):
        self.run_invite()
        self.ada.website_user_id.password = "Ada-Own-Password-1"
        self.assertEqual(self.ada.website_access_state, "active")
        self.assertEqual(self.ada.website_invite_count, 0)

    @mute_logger(
        "odoo.addons.partner_website_login.models.partner_login_mailer",
        "odoo.addons.base.models.ir_mail_server",
    )
    def test_a_failed_delivery_revokes_and_is_sent_again(self):
        with smtp_server(self.env, refuse=True):
            run = self.run_invite()
        self.assertEqual(run.failed_count, 2)
        failed_lines = run.line_ids.filtered(lambda line: line.outcome == "failed")
        self.assertEqual(failed_lines.partner_id, self.ada | self.ben)
        self.assertIn("550", failed_lines[0].reason)
        self.assertEqual(self.ada.website_access_state, "none")
        failed = self.env["mail.mail"].search(
            [("email_to", "ilike", "retailer.test"), ("state", "=", "exception")]
        )
        self.assertEqual(len(failed), 2)
        for mail in failed:  # kept to show the failure, without the password
            self.assertIn("could not be delivered, so the password", mail.body_html)
            self.assertIn("550", mail.failure_reason)
            self.assertNotRegex(mail.body_html, "Temporary password: <strong>")
        self.assertFalse(self.credentials_of(self.ada | self.ben))
        with smtp_server(self.env):
            again = self.run_invite()
        self.assertEqual(again.invited_count, 2)

    def test_interrupted_run_resumes_without_duplicates(self):
        more = self.env["res.partner"]
        for index in range(5):
            more |= self.make_contact(name=f"More {index}", username=f"more{index}")
        self.env["ir.config_parameter"].set_param(
            "partner_website_login.invite_batch_size", 2
        )
        # a step of one batch: the time is up as soon as a batch is done
        self.env["ir.config_parameter"].set_param(
            "partner_website_login.invite_step_seconds", 0.001
        )
        with smtp_server(self.env) as smtp:
            self.env["res.partner"]._cron_send_bulk_website_invite()
            self.env["partner.invite.run"]._cron_process_batch()  # one step
            self.assertTrue(smtp.messages)
            # the process dies; an administrator presses "Run Manually" again
            self.env["res.partner"]._cron_send_bulk_website_invite()
            self.assertEqual(self.env["partner.invite.run"].search_count([]), 1)
            run = self.run_invite()
        self.assertEqual(run.invited_count, 7)
        self.assertEqual(len(smtp.messages), 7)
        self.assertEqual(len(set(recipients(smtp))), 7)
        for partner in self.ada | self.ben | more:
            self.assertEqual(len(self.credentials_of(partner)), 1, partner.name)

    def test_contacts_far_apart_among_others_are_each_invited_once(self):
        # more contacts nobody invites than the run checks at a time lie between
        # Ben and the next ones: the run reads on past them
        self.env["res.partner"].create(
            [
                {"name": f"Not enabled {index}", "email": f"no{index}@retailer.test"}
                for index in range(MIN_CANDIDATE_SLICE + 500)
            ]
        )
        later = self.env["res.partner"]
        for index in range(3):
            later |= self.make_contact(name=f"Later {index}", username=f"later{index}")
        self.env["ir.config_parameter"].set_param(
            "partner_website_login.invite_batch_size", 2
        )
        with smtp_server(self.env) as smtp:
            run = self.run_invite()
        self.assertEqual(run.invited_count, 5)
        self.assertEqual(
            sorted(recipients(smtp)),
            sorted((self.ada | self.ben | later).mapped("email")),
        )

    def test_an_archived_employees_contact_is_skipped_not_fatal(self):
        staff = new_test_user(
            self.env, login="gone", groups="base.group_user", email="gone@ours.test"
        )
        staff.partner_id.write(
            {"website_enabled": True, "allow_login": True, "username": "gone.staff"}
        )
        staff.active = False
        with smtp_server(self.env) as smtp:
            run = self.run_invite()
        self.assertEqual(recipients(smtp), [self.ada.email, self.ben.email])
        [line] = run.line_ids.filtered(lambda line: line.partner_id == staff.partner_id)
        self.assertEqual(line.rule, "internal_user")
        self.assertFalse(
            staff.partner_id.with_context(active_test=False).user_ids.share
        )

    def test_batch_rendering_matches_odoos_own(self):
        """The invite compiles the template once for a batch: what each contact
        reads is what Odoo's per-record rendering gives."""
        self.ben.lang = "fr_FR" if self.env["res.lang"]._lang_get("fr_FR") else False
        mail = self.env["partner.login.mail"]
        template = mail._template("partner_website_login.mail_template_website_invite")
        partners = self.ada | self.ben
        expiry = fields.Datetime.now()
        batch = mail._values(partners, template, "password", expiry)  # compiled once
        for partner in partners:
            alone = mail._values(partner, template, "password", expiry)[partner.id]
            # each rendering has a placeholder of its own (partner_login_mail.py)
            in_batch = dict(batch[partner.id])
            in_batch["body_html"] = in_batch["body_html"].replace(
                in_batch.pop("placeholder"), alone["placeholder"]
            )
            in_batch["placeholder"] = alone["placeholder"]
            self.assertEqual(in_batch, alone)
            self.assertIn(partner.name, batch[partner.id]["body_html"])
            self.assertIn(partner.username, batch[partner.id]["body_html"])

    def test_portal_access_is_noted_in_the_chatter(self):
        self.run_invite()
        note = self.ada.message_ids.filtered(
            lambda message: "Portal Access Granted" in message.body
        )
        self.assertEqual(len(note), 1)

    def test_run_manually_and_settings_start_the_same_job(self):
        cron = self.env.ref("partner_website_login.ir_cron_send_bulk_website_invite")
        cron.method_direct_trigger()  # inactive: it still opens the run
        run = self.env["partner.invite.run"].search([])
        self.assertEqual(run.state, "running")
        self.assertEqual(run.eligible_count, 2)
        worker = self.env.ref(
            "partner_website_login.ir_cron_process_website_invite_batches"
        )
        self.assertTrue(
            self.env["ir.cron.trigger"].search([("cron_id", "=", worker.id)]),
            "the worker job is woken at once",
        )
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.website_invite_eligible_count, 2)
        settings.action_send_bulk_website_invite()
        self.assertEqual(self.env["partner.invite.run"].search([]), run)


@tagged("post_install", "-at_install")
class TestBulkInviteConcurrency(BulkInviteMixin, TransactionCase):
    """Two workers on committed data, each with its own database connection."""

    def setUp(self):
        super().setUp()
        self.names = [f"Concurrent {index}" for index in range(4)]
        with self.registry.cursor() as cr:
            env = api.Environment(cr, self.env.uid, {})
            enabled = env["res.partner"].search([("website_enabled", "=", True)])
            self.enabled_before = enabled.ids  # put back by remove_committed_data
            enabled.write({"website_enabled": False})
            env["res.partner"].create(
                [
                    {
                        "name": name,
                        "email": f"concurrent{index}@retailer.test",
                        "username": f"concurrent{index}",
                        "website_enabled": True,
                        "allow_login": True,
                    }
                    for index, name in enumerate(self.names)
                ]
            )
            env["ir.config_parameter"].set_param(
                "partner_website_login.invite_batch_size", 2
            )
            env["res.partner"]._cron_send_bulk_website_invite()
        self.addCleanup(self.remove_committed_data)

    def remove_committed_data(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, self.env.uid, {})
            partners = (
                env["res.partner"]
                .with_context(active_test=False)
                .search([("name", "in", self.names)])
            )
            env["res.users"].with_context(active_test=False).search(
                [("partner_id", "in", partners.ids)]
            ).unlink()
            partners.unlink()
            env["partner.invite.run"].search([]).unlink()
            env["res.partner"].browse(self.enabled_before).exists().write(
                {"website_enabled": True}
            )
            env["ir.config_parameter"].set_param(
                "partner_website_login.invite_batch_size", 100
            )

    def second_server(self):
        """Another Odoo process on the same database runs one pass of the worker."""
        db = self.env.cr.dbname
        args = [sys.executable, "-c", SECOND_SERVER, db, "-d", db]
        args += ["--addons-path", ",".join(compat.config_list("addons_path"))]
        for option in ("db_host", "db_port", "db_user", "db_password"):
            if config.get(option):
                args += [f"--{option}", str(config[option])]  # Odoo's own spelling
        return subprocess.run(
            args, capture_output=True, text=True, timeout=120, check=True
        )

    def test_a_second_server_skips_the_batch_under_way(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, self.env.uid, {})
            env["partner.invite.run"]._cron_process_batch()  # batch under way
            output = self.second_server().stdout
            self.assertIn("invited by the second server: 0", output)
        # the first server commits; then the job runs to the end
        with self.registry.cursor() as cr:
            env = api.Environment(cr, self.env.uid, {})
            for _batch in range(10):
                env["partner.invite.run"]._cron_process_batch()
            credentials = (
                env["partner.login.credential"]
                .sudo()
                .search([("user_id.partner_id.name", "in", self.names)])
            )
            self.assertEqual(len(credentials.user_id), 4)  # one each, none twice
            run = env["partner.invite.run"].search([])
            self.assertEqual((run.invited_count, run.state), (4, "done"))


SECOND_SERVER = """
import sys
import odoo
from odoo.tools import config
DB = sys.argv.pop(1)
config.parse_config(sys.argv[1:])
from odoo.modules.registry import Registry
with Registry(DB).cursor() as cr:
    env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
    run = env["partner.invite.run"].search([("state", "=", "running")])
    before = run.invited_count
    env["partner.invite.run"]._cron_process_batch()
    print("invited by the second server:", run.invited_count - before)
"""
