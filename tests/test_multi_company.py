# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Several companies: whose address the mails come from, whom a manager reaches."""

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, new_test_user, tagged

from .common import MANAGER_GROUP, smtp_server
from .test_bulk_invite import BulkInviteMixin


@tagged("post_install", "-at_install")
class TestMultiCompany(BulkInviteMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_website_login()
        cls.leave_out_earlier_contacts()
        cls.company_a = cls.env.company
        cls.company_a.email = "hello@company-a.test"
        cls.company_b = cls.env["res.company"].create(
            {"name": "Company B", "email": "hello@company-b.test"}
        )
        cls.ada = cls.make_contact(
            name="Ada", username="ada", company_id=cls.company_a.id
        )
        customer_b = cls.env["res.partner"].create(
            {"name": "B Customer", "is_company": True, "company_id": cls.company_b.id}
        )
        cls.bob = cls.make_contact(
            name="Bob",
            username="bob",
            parent_id=customer_b.id,
            company_id=cls.company_b.id,
        )
        cls.manager_a = new_test_user(
            cls.env,
            login="pwl_manager_a",
            groups=f"base.group_user,{MANAGER_GROUP}",
            email="manager.a@company-a.test",
            company_id=cls.company_a.id,
            company_ids=[Command.set(cls.company_a.ids)],
        )

    def test_invites_come_from_the_contacts_company(self):
        with smtp_server(self.env) as smtp:
            self.run_invite()
        to = {
            message["To"].addresses[0].addr_spec: message for message in smtp.messages
        }
        self.assertIn("hello@company-b.test", to[self.bob.email]["From"])
        self.assertIn("Company B", to[self.bob.email]["Subject"])
        self.assertIn("hello@company-a.test", to[self.ada.email]["From"])

    def test_a_contact_without_a_company_of_its_own_is_mailed_as_its_customers(self):
        # the mail's sender, its subject and its routing agree on one company
        bea = self.make_contact(
            name="Bea", username="bea", parent_id=self.bob.parent_id.id
        )
        bea.company_id = False
        with smtp_server(self.env) as smtp:
            self.run_invite()
        [message] = [m for m in smtp.messages if bea.email in m["To"]]
        self.assertIn("hello@company-b.test", message["From"])
        self.assertIn("Company B", message["Subject"])
        routing = self.env["partner.login.mail"]._routing(bea)
        self.assertEqual(routing["record_company_id"], self.company_b.id)

    def test_mails_go_through_the_mail_configuration_of_the_contacts_company(self):
        """Company B sends only from its own domain: the manager's password mail
        goes out in their name from B's notification address, the invite from B."""
        self.company_b.alias_domain_id = self.env["mail.alias.domain"].create(
            {"name": "company-b.test", "default_from": "notifications"}
        )
        self.manager.company_ids = [Command.link(self.company_b.id)]
        with smtp_server(self.env, from_filter="company-b.test") as smtp:
            self.run_invite()
            action = self.bob.with_user(self.manager).action_random_password_mail()
            window = self.env["random.password.mail"].browse(action["res_id"])
            window.with_user(self.manager).action_send()
        to_bob = [m for m in smtp.messages if "bob@" in m["To"]]
        invite, password_mail = to_bob
        self.assertIn("hello@company-b.test", invite["From"])
        [sender] = password_mail["From"].addresses
        self.assertEqual(sender.display_name, "Morgan Manager")
        self.assertEqual(sender.addr_spec, "notifications@company-b.test")
        self.assertIn("Company B", password_mail["Subject"])
        for message in to_bob:
            self.assertIn("@company-b.test", message["Return-Path"] or "")

    def test_a_manager_acts_only_on_contacts_of_their_companies(self):
        bob = self.bob.with_user(self.manager_a)
        for action in (
            bob.action_random_password_mail,
            bob.action_revoke_website_access,
            lambda: bob.write({"username": "bob.b"}),
        ):
            with self.subTest(action=action), self.assertRaises(AccessError):
                action()
        self.assertEqual(self.bob.website_access_state, "none")
        self.ada.with_user(self.manager_a).action_random_password_mail()  # allowed

    def test_a_run_started_by_a_manager_stays_in_their_companies(self):
        self.env["partner.invite.run"].with_user(self.manager_a).action_start()
        run = self.env["partner.invite.run"].search([], limit=1)
        self.assertEqual(run.company_ids, self.company_a)
        self.assertEqual(run.eligible_count, 1)
        for _batch in range(10):
            if run.state == "done":
                break
            self.env["partner.invite.run"]._cron_process_batch()
        self.assertEqual(run.invited_count, 1)
        self.assertEqual(self.ada.website_access_state, "invited")
        self.assertEqual(self.bob.website_access_state, "none")
        scheduled = self.run_invite()  # the scheduled action: every company
        self.assertEqual(scheduled.company_ids, self.env["res.company"].search([]))
        self.assertEqual(scheduled.invited_count, 1)
        self.assertEqual(self.bob.website_access_state, "invited")

    def test_a_manager_of_one_company_neither_reads_nor_cancels_anothers_run(self):
        manager_b = new_test_user(
            self.env,
            login="pwl_manager_b",
            groups=f"base.group_user,{MANAGER_GROUP}",
            company_id=self.company_b.id,
            company_ids=[Command.set(self.company_b.ids)],
        )
        runs = self.env["partner.invite.run"]
        runs.with_user(manager_b).action_start()
        run_b = runs.search([], limit=1)
        self.assertEqual(run_b.company_ids, self.company_b)
        self.assertFalse(runs.with_user(self.manager_a).search([("id", "=", run_b.id)]))
        with self.assertRaises(AccessError):
            run_b.with_user(self.manager_a).action_cancel()
        self.assertEqual(run_b.state, "running")
        with smtp_server(self.env):
            for _step in range(5):
                runs._cron_process_batch()
        # the scheduled run covers both companies: each manager reads its lines
        scheduled = self.run_invite()
        lines_a = (
            self.env["partner.invite.run.line"]
            .with_user(self.manager_a)
            .search([("run_id", "in", (run_b | scheduled).ids)])
        )
        self.assertTrue(lines_a)
        self.assertNotIn(self.bob, lines_a.partner_id)
        with self.assertRaises(AccessError):
            scheduled.with_user(self.manager_a).action_cancel()
