# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The runs, as a Website Login manager who is not an administrator sees and steers
them: Contacts > Website Invites."""

from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .common import smtp_server
from .test_bulk_invite import BulkInviteMixin

RUN_LOGGER = "odoo.addons.partner_website_login.models.partner_invite_worker"


@tagged("post_install", "-at_install")
class TestInviteRuns(BulkInviteMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_website_login()
        cls.leave_out_earlier_contacts()
        cls.ada = cls.make_contact(name="Ada", username="ada")
        cls.hal = cls.make_contact(name="Hal", username="hal", allow_login=False)
        cls.eve = cls.make_contact(name="Eve", username="eve", email="eve-at-x")

    def test_a_manager_starts_a_run_from_contacts_and_sees_who_was_invited(self):
        self.authenticate("pwl_manager", "pwl_manager")
        menu = self.env.ref("partner_website_login.partner_invite_run_menu")
        self.assertEqual(
            menu.parent_id.parent_id, self.env.ref("contacts.menu_contacts")
        )
        self.assertIn(
            menu.id,
            self.env["ir.ui.menu"].with_user(self.manager)._visible_menu_ids(),
        )
        # the list's header button, as the web client calls it
        action = self.call_kw("partner.invite.run", "action_start", [[]])
        run = self.env["partner.invite.run"].search([], limit=1)
        # the notification, then the run's form in the same tab
        self.assertIn("1 to invite", action["params"]["message"])
        self.assertEqual(action["params"]["next"]["res_id"], run.id)
        with smtp_server(self.env):
            self.work_off(run)
        # the run's list and its contacts, read as the list and the form read them
        [row] = self.call_kw(
            "partner.invite.run",
            "web_search_read",
            [[("id", "=", run.id)]],
            {
                "specification": {
                    "state": {},
                    "started_by_id": {"fields": {"display_name": {}}},
                    "duration": {},
                    "invited_count": {},
                    "skipped_count": {},
                    "failed_count": {},
                }
            },
        )["records"]
        self.assertEqual(row["state"], "done")
        self.assertEqual(row["started_by_id"]["display_name"], "Morgan Manager")
        self.assertEqual((row["invited_count"], row["skipped_count"]), (1, 2))
        lines = self.call_kw(
            "partner.invite.run.line",
            "search_read",
            [[("run_id", "=", run.id)], ["partner_id", "outcome", "reason"]],
        )
        by_contact = {line["partner_id"][1]: line for line in lines}
        self.assertEqual(by_contact["Retailer Ltd, Ada"]["outcome"], "invited")
        self.assertEqual(by_contact["Retailer Ltd, Hal"]["outcome"], "skipped")
        self.assertEqual(
            by_contact["Retailer Ltd, Hal"]["reason"], "Allow Login is off."
        )
        self.assertIn("valid email", by_contact["Retailer Ltd, Eve"]["reason"])
        # searchable by contact
        found = self.call_kw(
            "partner.invite.run", "search", [[("line_ids.partner_id", "ilike", "Hal")]]
        )
        self.assertEqual(found, run.ids)

    def test_a_manager_cancels_a_run(self):
        self.env["partner.invite.run"].with_user(self.manager).action_start()
        run = self.env["partner.invite.run"].search([], limit=1)
        self.authenticate("pwl_manager", "pwl_manager")
        self.call_kw("partner.invite.run", "action_cancel", [run.ids])
        self.assertEqual(run.state, "cancelled")
        with smtp_server(self.env) as smtp:
            self.env["partner.invite.run"]._cron_process_batch()
        self.assertFalse(smtp.messages)
        self.assertFalse(self.ada.website_user_id)
        # the next start opens a new run
        self.env["partner.invite.run"].with_user(self.manager).action_start()
        self.assertNotEqual(self.env["partner.invite.run"].search([], limit=1), run)

    @mute_logger("odoo.addons.partner_website_login.models.partner_invite_outcome")
    def test_a_password_committed_after_the_cancel_never_works(self):
        """Cancel Run pressed while the worker's step waited for a retry due in a
        moment: the step commits the retry's new password after the cancel's
        transaction began, so the cancel cannot see it. Nobody received it; the
        worker job, woken by the cancel, makes sure it never works."""
        self.env["partner.invite.run"].with_user(self.manager).action_start()
        run = self.env["partner.invite.run"].search([], limit=1)
        self.authenticate("pwl_manager", "pwl_manager")
        self.call_kw("partner.invite.run", "action_cancel", [run.ids])
        # what the step committed meanwhile: the line marked "sending" and its
        # password issued, the mail not sent
        line = self.env["partner.invite.outcome"]._create_sending(run, self.ada)
        password = self.issue(self.ada)
        self.assertTrue(self.authenticates("ada", password))
        with smtp_server(self.env) as smtp:
            self.env["partner.invite.run"]._cron_process_batch()
        self.assertFalse(smtp.messages)
        self.assertFalse(self.authenticates("ada", password))
        self.assertNotEqual(line.outcome, "sending")

    @mute_logger(RUN_LOGGER, "odoo.addons.mail.models.mail_render_mixin")
    def test_a_step_that_keeps_failing_ends_as_failed_and_the_next_start_is_new(self):
        # an administrator breaks the invite template: every step raises
        template = self.env.ref("partner_website_login.mail_template_website_invite")
        # in SQL: 19.0 refuses to save a body that does not render
        self.env.cr.execute(
            "UPDATE mail_template SET body_html = jsonb_build_object('en_US', %s) "
            "WHERE id = %s",
            ['<p t-out="object.no_such_field.name"/>', template.id],
        )
        template.invalidate_recordset(["body_html"])
        self.env["partner.invite.run"].with_user(self.manager).action_start()
        run = self.env["partner.invite.run"].search([], limit=1)
        with smtp_server(self.env) as smtp:
            self.work_off(run)
        self.assertEqual(run.state, "failed")
        self.assertEqual(run.error_count, 3)
        self.assertIn("no_such_field", run.last_error)
        self.assertTrue(run.ended_at)
        self.assertFalse(smtp.messages)
        self.assertFalse(self.credentials_of(self.ada))  # nothing half done
        worker = self.env.ref(
            "partner_website_login.ir_cron_process_website_invite_batches"
        )
        self.assertTrue(worker.active)  # later runs still get done
        # fixed, the next start opens a new run that invites
        template.body_html = (
            "<p>Password: <t t-out=\"ctx.get('website_password')\"/></p>"
        )
        self.env["partner.invite.run"].with_user(self.manager).action_start()
        second = self.env["partner.invite.run"].search([], limit=1)
        self.assertNotEqual(second, run)
        with smtp_server(self.env) as smtp:
            self.work_off(second)
        self.assertEqual(second.state, "done")
        self.assertEqual(len(smtp.messages), 1)
