#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Uninstall the addon from a database and check what it leaves behind.

Called by scripts/test.sh on its throwaway database, after the tests:
users still log in the Odoo way, contacts the addon kept out stay out, and no
hashed credential, run record, scheduled job, setting or column of the addon is
left. Exit code 0 only if every check holds.

Usage: scripts/check_uninstall.py DATABASE ADDONS_PATH
"""

import importlib
import sys
from urllib.parse import parse_qs, urlsplit

from odoo_process import logs_in

try:
    import odoo
    from odoo import SUPERUSER_ID, api
    from odoo.modules.registry import Registry
    from odoo.tools import config
except ImportError:
    sys.exit("ERROR: this Python cannot import Odoo: run it with Odoo's Python.")

ADDON = "partner_website_login"
OWN_PASSWORD = "Own-Password-4321"


def main(db, addons_path):
    config.parse_config(
        ["--log-level=warn", f"--addons-path={addons_path}", "--no-http"]
    )
    odoo.modules.module.initialize_sys_path()
    compat = importlib.import_module("odoo.addons.partner_website_login.compat")
    compat.set_config_db(db)

    with Registry(db).cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        env["ir.config_parameter"].set_param(f"{ADDON}.credential_mode", "link")
        company = env["res.partner"].create(
            {"name": "Uninstall Ltd", "is_company": True, "email": "u@uninstall.test"}
        )

        def contact(name, **values):
            return env["res.partner"].create(
                {
                    "name": name,
                    "parent_id": company.id,
                    "email": f"{name.lower()}@uninstall.test",
                    "username": f"{name.lower()}.uninstall",
                    "website_enabled": True,
                    **values,
                }
            )

        active, invited = contact("Active"), contact("Invited")
        blocked = contact("Blocked")
        credentials = env["partner.login.credential"]
        credentials._issue(active | invited | blocked, "password")
        for partner in active | blocked:
            partner.website_user_id.password = OWN_PASSWORD
        blocked.allow_login = False
        link_contact = contact("Linked")
        link = credentials._issue(link_contact, "link")[0][link_contact.id]
        token = parse_qs(urlsplit(link).query)["token"][0]
        assert env["res.partner"]._get_partner_from_token(token), "link works before"
        env["partner.invite.run"].action_start()
        logins = {
            "active": active.website_user_id.login,
            "blocked": blocked.website_user_id.login,
        }
        user_ids = {
            "invited": invited.website_user_id.id,
            "blocked": blocked.website_user_id.id,
        }
        link_partner_id = link_contact.id
        module = env["ir.module.module"].search([("name", "=", ADDON)])
        module.button_immediate_uninstall()

    failures = []

    def check(condition, what):
        print(f"  {'ok  ' if condition else 'FAIL'} {what}")
        if not condition:
            failures.append(what)

    registry = Registry(db)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        module = env["ir.module.module"].search([("name", "=", ADDON)])
        check(module.state == "uninstalled", "the module is uninstalled")

        def login(name, password):
            return logs_in(db, name, password, interactive=False)

        check(login("admin", "admin"), "the administrator logs in")
        check(
            login(logins["active"], OWN_PASSWORD),
            "a portal user logs in with their own password, the Odoo way",
        )
        check(
            not login(logins["blocked"], OWN_PASSWORD),
            "a contact with Allow Login off stays unable to log in",
        )
        check(
            not env["res.users"].browse(user_ids["blocked"]).active,
            "... because its portal user is archived",
        )
        check(
            env["res.users"].browse(user_ids["invited"]).active,
            "an invited contact keeps its portal user (Odoo's Reset Password works)",
        )
        check(
            not env["res.partner"]._get_partner_from_token(token),
            "a set-password link of the addon no longer works",
        )
        check(
            not env["res.partner"].browse(link_partner_id).signup_type,
            "... its signup type is cleared",
        )
        cr.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_name IN ('partner_login_credential', 'partner_invite_run',"
            " 'partner_invite_run_line', 'random_password_mail', 'partner_login_pace',"
            " 'res_users_login_lockout')"
        )
        check(not cr.fetchall(), "no table of the addon is left (hashes, runs)")
        cr.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE (table_name = 'res_partner' AND column_name IN ('username', "
            "'allow_login', 'website_enabled', 'website_access_state', "
            "'website_password_expires', 'website_email_valid', 'website_email_held', "
            "'website_login_email', 'website_invite_count', "
            "'website_access_ended_by_manager')) "
            "OR (table_name = 'ir_mail_server' AND column_name IN "
            "('send_rate_per_minute', 'send_quota_per_day')) "
            "OR (table_name = 'res_users' AND column_name = 'website_session_version') "
            "OR (table_name = 'mail_template' "
            "AND column_name = 'website_login_template')"
        )
        check(not cr.fetchall(), "no column of the addon is left")
        cr.execute(
            "SELECT indexname FROM pg_indexes WHERE indexname IN "
            "('res_partner_email_normalized_btree', 'res_partner_username_lower_uniq', "
            "'res_partner_ref_login_btree', 'res_users_internal_partner_idx')"
        )
        check(not cr.fetchall(), "no index of the addon is left")
        cr.execute(
            "SELECT count(*) FROM ir_cron c JOIN ir_act_server a "
            "ON a.id = c.ir_actions_server_id WHERE a.code LIKE %s OR a.code LIKE %s",
            ["%_cron_send_bulk_website_invite%", "%_cron_process_batch%"],
        )
        check(not cr.fetchone()[0], "no scheduled job of the addon is left")
        cr.execute(
            "SELECT count(*) FROM ir_config_parameter WHERE key LIKE %s",
            [f"{ADDON}.%"],
        )
        check(not cr.fetchone()[0], "no setting of the addon is left")
        cr.execute("SELECT count(*) FROM ir_model_data WHERE module = %s", [ADDON])
        check(not cr.fetchone()[0], "no record of the addon is left")

    if failures:
        print(f"uninstall: {len(failures)} checks failed")
        return 1
    print("uninstall: every check passed")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
