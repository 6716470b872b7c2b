# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).


def post_init_hook(env):
    """Portal users that exist before the addon keep logging in: their contacts get
    Allow Login, and "Active" when they have a password of their own."""
    env.cr.execute(
        """UPDATE res_partner p
              SET allow_login = TRUE,
                  website_access_state = CASE WHEN u.password IS NOT NULL
                                              THEN 'active' ELSE 'none' END
             FROM res_users u
            WHERE u.partner_id = p.id AND u.share AND u.active"""
    )
    env["res.partner"].invalidate_model(["allow_login", "website_access_state"])
