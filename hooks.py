# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tools import SQL


def post_init_hook(env):
    """Portal users that exist before the addon keep logging in: their contacts get
    Allow Login, their email as login email, and "Active" when they have a password
    of their own (the one write of the access state outside partner_login_access.py:
    one query for every portal user at install)."""
    env.cr.execute(
        """UPDATE res_partner p
              SET allow_login = TRUE,
                  website_login_email = p.email_normalized,
                  website_access_state = CASE WHEN u.password IS NOT NULL
                                              THEN 'active' ELSE 'none' END
             FROM res_users u
            WHERE u.partner_id = p.id AND u.share AND u.active"""
    )
    env["res.partner"].invalidate_model(
        ["allow_login", "website_access_state", "website_login_email"]
    )


def uninstall_hook(env):
    """What the addon enforced must not silently lapse with it: portal users it
    kept out (Allow Login off, contact or company archived) are archived, its
    set-password links stop working, and its settings go."""
    env.cr.execute(
        """UPDATE res_users u
              SET active = FALSE
             FROM res_partner p
             JOIN res_partner c ON c.id = COALESCE(p.commercial_partner_id, p.id)
            WHERE u.partner_id = p.id AND u.share AND u.active
              AND (p.allow_login IS NOT TRUE OR NOT p.active OR NOT c.active)"""
    )
    # auth_signup would accept the addon's link tokens without their stored hash
    env.cr.execute(
        "UPDATE res_partner SET signup_type = NULL WHERE signup_type = 'website_link'"
    )
    env.cr.execute(
        "DELETE FROM ir_config_parameter WHERE key LIKE 'partner\\_website\\_login.%'"
    )
    # the addon's own indexes on columns of Odoo's (the models' init)
    for index in (
        "res_partner_email_normalized_btree",
        "res_partner_ref_login_btree",
        "res_users_internal_partner_idx",
    ):
        env.cr.execute(SQL("DROP INDEX IF EXISTS %s", SQL.identifier(index)))
    env.registry.clear_cache()
