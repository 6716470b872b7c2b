# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Attacks on the Website Administrator (issue 23) found by a review of the first
version, each a hole it had: re-inviting one colleague without end, two requests
at once past the daily limit, a username taking another company's Reference
login, an address taking another company's email login (on adding, and by a
colleague's own change before a re-invite), the company record itself managed."""

import uuid

from psycopg2.errors import SerializationFailure

from odoo import api
from odoo.exceptions import AccessError, UserError
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from ..models.website_login_settings import parameter_key
from .common import WebsiteLoginCase, recipients, smtp_server

KIM_PASSWORD = "Kim-Own-Pass-42!"


@tagged("post_install", "-at_install")
class TestKeyUserAttack(WebsiteLoginCase, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_website_login()
        cls.leave_out_earlier_contacts()
        cls.kim = cls.make_active_contact(KIM_PASSWORD, name="Kim Key", username="kim")
        cls.kim.with_user(cls.manager).website_admin = True
        cls.kim_user = cls.kim.website_user_id
        cls.cole = cls.make_contact(name="Cole Colleague", username="cole")
        cls.other_company = cls.env["res.partner"].create(
            {"name": "Other Shop", "is_company": True, "email": "shop@other.test"}
        )

    def as_kim(self):
        delegation = self.env["partner.login.delegation"].with_user(self.kim_user)
        return delegation, delegation._key_user()

    def login_of(self, typed):
        self.env.flush_all()
        return self.env["res.users.login.identifier"]._user_id(typed)

    # (c) the same colleague may be mailed without end: distinct counting
    def test_re_invites_of_one_colleague_are_limited(self):
        self.env["ir.config_parameter"].set_param(
            parameter_key("key_user_daily_limit"), "1"
        )
        delegation, key = self.as_kim()
        with smtp_server(self.env) as smtp:
            delegation._add(key, "Una", "victim-inbox@elsewhere.test", invite=True)
            una = self.env["res.partner"].search(
                [("email", "=", "victim-inbox@elsewhere.test")]
            )
            for _attempt in range(5):
                try:
                    delegation._invite(key, una.with_user(self.kim_user))
                except UserError:
                    break
        self.assertLessEqual(
            len(recipients(smtp)), 2, "one colleague re-invited without limit"
        )

    # (a)/(b) a username equal to another company's contact's Reference takes its
    # login by Reference
    def test_a_username_cannot_take_another_companys_reference_login(self):
        bob = self.make_active_contact(
            "Bob-Own-Pass-42!",
            name="Bob Other",
            username=False,
            website_enabled=False,
            parent_id=self.other_company.id,
            email="bob@other.test",
            ref="C-7788",
        )
        self.assertEqual(self.login_of("C-7788"), bob.website_user_id.id)
        delegation, key = self.as_kim()
        with smtp_server(self.env):
            try:
                delegation._add(key, "Ref Thief", "thief@retailer.test", "C-7788")
            except UserError:
                return  # refused: fine
        self.assertEqual(
            self.login_of("C-7788"),
            bob.website_user_id.id,
            "the key user's new colleague took another company's Reference login",
        )

    # (a)/(b) a colleague's own address change, then the key user's re-invite, takes
    # another company's contact's login by email
    def test_a_re_invite_cannot_take_another_companys_email_login(self):
        vic = self.make_active_contact(
            "Vic-Own-Pass-42!",
            name="Vic Victim",
            username="vicky",
            parent_id=self.other_company.id,
            email="vic@other.test",
        )
        self.env["partner.login.access"]._delivered(vic, by_run=False)
        self.assertEqual(self.login_of("vic@other.test"), vic.website_user_id.id)
        delegation, key = self.as_kim()
        with smtp_server(self.env):
            delegation._invite(key, self.cole.with_user(self.kim_user))
            cole_user = self.cole.website_user_id
            # /my/account: the colleague writes its own contact, in sudo
            self.cole.with_user(cole_user).sudo().write({"email": "vic@other.test"})
            try:
                delegation._invite(key, self.cole.with_user(self.kim_user))
            except UserError:
                return  # refused: fine
        self.assertEqual(
            self.login_of("vic@other.test"),
            vic.website_user_id.id,
            "another company's contact lost its email login to a key user's colleague",
        )

    # (b) adding a colleague with the address of another company's portal user whose
    # login is a username and whose login mail did not come from this addon
    def test_adding_cannot_take_an_email_login_without_login_email(self):
        vera = self.make_active_contact(
            "Vera-Own-Pass-42!",
            name="Vera Victim",
            username="vera",
            parent_id=self.other_company.id,
            email="vera@other.test",
        )
        vera.sudo().website_login_email = False  # e.g. Odoo's portal wizard invited her
        self.assertEqual(self.login_of("vera@other.test"), vera.website_user_id.id)
        delegation, key = self.as_kim()
        with smtp_server(self.env):
            try:
                delegation._add(key, "Vera Twin", "vera@other.test")
            except UserError:
                return
        self.assertEqual(
            self.login_of("vera@other.test"),
            vera.website_user_id.id,
            "the key user's new colleague took another company's email login",
        )

    # (a) a parent record without "Is a Company" is the commercial entity itself
    def test_the_company_record_is_never_manageable(self):
        loose = self.env["res.partner"].create(
            {"name": "Loose Parent", "email": "office@loose.test"}
        )
        kay = self.make_active_contact(
            "Kay-Own-Pass-42!",
            name="Kay Key",
            username="kay",
            parent_id=loose.id,
            email="kay@loose.test",
        )
        kay.with_user(self.manager).website_admin = True
        delegation = self.env["partner.login.delegation"].with_user(kay.website_user_id)
        key = delegation._key_user()
        self.assertNotIn(loose, delegation._colleagues(key)[0])
        with self.assertRaises(AccessError):
            delegation._manageable(key, [loose.id])

    # (c) two requests at once both pass the daily limit (REPEATABLE READ: the lock
    # is taken after the request's snapshot)
    @mute_logger("odoo.sql_db")  # the second request's failure to serialize
    def test_two_requests_at_once_keep_the_daily_limit(self):
        tag = uuid.uuid4().hex[:8]
        registry = self.registry
        created = {}
        with registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {})
            company = env["res.partner"].create(
                {"name": f"Race {tag}", "is_company": True}
            )
            key = env["res.partner"].create(
                {
                    "name": f"Racer {tag}",
                    "parent_id": company.id,
                    "email": f"racer.{tag}@race.test",
                    "username": f"racer{tag}",
                    "website_enabled": True,
                    "allow_login": True,
                }
            )
            env["partner.login.credential"]._issue(key)
            key.website_admin = True
            env["ir.config_parameter"].set_param(
                parameter_key("key_user_daily_limit"), "1"
            )
            created.update(company=company.id, key=key.id, user=key.website_user_id.id)
        try:
            cr1, cr2 = registry.cursor(), registry.cursor()
            try:
                env1 = api.Environment(cr1, created["user"], {})
                env2 = api.Environment(cr2, created["user"], {})
                # each request reads first (its session, its user): its snapshot
                d1 = env1["partner.login.delegation"]
                d2 = env2["partner.login.delegation"]
                k1, k2 = d1._key_user(), d2._key_user()
                d1._add(k1, "First", f"first.{tag}@race.test", invite=False)
                cr1.commit()
                refused = False
                try:
                    d2._add(k2, "Second", f"second.{tag}@race.test", invite=False)
                    cr2.commit()
                except UserError:
                    refused = True
                    cr2.rollback()
                except SerializationFailure:  # Odoo runs the request again: fine
                    refused = True
                    cr2.rollback()
                # control: a request that starts after the first one is refused
                with registry.cursor() as cr3:
                    d3 = api.Environment(cr3, created["user"], {})[
                        "partner.login.delegation"
                    ]
                    with self.assertRaises(UserError):
                        d3._add(d3._key_user(), "Third", f"third.{tag}@race.test")
            finally:
                cr1.close()
                cr2.close()
        finally:
            with registry.cursor() as cr:
                env = api.Environment(cr, api.SUPERUSER_ID, {})
                partners = env["res.partner"].with_context(active_test=False)
                added = partners.search(
                    [("commercial_partner_id", "=", created["company"])]
                )
                env["partner.invite.run"].search(
                    [("key_user_id", "=", created["key"])]
                ).unlink()
                added.website_user_id.unlink()
                added.filtered(lambda p: p.id != created["company"]).unlink()
                partners.browse(created["company"]).unlink()
                env["ir.config_parameter"].set_param(
                    parameter_key("key_user_daily_limit"), "20"
                )
        self.assertTrue(refused, "two requests at once added 2 with a limit of 1")

    # a manager's revocation through Odoo's own portal wizard, then the key user's
    # invite: refused; a manager's grant in the same wizard hands it back
    def test_a_revoke_in_odoos_portal_wizard_stands_against_the_key_user(self):
        delegation, key = self.as_kim()
        with smtp_server(self.env):
            delegation._invite(key, self.cole.with_user(self.kim_user))

        def wizard_line():
            wizard = (
                self.env["portal.wizard"]
                .with_user(self.manager)
                .with_context(active_ids=self.cole.ids, active_model="res.partner")
                .create({})
            )
            return wizard.user_ids

        wizard_line().action_revoke_access()
        self.assertFalse(self.cole.allow_login)
        with (
            smtp_server(self.env) as smtp,
            self.assertRaisesRegex(UserError, "We removed this login"),
        ):
            delegation._invite(key, self.cole.with_user(self.kim_user))
        self.assertEqual(smtp.messages, [])
        self.assertFalse(self.cole.allow_login)
        self.assertFalse(self.cole.website_user_id.active)
        with smtp_server(self.env):
            wizard_line().action_grant_access()
        self.assertTrue(self.cole.allow_login)
        self.assertFalse(self.cole.website_access_ended_by_manager)
