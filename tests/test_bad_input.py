# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Any string as username, email or login: a valid outcome or a clean refusal."""

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odoo.exceptions import AccessDenied, UserError, ValidationError
from odoo.tests import HttpCase, tagged
from odoo.tools import email_normalize

from .common import REFUSAL, WebsiteLoginCase

JANE_PASSWORD = "Jane-Own-Password-1"
JOHN_PASSWORD = "John-Own-Password-2"
USERNAME_RULE = re.compile(r"[A-Za-z0-9._-]{1,64}")

NASTY = [
    "",
    " ",
    "\x00",
    "jane.doe\x00",
    "x" * 10_000,
    "j\u0430ne.doe",  # Cyrillic a
    "jane.doe\u200b",  # zero-width space
    "JANE.DOE\u0130",  # dotted capital I
    "' OR '1'='1' --",
    "jane.doe'; DROP TABLE res_users; --",
    "%",
    "_",
    "jane%",
    "j_ne.doe",
    "<script>alert(1)</script>",
    "jane.doe@retailer.test, john.roe@retailer.test",
    '"Jane" <jane.doe@retailer.test>',
    "jane.doe@retailer.test\n",
    "\tjane.doe\t",
]
KNOWN = ["jane.doe", "jane.doe@retailer.test", "john.roe", "john.roe@retailer.test"]


def recased(text, flips):
    return "".join(
        char.upper() if flip else char.lower()
        for char, flip in zip(text, flips + [False] * len(text), strict=False)
    )


any_login = st.one_of(
    st.text(max_size=80),
    st.sampled_from(NASTY),
    st.builds(
        lambda known, flips, before, after: before + recased(known, flips) + after,
        st.sampled_from(KNOWN),
        st.lists(st.booleans(), max_size=30),
        st.sampled_from(["", " ", "  ", "\t", "\u00a0", "x"]),
        st.sampled_from(["", " ", "\n", "\x00", "%", "_", "\u200b"]),
    ),
)
EXAMPLES = settings(
    max_examples=150,
    deadline=None,
    database=None,  # nothing written next to the checkout
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@tagged("post_install", "-at_install")
class TestBadInput(WebsiteLoginCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_website_login()
        cls.jane = cls.make_active_contact(JANE_PASSWORD)
        cls.john = cls.make_active_contact(
            JOHN_PASSWORD, name="John Roe", username="john.roe"
        )
        cls.ada = cls.make_contact(name="Ada Free", username="ada.free")

    def login_uid(self, login, password):
        self.forget_login_failures()  # neither cooldown nor lockout is under test
        try:
            return self.odoo_login(login, password)["uid"]
        except AccessDenied:
            return None

    def means(self, login):
        """Whom a typed login may log in: its username or email (also written as
        "Name <email>"), whatever the case and surrounding spaces."""
        typed = login.strip().lower()
        if "@" in typed:
            typed = email_normalize(typed, strict=True) or typed
        return {
            "jane.doe": self.jane,
            "jane.doe@retailer.test": self.jane,
            "john.roe": self.john,
            "john.roe@retailer.test": self.john,
        }.get(typed)

    @EXAMPLES
    @given(login=any_login, whose=st.sampled_from(["jane", "john"]))
    def test_any_login_logs_in_the_right_contact_or_nobody(self, login, whose):
        contact, password = {
            "jane": (self.jane, JANE_PASSWORD),
            "john": (self.john, JOHN_PASSWORD),
        }[whose]
        uid = self.login_uid(login, password)
        if uid is not None:
            self.assertEqual(self.means(login), contact, f"logged in with {login!r}")
            self.assertEqual(uid, contact.website_user_id.id)
        elif "\x00" not in login and len(login) < 255:
            self.assertNotEqual(self.means(login), contact, f"refused {login!r}")

    @settings(EXAMPLES, max_examples=25)
    @given(login=any_login)
    def test_the_login_page_never_fails_on_any_login(self, login):
        self.forget_login_failures()  # neither cooldown nor lockout is under test
        response = self.post_login(login, JANE_PASSWORD)
        if response.status_code == 303:
            self.assertEqual(self.means(login), self.jane, f"logged in with {login!r}")
        else:
            self.assertEqual(response.status_code, 200, login)
            self.assertIn(REFUSAL, response.text)

    def test_a_setting_out_of_range_never_breaks_a_login(self):
        parameters = self.env["ir.config_parameter"]
        for value in ("inf", "-inf", "nan", "1e999", "99999999999999999999", "-5"):
            for name in ("lockout_failures", "lockout_minutes", "lockout_max_minutes"):
                parameters.set_param(f"partner_website_login.{name}", value)
            with self.subTest(value=value):
                self.forget_login_failures()
                for _attempt in range(12):
                    response = self.post_login("jane.doe", "wrong-guess")
                    self.assertEqual(response.status_code, 200)
                    self.assertIn(REFUSAL, response.text)

    @EXAMPLES
    @given(username=st.one_of(any_login, st.from_regex(USERNAME_RULE, fullmatch=True)))
    def test_any_username_is_stored_valid_and_unique_or_refused(self, username):
        try:
            with self.env.cr.savepoint():
                self.ada.with_user(self.manager).username = username
                self.env.flush_all()
        except (ValidationError, UserError):
            return
        stored = self.ada.username
        if not username.strip():
            self.assertFalse(stored)
            return
        self.assertRegex(stored, USERNAME_RULE)
        self.assertEqual(stored, username.strip())
        self.assertEqual(
            self.env["res.partner"]
            .with_context(active_test=False)
            .search_count([("username", "=ilike", stored.replace("_", "\\_"))]),
            1,
        )
        self.env.cr.execute(
            "SELECT login FROM res_users WHERE lower(login) = %s AND partner_id != %s",
            [stored.lower(), self.ada.id],
        )
        self.assertFalse(self.env.cr.fetchall(), "another user's login")

    @EXAMPLES
    # NUL is left out: PostgreSQL refuses it in any text column, an Odoo matter
    @given(
        email=st.one_of(any_login, st.emails()).filter(lambda text: "\x00" not in text)
    )
    def test_any_email_gives_a_clean_eligibility_answer(self, email):
        with self.env.cr.savepoint():
            self.ada.email = email
            refusals = self.env["partner.login.eligibility"]._refusals(self.ada)
            if self.ada.website_email_valid:
                self.assertNotIn(self.ada.id, refusals)
            else:
                _rule, message = refusals[self.ada.id]
                self.assertIn("valid email", message)
