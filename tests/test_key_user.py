# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A customer's Website Administrator (key user) gives and takes back its
colleagues' logins from the portal, and nothing beyond: tried as the key user, as
a key user of another company, as a plain portal user and as the public, through
the pages and over JSON-RPC."""

import re

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

from ..models.website_login_settings import parameter_key
from .common import WebsiteLoginCase, password_from, recipients, smtp_server

KIM_PASSWORD = "Kim-Own-Pass-42!"
PAT_PASSWORD = "Pat-Own-Pass-42!"
OTHER_PASSWORD = "Oli-Own-Pass-42!"


@tagged("post_install", "-at_install")
class TestKeyUser(WebsiteLoginCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_website_login()
        cls.leave_out_earlier_contacts()
        cls.kim = cls.make_active_contact(KIM_PASSWORD, name="Kim Key", username="kim")
        cls.kim.with_user(cls.manager).website_admin = True
        cls.cole = cls.make_contact(name="Cole Colleague", username="cole")
        cls.pat = cls.make_active_contact(
            PAT_PASSWORD, name="Pat Portal", username="pat"
        )
        cls.ada = cls.make_contact(name="Ada Admin", username="ada")
        cls.ada.with_user(cls.manager).website_admin = True
        # another customer, with a key user of its own
        cls.other_company = cls.env["res.partner"].create(
            {"name": "Other Shop", "is_company": True, "email": "shop@other.test"}
        )
        cls.oli = cls.make_active_contact(
            OTHER_PASSWORD,
            name="Oli Other",
            username="oli",
            parent_id=cls.other_company.id,
            email="oli@other.test",
        )
        cls.oli.with_user(cls.manager).website_admin = True
        cls.bob = cls.make_contact(
            name="Bob Other",
            username="bob",
            parent_id=cls.other_company.id,
            email="bob@other.test",
        )
        # one of our employees filed under the customer's company
        cls.employee = new_test_user(
            cls.env,
            login="pwl_employee_at_customer",
            groups="base.group_user",
            email="emma@retailer.test",
            name="Emma Employee",
        )
        cls.employee.partner_id.parent_id = cls.company
        cls.public_partner = cls.env.ref("base.public_user").partner_id

    def setUp(self):
        super().setUp()
        self.forget_login_failures()

    # ------------------------------------------------------------------ helpers

    def log_in(self, login, password):
        self.authenticate(login, password)

    def csrf(self):
        page = self.url_open("/my/colleagues/new")
        if page.status_code != 200:
            page = self.url_open("/my")
        return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)

    def post(self, url, data=None, csrf=True):
        data = dict(data or {"submit": "1"})  # a POST, with a token or without
        if csrf:
            data["csrf_token"] = self.csrf()
        return self.url_open(url, data=data, allow_redirects=False)

    def add(self, name, email, username="", invite=True):
        data = {"name": name, "email": email, "username": username}
        if invite:
            data["invite"] = "1"
        return self.post("/my/colleagues/new", data)

    def list_page(self):
        return self.url_open("/my/colleagues").text

    def listed(self, url="/my/colleagues"):
        """The table's rows, as text."""
        return " ".join(
            re.findall(
                r'<tr class="o_colleague_row".*?</tr>', self.url_open(url).text, re.S
            )
        )

    def snapshot(self, partners):
        partners.invalidate_recordset()
        return [
            (
                partner.allow_login,
                partner.website_access_state,
                partner.website_admin,
                partner.username,
                partner.sudo().user_ids.active,
            )
            for partner in partners
        ]

    # ------------------------------------------------------------------ the key user

    def test_a_key_user_adds_a_colleague_who_gets_the_invite_and_logs_in(self):
        self.log_in("kim", KIM_PASSWORD)
        with smtp_server(self.env) as smtp:
            response = self.add("Nora New", "nora.new@retailer.test")
        self.assertEqual(response.status_code, 303)
        nora = self.env["res.partner"].search(
            [("email", "=", "nora.new@retailer.test")]
        )
        self.assertEqual(nora.parent_id, self.company)
        self.assertTrue(nora.website_enabled)
        self.assertEqual(nora.username, "nora.new")  # suggested from the address
        self.assertEqual(nora.website_added_by_id, self.kim)
        self.assertEqual(nora.website_access_state, "invited")
        # the mail went to Nora only, from the company's address, not Kim's
        self.assertEqual(recipients(smtp), ["nora.new@retailer.test"])
        self.assertNotIn("kim", smtp.messages[0]["From"])
        password = password_from(smtp.messages[0])
        self.assertTrue(password)
        # Kim sees the outcome, never the password
        page = self.list_page()
        self.assertIn("Invite sent to Nora New", page)
        self.assertNotIn(password, page)
        self.assertIn("nora.new", page)
        # the chatter names the key user who did it
        notes = " ".join(nora.message_ids.mapped("body"))
        self.assertIn("Kim Key", notes)
        self.assertIn("Website Administrator", notes)
        run = self.env["partner.invite.run"].search([], limit=1)
        self.assertEqual((run.origin, run.key_user_id), ("key_user", self.kim))
        self.assertTrue(self.authenticates("nora.new", password))

    def test_a_key_user_invites_and_revokes_a_colleague(self):
        self.log_in("kim", KIM_PASSWORD)
        with smtp_server(self.env) as smtp:
            self.post(f"/my/colleagues/{self.cole.id}/invite")
        self.assertEqual(recipients(smtp), [self.cole.email])
        password = password_from(smtp.messages[0])
        self.assertTrue(self.authenticates("cole", password))
        self.post(f"/my/colleagues/{self.cole.id}/revoke")
        self.assertFalse(self.cole.allow_login)
        self.assertFalse(self.authenticates("cole", password))
        self.assertIn("Kim Key", self.cole.message_ids[0].body)
        self.assertIn("can no longer log in", self.list_page())
        # back on: a new invite, the old password stays dead
        with smtp_server(self.env) as smtp:
            self.post(f"/my/colleagues/{self.cole.id}/invite")
        self.assertTrue(self.cole.allow_login)
        new_password = password_from(smtp.messages[0])
        self.assertTrue(self.authenticates("cole", new_password))
        self.assertFalse(self.authenticates("cole", password))

    def test_the_list_shows_the_company_and_nobody_else(self):
        self.log_in("kim", KIM_PASSWORD)
        page = self.listed()
        for name in ("Kim Key", "Cole Colleague", "Pat Portal", "Ada Admin"):
            self.assertIn(name, page)
        for name in ("Oli Other", "Bob Other", "Emma Employee", "Retailer Ltd"):
            self.assertNotIn(name, page)
        # searchable
        page = self.listed("/my/colleagues?search=cole")
        self.assertIn("Cole Colleague", page)
        self.assertNotIn("Pat Portal", page)
        # the home page offers the entry
        home = self.url_open("/my").text
        self.assertIn("/my/colleagues", home)

    def test_only_a_key_users_home_links_to_the_colleagues(self):
        # crawlers and screen readers follow a link even where Odoo hides the card
        self.log_in("pat", PAT_PASSWORD)
        home = self.url_open("/my")
        self.assertEqual(home.status_code, 200)
        self.assertNotIn("/my/colleagues", home.text)
        self.log_in("kim", KIM_PASSWORD)
        self.assertIn('href="/my/colleagues"', self.url_open("/my").text)

    def test_the_back_office_shows_who_manages_the_logins(self):
        self.assertEqual(
            self.cole.with_user(self.clerk).website_admin_ids, self.kim | self.ada
        )
        with self.assertRaises(AccessError):
            self.cole.with_user(self.clerk).website_admin = True
        with self.assertRaises(ValidationError):
            self.company.with_user(self.manager).website_admin = True

    # ------------------------------------------------------------------ attacks

    @mute_logger("odoo.http")
    def test_a_key_user_cannot_reach_beyond_its_colleagues(self):
        targets = (
            (self.bob | self.oli | self.employee.partner_id | self.public_partner)
            | self.kim
            | self.ada
        )
        before = self.snapshot(targets)
        self.log_in("kim", KIM_PASSWORD)
        with smtp_server(self.env) as smtp:
            for target in targets:
                for act in ("invite", "revoke"):
                    response = self.post(f"/my/colleagues/{target.id}/{act}")
                    self.assertEqual(response.status_code, 403, (target.name, act))
        self.assertEqual(smtp.messages, [])
        self.assertEqual(self.snapshot(targets), before)
        self.assertFalse(
            self.env["partner.invite.run"].search([("key_user_id", "=", self.kim.id)])
        )

    @mute_logger("odoo.http")
    def test_a_key_user_cannot_change_logins_over_json_rpc(self):
        before = self.snapshot(self.cole | self.kim | self.bob)
        self.log_in("kim", KIM_PASSWORD)
        calls = [
            ("res.partner", "write", [[self.cole.id], {"allow_login": False}]),
            ("res.partner", "write", [[self.kim.id], {"website_admin": False}]),
            ("res.partner", "write", [[self.bob.id], {"username": "mine"}]),
            ("res.partner", "action_random_password_mail", [[self.bob.id]]),
            ("partner.login.delegation", "_invite", [self.kim.id, [self.bob.id]]),
            ("partner.login.delegation", "_revoke", [self.kim.id, [self.bob.id]]),
        ]
        for model, method, args in calls:
            with self.assertRaises(JsonRpcException, msg=f"{model}.{method}"):
                self.call_kw(model, method, args)
        self.assertEqual(self.snapshot(self.cole | self.kim | self.bob), before)

    @mute_logger("odoo.http")
    def test_a_plain_portal_user_and_the_public_have_no_colleagues_page(self):
        before = self.snapshot(self.cole)
        self.log_in("pat", PAT_PASSWORD)
        self.assertEqual(self.url_open("/my/colleagues").status_code, 403)
        csrf = re.search(
            r'name="csrf_token" value="([^"]+)"', self.url_open("/my/account").text
        ).group(1)
        with smtp_server(self.env) as smtp:
            for act in ("invite", "revoke"):
                response = self.url_open(
                    f"/my/colleagues/{self.cole.id}/{act}",
                    data={"csrf_token": csrf},
                    allow_redirects=False,
                )
                self.assertEqual(response.status_code, 403)
            response = self.url_open(
                "/my/colleagues/new",
                data={"csrf_token": csrf, "name": "X", "email": "x@retailer.test"},
                allow_redirects=False,
            )
            self.assertEqual(response.status_code, 403)
        self.assertNotIn(
            "/my/colleagues", self.url_open("/my").text.split("o_portal_docs")[0]
        )
        self.assertEqual(smtp.messages, [])
        self.url_open("/web/session/logout", allow_redirects=False)
        response = self.url_open("/my/colleagues", allow_redirects=False)
        self.assertIn("/web/login", response.headers.get("Location", ""))
        self.assertEqual(self.snapshot(self.cole), before)
        self.assertFalse(
            self.env["res.partner"].search([("email", "=", "x@retailer.test")])
        )

    def test_the_key_user_of_an_archived_company_manages_nobody(self):
        self.log_in("kim", KIM_PASSWORD)
        csrf = self.csrf()
        self.company.with_user(self.manager).action_archive()
        self.env.flush_all()  # the server's requests read the database
        # the session open before the archive ends: back to the login page
        response = self.url_open("/my/colleagues", allow_redirects=False)
        self.assertIn("/web/login", response.headers.get("Location", ""))
        with smtp_server(self.env) as smtp:
            response = self.url_open(
                "/my/colleagues/new",
                data={"csrf_token": csrf, "name": "X", "email": "x@retailer.test"},
                allow_redirects=False,
            )
        self.assertIn("/web/login", response.headers.get("Location", ""))
        self.assertFalse(self.authenticates("kim", KIM_PASSWORD))
        self.assertEqual(smtp.messages, [])
        self.assertFalse(
            self.env["res.partner"]
            .with_context(active_test=False)
            .search([("email", "=", "x@retailer.test")])
        )

    @mute_logger("odoo.http")
    def test_posts_without_the_csrf_token_change_nothing(self):
        before = self.snapshot(self.cole | self.pat)
        self.log_in("kim", KIM_PASSWORD)
        with smtp_server(self.env) as smtp:
            for url in (
                f"/my/colleagues/{self.cole.id}/invite",
                f"/my/colleagues/{self.pat.id}/revoke",
            ):
                self.assertEqual(self.post(url, csrf=False).status_code, 400)
            response = self.post(
                "/my/colleagues/new",
                {"name": "Y", "email": "y@retailer.test", "invite": "1"},
                csrf=False,
            )
            self.assertEqual(response.status_code, 400)
        self.assertEqual(smtp.messages, [])
        self.assertEqual(self.snapshot(self.cole | self.pat), before)
        self.assertFalse(
            self.env["res.partner"].search([("email", "=", "y@retailer.test")])
        )

    def test_a_username_of_another_user_is_refused_without_naming_it(self):
        self.log_in("kim", KIM_PASSWORD)
        for username in ("pwl_manager", "BOB", "manager@ourcompany.test"):
            response = self.add("Zed", "zed@retailer.test", username, invite=False)
            self.assertEqual(response.status_code, 200, username)
            self.assertIn("alert-danger", response.text)
            self.assertNotIn("Morgan Manager", response.text)
            self.assertNotIn("Bob Other", response.text)
        self.assertFalse(
            self.env["res.partner"].search([("email", "=", "zed@retailer.test")])
        )

    def test_addresses_odoo_knows_as_bad_or_taken_are_refused(self):
        self.env["mail.blacklist"].create({"email": "gone@retailer.test"})
        # login mails to Bob bounced the limit's number of times
        run = self.env["partner.invite.run"].create({"origin": "manual"})
        for _bounce in range(5):
            self.env["partner.invite.run.line"].create(
                {"run_id": run.id, "partner_id": self.bob.id, "outcome": "bounced"}
            )
        new_test_user(self.env, login="lou@other.test", groups="base.group_portal")
        self.log_in("kim", KIM_PASSWORD)
        with smtp_server(self.env) as smtp:
            for email in (
                "gone@retailer.test",  # blacklisted
                "bob@other.test",  # bouncing (and another company's)
                "lou@other.test",  # somebody's login elsewhere
            ):
                response = self.add("Somebody", email)
                self.assertIn("cannot be invited from here", response.text, email)
            response = self.add("Somebody", self.cole.email)  # a colleague has it
            self.assertIn("invite them from the list", response.text)
        self.assertEqual(smtp.messages, [])
        self.assertFalse(
            self.env["res.partner"].search(
                [("name", "=", "Somebody"), ("parent_id", "=", self.company.id)]
            )
        )

    def test_the_daily_limit_counts_every_invite_and_addition(self):
        self.env["ir.config_parameter"].set_param(
            parameter_key("key_user_daily_limit"), "3"
        )
        self.log_in("kim", KIM_PASSWORD)
        with smtp_server(self.env) as smtp:
            self.post(f"/my/colleagues/{self.cole.id}/invite")
            self.post(f"/my/colleagues/{self.cole.id}/revoke")
            self.post(f"/my/colleagues/{self.cole.id}/invite")  # counted again
            self.add("Una", "una@retailer.test")  # added and invited: one
            response = self.add("Vic", "vic@retailer.test")
        self.assertIn("as many as you may", response.text)
        self.assertFalse(
            self.env["res.partner"].search([("email", "=", "vic@retailer.test")])
        )
        self.assertEqual(
            recipients(smtp),
            sorted([self.cole.email, self.cole.email, "una@retailer.test"]),
        )
        # another key user's count is its own
        self.log_in("oli", OTHER_PASSWORD)
        self.add("Wes", "wes@other.test", invite=False)
        self.assertTrue(
            self.env["res.partner"].search([("email", "=", "wes@other.test")])
        )

    def test_with_approval_on_the_first_invite_waits_for_a_manager(self):
        self.env["ir.config_parameter"].set_param(
            parameter_key("key_user_approval"), "True"
        )
        self.log_in("kim", KIM_PASSWORD)
        with smtp_server(self.env) as smtp:
            self.add("Xia", "xia@retailer.test")
            xia = self.env["res.partner"].search([("email", "=", "xia@retailer.test")])
            self.assertIn("approves them", self.list_page())
            self.post(f"/my/colleagues/{xia.id}/invite")
            self.assertIn("Xia: Waits for our approval", self.list_page())
            # nor does the scheduled invite take it
            self.env["res.partner"]._cron_send_bulk_website_invite()
        self.assertEqual(smtp.messages, [])
        self.assertTrue(xia.website_awaiting_approval)
        waiting = (
            self.env["res.partner"]
            .with_user(self.manager)
            .search([("website_awaiting_approval", "=", True)])
        )
        self.assertEqual(waiting, xia)
        with smtp_server(self.env) as smtp:
            waiting.action_approve_website_colleague()
        self.assertEqual(recipients(smtp), ["xia@retailer.test"])
        self.assertFalse(xia.website_awaiting_approval)
        self.assertIn("Morgan Manager", " ".join(xia.message_ids.mapped("body")))

    def test_an_employee_cannot_approve(self):
        with self.assertRaises(AccessError):
            self.cole.with_user(self.clerk).action_approve_website_colleague()

    # ------------------------------------------------------------------ a manager's act

    def row(self, partner, url="/my/colleagues"):
        """The colleague's row on the page, as HTML."""
        match = re.search(
            rf'<tr class="o_colleague_row" data-colleague_id="{partner.id}">.*?</tr>',
            self.url_open(url).text,
            re.S,
        )
        self.assertTrue(match, f"{partner.name} is not listed")
        return match.group(0)

    @mute_logger("odoo.http")
    def test_a_managers_revocation_stands_against_the_key_user(self):
        with smtp_server(self.env):
            password = self.issue(self.cole)
        revokes = (
            (
                "Revoke Website Access",
                lambda: self.cole.with_user(
                    self.manager
                ).action_revoke_website_access(),
            ),
            (
                "Allow Login off",
                lambda: self.cole.with_user(self.manager).write({"allow_login": False}),
            ),
            (
                "the user form",
                lambda: self.cole.website_user_id.with_user(
                    self.env.ref("base.user_admin")
                ).write({"active": False}),
            ),
        )
        for how, revoke in revokes:
            with self.subTest(how):
                self.cole.with_user(self.manager).allow_login = True
                self.assertFalse(self.cole.website_access_ended_by_manager)
                revoke()
                self.assertTrue(self.cole.website_access_ended_by_manager)
                self.env.flush_all()
                self.log_in("kim", KIM_PASSWORD)
                row = self.row(self.cole)
                self.assertIn("Login removed by us", row)
                self.assertIn("ask us", row)
                self.assertNotIn("o_colleague_invite", row)
                with smtp_server(self.env) as smtp:
                    response = self.post(f"/my/colleagues/{self.cole.id}/invite")
                self.assertEqual(response.status_code, 303)
                self.assertIn("We removed this login", self.list_page())
                self.assertEqual(smtp.messages, [])
                self.cole.invalidate_recordset()
                self.assertFalse(self.cole.allow_login)
                self.assertFalse(self.authenticates("cole", password))
        # a manager's act gives the key user its hand back
        self.cole.with_user(self.manager).allow_login = True
        self.assertFalse(self.cole.website_access_ended_by_manager)

    def test_a_login_the_key_user_removed_it_allows_again(self):
        self.log_in("kim", KIM_PASSWORD)
        with smtp_server(self.env):
            self.post(f"/my/colleagues/{self.cole.id}/invite")
        # Remove login asks first: the question changes nothing
        self.assertIn(f"/my/colleagues/{self.cole.id}/revoke", self.row(self.cole))
        page = self.url_open(f"/my/colleagues/{self.cole.id}/revoke")
        self.assertEqual(page.status_code, 200)
        self.assertIn("Remove the login of Cole Colleague?", page.text)
        self.assertIn("o_colleague_revoke_confirm", page.text)
        self.cole.invalidate_recordset()
        self.assertTrue(self.cole.allow_login)
        self.post(f"/my/colleagues/{self.cole.id}/revoke")
        self.assertFalse(self.cole.allow_login)
        self.assertFalse(self.cole.website_access_ended_by_manager)
        row = self.row(self.cole)
        self.assertIn("Login removed", row)
        self.assertIn("Allow login", row)
        self.assertNotIn("o_colleague_revoke", row)
        with smtp_server(self.env) as smtp:
            self.post(f"/my/colleagues/{self.cole.id}/invite")
        self.assertEqual(recipients(smtp), [self.cole.email])
        self.assertTrue(self.cole.allow_login)
        self.assertTrue(self.authenticates("cole", password_from(smtp.messages[0])))

    @mute_logger("odoo.http")
    def test_nobody_else_gets_the_removal_question(self):
        self.log_in("kim", KIM_PASSWORD)
        for target in (self.bob, self.ada, self.kim, self.employee.partner_id):
            response = self.url_open(f"/my/colleagues/{target.id}/revoke")
            self.assertEqual(response.status_code, 403, target.name)
            if target != self.kim:  # the page names who is logged in
                self.assertNotIn(target.name, response.text)
        self.assertEqual(
            self.url_open(f"/my/colleagues/{self.cole.id}/invite").status_code, 404
        )

    def test_each_row_offers_only_what_can_be_done(self):
        self.kim.website_user_id.tz = "Asia/Tokyo"
        with smtp_server(self.env):
            self.issue(self.cole)  # invited now: not again before it expires
        lapsed = self.make_contact(name="Lea Lapsed", username="lea")
        self.issue(lapsed)
        lapsed.website_password_expires = "2020-01-01 00:00:00"
        self.env["partner.login.access"]._lapsed()
        no_mail = self.make_contact(
            name="Nia Nomail", username=False, website_enabled=False, email=False
        )
        bad_mail = self.make_contact(name="Ben Bad", username="ben", email="ben at x")
        self.log_in("kim", KIM_PASSWORD)
        page = self.url_open("/my/colleagues").text
        headers = re.search(r"<thead>.*?</thead>", page, re.S).group(0)
        for partner in (self.cole, lapsed, no_mail, bad_mail, self.pat, self.ada):
            row = self.row(partner)
            # every row keeps its cells under the headers
            self.assertEqual(
                len(re.findall(r"<td[ >]", row)),
                len(re.findall(r"<th[ >]", headers)),
                partner.name,
            )
        cole = self.row(self.cole)
        self.assertNotIn("o_colleague_invite", cole)
        self.assertIn("Can be invited again once this invite expires", cole)
        self.assertIn("(Asia/Tokyo)", cole)
        self.assertIn("Invite again", self.row(lapsed))
        for partner in (no_mail, bad_mail):
            row = self.row(partner)
            self.assertNotIn("o_colleague_invite", row)
            self.assertIn("No valid email address", row)
        pat = self.row(self.pat)
        self.assertNotIn("o_colleague_invite", pat)
        self.assertIn("o_colleague_revoke", pat)
        ada = self.row(self.ada)
        self.assertNotIn("o_colleague_invite", ada)
        self.assertNotIn("o_colleague_revoke", ada)
        # what the page offers, the key user's post does
        with smtp_server(self.env) as smtp:
            self.post(f"/my/colleagues/{lapsed.id}/invite")
        self.assertEqual(recipients(smtp), [lapsed.email])

    # ------------------------------------------------------------------ probes

    def test_probes_of_taken_usernames_answer_a_suggestion_and_count(self):
        self.env["ir.config_parameter"].set_param(
            parameter_key("key_user_daily_limit"), "4"
        )
        self.make_contact(
            name="Kim Y", username="kim.y", parent_id=self.other_company.id
        )
        # another customer's key user (the demo's, where demo data is loaded)
        hana = self.env["res.partner"].search(
            [("username", "=ilike", "hana.green")]
        ) or self.make_contact(
            name="Hana Green", username="hana.green", parent_id=self.other_company.id
        )
        if not hana.website_admin:
            hana.with_user(self.manager).website_admin = True
        self.log_in("kim", KIM_PASSWORD)
        with smtp_server(self.env) as smtp:
            for probe in ("kim.y", "admin", "HANA.GREEN"):
                response = self.add("Zed", "zed@retailer.test", probe)
                self.assertEqual(response.status_code, 200, probe)
                error = re.search(
                    r'class="alert alert-danger"[^>]*>(.*?)</div>', response.text, re.S
                ).group(1)
                suggestion = re.search(
                    r"Choose another username, (\S+) for example", error
                ).group(1)
                for word in ("cannot be used", "already", "Kim Y", "Hana", "Admin"):
                    self.assertNotIn(word, error, probe)
                self.assertNotEqual(suggestion.lower(), probe.lower())
                # the form offers the free suggestion in place of the probe
                self.assertIn(f'value="{suggestion}"', response.text)
                self.env["partner.login.username"]._check_available(
                    self.env["res.partner"], [suggestion]
                )
            # the three refusals counted: one more colleague, then the limit
            self.assertEqual(self.add("Zed", "zed@retailer.test").status_code, 303)
            response = self.add("Yan", "yan@retailer.test")
        self.assertIn("as many as you may", response.text)
        self.assertEqual(recipients(smtp), ["zed@retailer.test"])
        self.assertFalse(
            self.env["res.partner"].search([("email", "=", "yan@retailer.test")])
        )

    def test_an_address_elsewhere_is_refused_alike_taken_or_not(self):
        self.env["ir.config_parameter"].set_param(
            parameter_key("key_user_daily_limit"), "3"
        )
        # another company's portal user, and another company's contact without login
        new_test_user(self.env, login="lou@other.test", groups="base.group_portal")
        self.env["res.partner"].create(
            {
                "name": "Fay Free",
                "parent_id": self.other_company.id,
                "email": "fay@other.test",
            }
        )
        self.log_in("kim", KIM_PASSWORD)
        answers = []
        for email in ("lou@other.test", "fay@other.test", "LOU@other.test"):
            response = self.add("Somebody", email, invite=False)
            answers.append(
                re.search(
                    r'class="alert alert-danger"[^>]*>(.*?)</div>', response.text, re.S
                ).group(1)
            )
        self.assertEqual(len(set(answers)), 1, answers)
        self.assertIn("cannot be invited from here", answers[0])
        # three refusals: the limit is reached
        response = self.add("Zed", "zed@retailer.test")
        self.assertIn("as many as you may", response.text)
