# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Who may do what, asked over XML-RPC of the running test server."""

import xmlrpc.client

from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import WebsiteLoginCase

ALLOWED = "allowed"
ACCESS_ERROR = 4  # odoo/addons/base/controllers/rpc.py: RPC_FAULT_CODE_ACCESS_ERROR
ACCESS_DENIED = 3  # RPC_FAULT_CODE_ACCESS_DENIED: no session at all
FIELDS = [
    "website_enabled",
    "username",
    "allow_login",
    "website_access_state",
    "website_password_expires",
    "website_user_id",
]
ROLES = ("public", "portal", "internal", "manager", "admin")
NO = ACCESS_ERROR
# what each role gets, in the order of ROLES
MATRIX = {
    "read the website fields": (ACCESS_DENIED, NO, ALLOWED, ALLOWED, ALLOWED),
    "write a username": (ACCESS_DENIED, NO, NO, ALLOWED, ALLOWED),
    "turn Allow Login off": (ACCESS_DENIED, NO, NO, ALLOWED, ALLOWED),
    "set the access state": (ACCESS_DENIED, NO, NO, NO, NO),
    "Random Password Mail": (ACCESS_DENIED, NO, NO, ALLOWED, ALLOWED),
    "Revoke Website Access": (ACCESS_DENIED, NO, NO, ALLOWED, ALLOWED),
    "read hashed credentials": (ACCESS_DENIED, NO, NO, NO, NO),
    "read run records": (ACCESS_DENIED, NO, NO, ALLOWED, ALLOWED),
    "start the bulk invite": (ACCESS_DENIED, NO, NO, ALLOWED, ALLOWED),
    "open Settings": (ACCESS_DENIED, NO, NO, NO, ALLOWED),
    "call the scheduled method": (ACCESS_DENIED, NO, NO, NO, NO),
}


# the logger of 19.0's "deprecated ... removal in Odoo 20" warning (none on 18.0)
XMLRPC_DEPRECATION = "odoo.addons.rpc.controllers.xmlrpc"


@tagged("post_install", "-at_install")
class TestRpcAccess(WebsiteLoginCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_website_login()
        cls.target = cls.make_contact()
        cls.issue(cls.target)
        portal_contact = cls.make_contact(name="Paul Portal", username="paul")
        cls.portal = new_test_user(
            cls.env,
            login="pwl_portal",
            groups="base.group_portal",
            partner_id=portal_contact.id,
        )
        cls.admin = new_test_user(
            cls.env, login="pwl_admin", groups="base.group_system", email="a@x.test"
        )
        cls.env["partner.invite.run"].sudo().create({"state": "done"})

    def calls(self, role):
        """{name: (model, method, args, kwargs)}, in the order of MATRIX."""
        target = [self.target.id]
        return {
            "read the website fields": ("res.partner", "read", [target, FIELDS], {}),
            "write a username": (
                "res.partner",
                "write",
                [target, {"username": f"jane.{role}"}],
                {},
            ),
            "turn Allow Login off": (
                "res.partner",
                "write",
                [target, {"allow_login": False}],
                {},
            ),
            "set the access state": (
                "res.partner",
                "write",
                [target, {"website_access_state": "active"}],
                {},
            ),
            "Random Password Mail": (
                "res.partner",
                "action_random_password_mail",
                [target],
                {},
            ),
            "Revoke Website Access": (
                "res.partner",
                "action_revoke_website_access",
                [target],
                {},
            ),
            "read hashed credentials": (
                "partner.login.credential",
                "search_read",
                [[]],
                {"fields": ["secret_hash"]},
            ),
            "read run records": (
                "partner.invite.run",
                "search_read",
                [[]],
                {"fields": ["invited_count"]},
            ),
            "start the bulk invite": ("partner.invite.run", "action_start", [[]], {}),
            "open Settings": (
                "res.config.settings",
                "create",
                [{}],
                {},
            ),
            "call the scheduled method": (
                "res.partner",
                "_cron_send_bulk_website_invite",
                [],
                {},
            ),
        }

    def credentials(self, role):
        if role == "public":
            return self.env.ref("base.public_user").id, ""
        user = {
            "portal": self.portal,
            "internal": self.clerk,
            "manager": self.manager,
            "admin": self.admin,
        }[role]
        return user.id, user.login  # new_test_user: the password is the login

    def outcome(self, role, model, method, args, kwargs):
        uid, password = self.credentials(role)
        try:
            self.xmlrpc_object.execute_kw(
                self.env.cr.dbname, uid, password, model, method, args, kwargs
            )
        except xmlrpc.client.Fault as fault:
            return fault.faultCode if isinstance(fault.faultCode, int) else fault
        return ALLOWED

    # each refusal is logged as a warning; 19.0 warns at each XML-RPC call that
    # the endpoint goes in 20.0 (see readme/DEVELOP.md on 20.0)
    @mute_logger("odoo.http", XMLRPC_DEPRECATION)
    def test_access_matrix_over_xmlrpc(self):
        self.assertEqual(list(self.calls("x")), list(MATRIX))
        for role_index, role in enumerate(ROLES):
            for name, (model, method, args, kwargs) in self.calls(role).items():
                expected = MATRIX[name][role_index]
                with self.subTest(role=role, call=name):
                    self.assertEqual(
                        self.outcome(role, model, method, args, kwargs), expected
                    )

    @mute_logger(XMLRPC_DEPRECATION)
    def test_settings_start_the_run_for_administrators(self):
        self.make_contact(name="Fresh Buyer", username="fresh")  # someone to invite
        uid, password = self.credentials("admin")
        settings_id = self.xmlrpc_object.execute_kw(
            self.env.cr.dbname, uid, password, "res.config.settings", "create", [{}]
        )
        action = self.xmlrpc_object.execute_kw(
            self.env.cr.dbname,
            uid,
            password,
            "res.config.settings",
            "action_send_bulk_website_invite",
            [[settings_id]],
        )
        self.assertEqual(action["tag"], "display_notification")
        self.assertTrue(
            self.env["partner.invite.run"].search([("state", "=", "running")])
        )
