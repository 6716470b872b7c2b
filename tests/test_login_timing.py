# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import statistics
import time
from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessDenied
from odoo.tests import HttpCase, tagged

from .common import TIMING_SAMPLES, WebsiteLoginCase

# Odoo's real password hashing, captured before the test framework swaps in a
# one-round version for speed: the point here is its cost.
PASSWORD = "Own-Password-42!"


@tagged("post_install", "-at_install")
class TestNoTimingOracle(WebsiteLoginCase, HttpCase):
    """Whatever the reason, a refused login takes the time of a wrong password.

    An HttpCase: its registry runs logins on the test's own transaction."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.use_real_password_hashing()
        cls.setup_website_login()
        cls.jane = cls.make_active_contact(PASSWORD)  # hashed at full cost
        cls.blocked = cls.make_active_contact(
            PASSWORD, name="Bo Blocked", username="bo.blocked"
        )
        cls.blocked.allow_login = False
        cls.invited = cls.make_contact(name="Ivo Invited", username="ivo.invited")
        cls.invited_password = cls.issue(cls.invited)
        cls.expired = cls.make_contact(name="Exa Expired", username="exa.expired")
        cls.expired_password = cls.issue(cls.expired)
        cls.env["partner.login.credential"].sudo().search(
            [("user_id", "=", cls.expired.website_user_id.id)]
        ).expires_at = fields.Datetime.now() - timedelta(hours=1)
        cls.blocked_invited = cls.make_contact(name="Bea Blocked", username="bea.b")
        cls.blocked_invited_password = cls.issue(cls.blocked_invited)
        cls.blocked_invited.allow_login = False
        for name in ("Twin One", "Twin Two"):
            twin = cls.make_contact(
                name=name, username=name.lower().replace(" ", "."), email="twin@x.test"
            )
            cls.issue(twin)

    def refusal_seconds(self, login, password):
        """Time of one refused interactive login."""
        started = time.perf_counter()
        with self.assertRaises(AccessDenied):
            self.odoo_login(login, password)
        return time.perf_counter() - started

    def median_beside_wrong_password(self, login, password):
        """Median times of a refusal and of a wrong password, sampled in turn so
        that both see the same load on the machine."""
        refusals, wrong_passwords = [], []
        for _sample in range(TIMING_SAMPLES):
            refusals.append(self.refusal_seconds(login, password))
            wrong_passwords.append(self.refusal_seconds("jane.doe", "not-it"))
        return statistics.median(refusals), statistics.median(wrong_passwords)

    def test_every_refusal_takes_the_time_of_a_wrong_password(self):
        self.refusal_seconds("nobody.here", "warm-up")  # makes the decoy hash once
        wrong_password = self.refusal_seconds("jane.doe", "not-it")
        self.assertGreater(wrong_password, 0.05, "Odoo's real hash is in use")
        self.odoo_login("jane.doe", PASSWORD)  # and Jane exists
        cases = {
            "unknown username": ("nobody.here", PASSWORD),
            "unknown email": ("nobody@retailer.test", PASSWORD),
            "ambiguous email": ("twin@x.test", PASSWORD),
            "Allow Login off": ("bo.blocked", PASSWORD),
            "Allow Login off, temporary password": (
                "bea.b",
                self.blocked_invited_password,
            ),
            "wrong temporary password": ("ivo.invited", "not-the-password"),
            "expired temporary password": ("exa.expired", self.expired_password),
        }
        for case, (login, password) in cases.items():
            with self.subTest(case=case):
                seconds, wrong_password = self.median_beside_wrong_password(
                    login, password
                )
                # Odoo alone answers these in 1 to 2 ms against 300 ms or so
                self.assertGreater(seconds, wrong_password * 0.6)
                self.assertLess(seconds, wrong_password * 1.8)
