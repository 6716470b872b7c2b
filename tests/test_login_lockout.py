# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Per-account lockout, as a guesser and as the account's owner meet it (the same
lockout across two server processes: scripts/check_lockout.py)."""

import statistics
from datetime import timedelta

import lxml.html
from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .common import TIMING_SAMPLES, WebsiteLoginCase

PASSWORD = "Own-Password-42!"


@tagged("post_install", "-at_install")
class TestLoginLockout(WebsiteLoginCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_website_login()
        cls.jane = cls.make_active_contact(PASSWORD)
        set_param = cls.env["ir.config_parameter"].set_param
        set_param("partner_website_login.lockout_failures", 3)
        # Odoo's per-IP cooldown off: what is left is the addon's per-account one
        set_param("base.login_cooldown_after", 0)

    def fail_logins(self, times, login="jane.doe"):
        for _attempt in range(times):
            self.assertFalse(self.authenticates(login, "wrong-guess"))

    @mute_logger("odoo.addons.base.models.res_users", "odoo.http")
    def test_enough_failures_lock_the_account_whatever_the_password(self):
        self.fail_logins(3)
        self.assertTrue(self.jane.website_login_locked_until)
        self.assertFalse(self.authenticates("jane.doe", PASSWORD))
        self.assertFalse(self.authenticates(self.jane.email, PASSWORD))
        # the refusal reads like a wrong password's
        locked = self.post_login("jane.doe", PASSWORD)
        self.assertEqual(locked.status_code, 200)
        alerts = lxml.html.fromstring(locked.text).xpath(
            "//form[hasclass('oe_login_form')]//*[hasclass('alert-danger')]"
        )
        self.assertEqual(
            [alert.text_content().strip() for alert in alerts],
            ["Wrong login/password"],
        )

    @mute_logger("odoo.addons.base.models.res_users")
    def test_a_success_starts_the_count_again(self):
        self.fail_logins(2)
        self.assertTrue(self.authenticates("jane.doe", PASSWORD))
        self.fail_logins(2)
        self.assertFalse(self.jane.website_login_locked_until)
        self.assertTrue(self.authenticates("jane.doe", PASSWORD))

    @mute_logger("odoo.addons.base.models.res_users")
    def test_the_cooldown_grows_and_ends_by_itself(self):
        start = fields.Datetime.now()
        with freeze_time(start):
            self.fail_logins(3)
        first = self.jane.website_login_locked_until
        self.assertEqual(first, start + timedelta(minutes=1))
        with freeze_time(start + timedelta(seconds=10)):
            self.fail_logins(1)  # one more guess while locked
            self.jane.invalidate_recordset(["website_login_locked_until"])
            self.assertEqual(
                self.jane.website_login_locked_until,
                start + timedelta(seconds=10, minutes=2),
            )
        with freeze_time(start + timedelta(minutes=3)):
            self.assertTrue(self.authenticates("jane.doe", PASSWORD))

    @mute_logger("odoo.addons.base.models.res_users")
    def test_the_cooldown_is_capped_so_the_owner_is_only_delayed(self):
        start = fields.Datetime.now()
        with freeze_time(start):
            self.fail_logins(40)
        self.assertEqual(
            self.jane.website_login_locked_until, start + timedelta(minutes=60)
        )

    @mute_logger("odoo.addons.base.models.res_users")
    def test_a_manager_unlocks_an_employee_may_not(self):
        self.fail_logins(3)
        with self.assertRaises(AccessError):
            self.jane.with_user(self.clerk).action_unlock_website_login()
        self.assertTrue(self.jane.website_login_locked_until)
        self.jane.with_user(self.manager).action_unlock_website_login()
        self.assertFalse(self.jane.website_login_locked_until)
        self.assertTrue(self.authenticates("jane.doe", PASSWORD))
        self.assertIn("unlocked by Morgan Manager", self.jane.message_ids[0].body)

    @mute_logger("odoo.addons.base.models.res_users")
    def test_unknown_logins_lock_nothing(self):
        self.fail_logins(5, login="nobody.here")
        self.assertFalse(self.env["res.users.login.lockout"].sudo().search([]))


@tagged("post_install", "-at_install")
class TestLoginLockoutTiming(WebsiteLoginCase, HttpCase):
    """A locked account refuses in the time of a wrong password, and so does an
    unknown login: nothing tells a guesser the account exists or is locked."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.use_real_password_hashing()
        cls.setup_website_login()
        cls.jane = cls.make_active_contact(PASSWORD)
        cls.env["ir.config_parameter"].set_param(
            "partner_website_login.lockout_failures", 3
        )
        cls.env["ir.config_parameter"].set_param("base.login_cooldown_after", 0)
        cls.olga = cls.make_active_contact(PASSWORD, name="Olga", username="olga")

    @mute_logger("odoo.http", "odoo.addons.base.models.res_users")
    def test_a_locked_account_refuses_in_the_time_of_a_wrong_password(self):
        self.authenticate_json("nobody.here", "warm-up")  # makes the decoy hash
        # a login counted the way /web/login counts it: a failed JSON
        # authenticate is rolled back in an HttpCase on 19.0, with the lockout
        # row its own cursor wrote (check_lockout.py counts them on real servers)
        for _attempt in range(3):
            self.assertFalse(self.authenticates("olga", "wrong-guess"))
        self.assertTrue(self.olga.website_login_locked_until)
        locked, wrong, unknown = [], [], []
        for _sample in range(TIMING_SAMPLES):  # interleaved: the same machine load
            seconds, locked_error = self.authenticate_json("olga", PASSWORD)
            locked.append(seconds)
            seconds, _error = self.authenticate_json("jane.doe", "wrong-guess")
            wrong.append(seconds)
            seconds, _error = self.authenticate_json("nobody.here", PASSWORD)
            unknown.append(seconds)
            # Jane is the wrong password's account: she must not get locked too
            self.env["res.users.login.lockout"].sudo()._forget(
                self.jane.website_user_id.ids
            )
        self.assertEqual(locked_error, "odoo.exceptions.AccessDenied")
        for other in (wrong, unknown):
            ratio = statistics.median(locked) / statistics.median(other)
            self.assertGreater(ratio, 0.6)
            self.assertLess(ratio, 1.7)
