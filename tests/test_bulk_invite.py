# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import asyncio
import contextlib
import logging
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from datetime import timedelta

from aiosmtpd.controller import Controller
from freezegun import freeze_time

from odoo import SUPERUSER_ID, api, fields
from odoo.exceptions import AccessDenied
from odoo.tests import HttpCase, TransactionCase, new_test_user, tagged
from odoo.tools import config, mute_logger

from .. import compat
from ..models.partner_login_eligibility_rules import MIN_CANDIDATE_SLICE
from .common import (
    MANAGER_GROUP,
    RecordingHandler,
    WebsiteLoginCase,
    free_port,
    password_from,
    recipients,
    smtp_server,
)

_logger = logging.getLogger(__name__)

# TestBulkInviteCancelMidStep: its contacts, in batches of two, in a step long
# enough for the mails held in flight; how long it waits for the other processes
CANCEL_CONTACTS = 6
CANCEL_PARAMS = {
    "partner_website_login.invite_batch_size": 2,
    "partner_website_login.invite_step_seconds": 90,
}
WAIT_SECONDS = 60


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
        return subprocess.run(
            odoo_script(SECOND_SERVER, self.env.cr.dbname),
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
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


class HoldingHandler(RecordingHandler):
    """Takes every message, as a slow server does: from the one after the first
    ``hold_after`` on, each waits for its answer until the test lets it through
    (``answer``), so that the test knows which mail is in flight when."""

    def __init__(self, hold_after):
        super().__init__()
        self.hold_after = hold_after
        self.in_flight = None  # the index of the message waiting for its answer
        self.answers = threading.Semaphore(0)
        self.holding = True

    async def handle_DATA(self, server, session, envelope):
        index = len(self.messages)
        if self.holding and index >= self.hold_after:
            self.in_flight = index
            deadline = time.monotonic() + WAIT_SECONDS
            while (
                self.holding
                and time.monotonic() < deadline
                and not self.answers.acquire(blocking=False)
            ):
                await asyncio.sleep(0.02)
        answer = await super().handle_DATA(server, session, envelope)
        self.in_flight = None
        return answer

    def answer(self):
        """The message in flight is accepted."""
        self.answers.release()


@tagged("post_install", "-at_install")
class TestBulkInviteCancelMidStep(TransactionCase):
    """A Website Login manager presses Cancel Run while the worker job, in an Odoo
    process of its own, is in the middle of a step (batches of two contacts):
    some mails accepted by a real SMTP server and committed one by one, one mail
    in flight, the rest not sent. Asserted on committed data, as the manager and
    the contacts find it afterwards."""

    def setUp(self):
        super().setUp()
        self.names = [f"Cancel Mid Step {index}" for index in range(CANCEL_CONTACTS)]
        self.smtp_port = free_port()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            params = env["ir.config_parameter"]
            self.params_before = {key: params.get_param(key) for key in CANCEL_PARAMS}
            for key, value in CANCEL_PARAMS.items():
                params.set_param(key, value)
            enabled = (
                env["res.partner"]
                .with_context(active_test=False)
                .search([("website_enabled", "=", True)])
            )
            self.enabled_before = enabled.ids  # put back by remove_committed_data
            enabled.write({"website_enabled": False})
            servers = env["ir.mail_server"].search([])
            self.servers_before = servers.ids
            servers.active = False
            self.server_id = (
                env["ir.mail_server"]
                .create(
                    {
                        "name": "test SMTP on 127.0.0.1 (cancel mid-step)",
                        "smtp_host": "127.0.0.1",
                        "smtp_port": self.smtp_port,
                        "smtp_encryption": "none",
                    }
                )
                .id
            )
            env.cr.execute("SELECT COALESCE(max(id), 0) FROM ir_cron_trigger")
            self.last_trigger_before = env.cr.fetchone()[0]
            self.manager_id = new_test_user(
                env,
                login="pwl_cancel_manager",
                groups=f"base.group_user,{MANAGER_GROUP}",
                email="cancel.manager@ourcompany.test",
                name="Casey Cancel",
            ).id
            env["res.partner"].create(
                [
                    {
                        "name": name,
                        "email": f"cancel.mid.step{index}@retailer.test",
                        "username": f"cancel.mid.step{index}",
                        "website_enabled": True,
                        "allow_login": True,
                    }
                    for index, name in enumerate(self.names)
                ]
            )
        self.addCleanup(self.remove_committed_data)

    def remove_committed_data(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["partner.invite.run"].search([]).unlink()
            contacts = (
                env["res.partner"]
                .with_context(active_test=False)
                .search([("name", "in", self.names)])
            )
            manager = env["res.users"].browse(self.manager_id)
            manager_partner = manager.partner_id
            users = (
                env["res.users"]
                .with_context(active_test=False)
                .search([("partner_id", "in", contacts.ids)])
            )
            (users | manager).unlink()
            (contacts | manager_partner).unlink()
            env["ir.mail_server"].browse(self.server_id).unlink()
            env["ir.mail_server"].browse(self.servers_before).write({"active": True})
            env["ir.cron.trigger"].search(
                [("id", ">", self.last_trigger_before)]
            ).unlink()
            for key, value in self.params_before.items():
                env["ir.config_parameter"].set_param(key, value)
            env["res.partner"].browse(self.enabled_before).exists().write(
                {"website_enabled": True}
            )

    # ------------------------------------------------------------------ helpers

    def start_run_as_manager(self):
        """The manager presses Send Bulk Website Invite (committed)."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, self.manager_id, {})
            env["partner.invite.run"].action_start()
            run = env["partner.invite.run"].search([("state", "=", "running")])
            self.assertEqual(run.eligible_count, CANCEL_CONTACTS)
            return run.id

    def odoo_process(self, script, *script_args):
        """``script`` in another Odoo process on the test's database (as another
        server's worker would run it), its stdin and stdout piped.

        :returns: (the process, a function that reads the end of its log)
        """
        log = tempfile.TemporaryFile("w+")  # closed at cleanup
        self.addCleanup(log.close)
        process = subprocess.Popen(
            [
                *odoo_script(script, self.env.cr.dbname, *script_args),
                "--log-level=warn",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        self.addCleanup(self.end_process, process)

        def read_log():
            """The end of its log, indented: in a failure's message, not taken for
            lines of the test's own log (scripts/summarize_test_log.py)."""
            log.seek(0)
            return textwrap.indent(log.read()[-4000:], "    | ")

        return process, read_log

    @staticmethod
    def end_process(process):
        if process.poll() is None:
            process.kill()
        with contextlib.suppress(OSError):  # a pipe the process left broken
            process.stdin.close()
        process.stdout.close()
        process.wait()

    def waits_for_a_lock(self, pid):
        """Whether the PostgreSQL backend ``pid`` waits for a lock now."""
        with self.registry.cursor() as cr:
            cr.execute("SELECT cardinality(pg_blocking_pids(%s)) > 0", [pid])
            return cr.fetchone()[0]

    def logs_in(self, login, password):
        """Whether Odoo's login (as /web/login calls it) takes the pair, on the
        committed data."""
        try:
            with self.registry.cursor() as cr:
                compat.authenticate(
                    api.Environment(cr, SUPERUSER_ID, {}),
                    {"type": "password", "login": login, "password": password},
                    {"interactive": True},
                )
        except AccessDenied:
            return False
        return True

    def cancel_mid_step(self, hold_after):
        """Start a run; the worker, in an Odoo process of its own, sends
        ``hold_after`` mails; while it waits for the server's answer to the next
        one, the manager presses Cancel Run in another Odoo process. The server
        answers a mail in flight only while Cancel Run waits for the run (which
        the worker holds while a mail is in flight). A second pass of the worker
        follows the cancel.

        The worker holds the run while its batch's mails go out (each acceptance
        is committed on a connection of its own): Cancel Run waits for the
        batch's last mail and takes the run at the commit that follows, before
        the worker applies the batch's outcome (Odoo tries the cancel again on a
        serialization failure).

        :returns: (the run's id, the SMTP server's handler, how many mails it had
            taken once Cancel Run ended, what the processes said)
        """
        handler = HoldingHandler(hold_after)
        controller = Controller(handler, hostname="127.0.0.1", port=self.smtp_port)
        controller.start()
        self.addCleanup(controller.stop)
        self.addCleanup(setattr, handler, "holding", False)
        run_id = self.start_run_as_manager()
        worker, worker_log = self.odoo_process(WORKER_PROCESS)
        cancel, cancel_log = self.odoo_process(
            CANCEL_PROCESS, str(self.manager_id), str(run_id)
        )
        answered = set()  # the mails in flight answered while the cancel waited
        try:
            pid_line = cancel.stdout.readline()  # once its registry is loaded
            self.assertTrue(pid_line.startswith("pid "), cancel_log())
            pid = int(pid_line.split()[1])
            deadline = time.monotonic() + WAIT_SECONDS
            while handler.in_flight != hold_after and time.monotonic() < deadline:
                time.sleep(0.02)
            self.assertEqual(handler.in_flight, hold_after, worker_log())
            cancel.stdin.write("press\n")
            cancel.stdin.flush()
            deadline = time.monotonic() + WAIT_SECONDS
            while cancel.poll() is None and time.monotonic() < deadline:
                flight = handler.in_flight
                if flight not in answered | {None} and self.waits_for_a_lock(pid):
                    answered.add(flight)
                    handler.answer()
                time.sleep(0.02)
            cancelled, _ = cancel.communicate(timeout=WAIT_SECONDS)
            self.assertEqual(cancel.returncode, 0, cancel_log())
            sent_when_cancelled = len(handler.messages)
            handler.holding = False
            passes, _ = worker.communicate("second pass\n", timeout=WAIT_SECONDS)
            self.assertEqual(worker.returncode, 0, worker_log())
        finally:
            handler.holding = False
        _logger.info(
            "Cancel Run pressed after %s accepted mails: %s mails answered while it "
            "waited; %s",
            hold_after,
            len(answered),
            cancelled.strip(),
        )
        said = f"{cancelled}{passes}{cancel_log()}{worker_log()}"
        return run_id, handler, sent_when_cancelled, said

    def assert_settled(self, run_id, handler, at_least, said):
        """What the manager and the contacts find after the cancel: the mails the
        server accepted (``at_least``: those before the cancel and the one in
        flight) count as delivered, with a password that works; the others'
        contacts hold none."""
        mailed = {
            message["To"].addresses[0].addr_spec: message
            for message in handler.messages
        }
        self.assertEqual(len(mailed), len(handler.messages), "a contact got two mails")
        self.assertGreaterEqual(len(mailed), at_least)
        self.assertLess(len(mailed), CANCEL_CONTACTS, "the cancel stopped the run")
        passwords = {}
        with self.registry.cursor() as cr:
            env = api.Environment(cr, self.manager_id, {})
            run = env["partner.invite.run"].browse(run_id)
            self.assertEqual(run.state, "cancelled")
            self.assertTrue(run.ended_at)
            self.assertEqual(run.invited_count, len(mailed), said)
            self.assertEqual(run.failed_count, 0)
            lines = run.sudo().line_ids  # the addon's record, read as it is
            self.assertFalse(lines.filtered(lambda line: line.outcome == "sending"))
            # the batches taken before the cancel went out whole, no other began
            self.assertEqual(len(lines), len(mailed), said)
            contacts = env["res.partner"].sudo().search([("name", "in", self.names)])
            credentials = env["partner.login.credential"].sudo()
            for contact in contacts:
                line = lines.filtered(
                    lambda line, contact=contact: line.partner_id == contact
                )
                held = credentials.search([("user_id.partner_id", "=", contact.id)])
                if contact.email in mailed:
                    message = mailed[contact.email]
                    self.assertEqual(line.outcome, "invited", said)
                    self.assertEqual(contact.website_access_state, "invited", said)
                    self.assertEqual(len(held), 1, said)
                    passwords[contact.username] = password_from(message)
                else:
                    self.assertNotIn(line.outcome, ("sending", "invited"), contact.name)
                    self.assertFalse(line.accepted_at, contact.name)
                    self.assertFalse(held, contact.name)
                    self.assertNotEqual(contact.website_access_state, "invited")
                    user = contact.with_context(active_test=False).user_ids
                    self.assertFalse(
                        user and user._website_has_own_password(), contact.name
                    )
        for login, password in passwords.items():
            self.assertTrue(password, login)
            self.assertTrue(self.logs_in(login, password), login)

    # ------------------------------------------------------------------ tests

    def test_a_cancel_between_two_mails_keeps_what_was_sent_and_sends_no_more(self):
        # the first batch accepted, the second batch's first mail in flight when
        # the manager presses Cancel Run: the cancel waits for that batch's mails
        # and takes the run before the next batch; the rest never go
        run_id, handler, sent_when_cancelled, said = self.cancel_mid_step(2)
        self.assert_settled(run_id, handler, 3, said)
        self.assertEqual(len(handler.messages), sent_when_cancelled, "none after")

    def test_a_cancel_while_the_first_mail_is_in_flight(self):
        # the batch's credentials are committed, its first mail in flight: the
        # worker holds the run again from that commit on, so the cancel waits for
        # the batch's mails instead of revoking the passwords they carry
        run_id, handler, sent_when_cancelled, said = self.cancel_mid_step(0)
        self.assert_settled(run_id, handler, 1, said)
        self.assertEqual(len(handler.messages), sent_when_cancelled, "none after")


def odoo_script(script, db, *script_args):
    """The command that runs ``script`` in another Odoo process on ``db`` (its
    first arguments: ``db``, then ``script_args``)."""
    args = [sys.executable, "-c", script, db, *script_args, "-d", db]
    args += ["--addons-path", ",".join(compat.config_list("addons_path"))]
    for option in ("db_host", "db_port", "db_user", "db_password"):
        if config.get(option):
            args += [f"--{option}", str(config[option])]  # Odoo's own spelling
    return args


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


# the worker job as Odoo's scheduler runs it in a server process of its own (each
# accepted mail committed at once): a pass, then another each time the test says
WORKER_PROCESS = """
import sys
import odoo
from odoo.tools import config
DB = sys.argv.pop(1)
config.parse_config(sys.argv[1:])
from odoo.modules.registry import Registry
registry = Registry(DB)
while True:
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        env["partner.invite.run"]._cron_process_batch()
    print("worker pass done", flush=True)
    if not sys.stdin.readline():
        break
"""

# the manager's Cancel Run as the web client's request runs it (Odoo's
# ``retrying``: a transaction of its own, tried again after a concurrent update),
# pressed in an Odoo process of its own once the test says
CANCEL_PROCESS = """
import sys
import odoo
from odoo.tools import config
DB, MANAGER, RUN = sys.argv.pop(1), int(sys.argv.pop(1)), int(sys.argv.pop(1))
config.parse_config(sys.argv[1:])
from odoo.modules.registry import Registry
from odoo.service.model import retrying
registry = Registry(DB)
attempts = []
with registry.cursor() as cr:
    print("pid", cr._cnx.get_backend_pid(), flush=True)
    sys.stdin.readline()
    env = odoo.api.Environment(cr, MANAGER, {})

    def press():
        attempts.append(1)
        return env["partner.invite.run"].browse(RUN).action_cancel()

    retrying(press, env)
print("Cancel Run done, attempts:", len(attempts), flush=True)
"""
