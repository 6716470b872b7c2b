# Copyright 2026 partner_website_login contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Partner Website Login",
    "summary": "Portal login by username or email, Random Password Mail, "
    "and a scheduled bulk website invite with temporary passwords",
    "version": "18.0.1.0.0",
    "category": "Website",
    "license": "LGPL-3",
    "author": "partner_website_login contributors",
    "development_status": "Alpha",
    "depends": ["portal", "auth_signup", "auth_password_policy", "contacts"],
    "data": [
        "security/partner_website_login_security.xml",
        "security/ir.model.access.csv",
        "data/mail_template_data.xml",
        "data/ir_cron_data.xml",
        "data/ir_actions_server_data.xml",
        "views/res_partner_views.xml",
        "views/res_config_settings_views.xml",
        "views/partner_invite_run_views.xml",
        "views/partner_invite_analysis_views.xml",
        "views/ir_mail_server_views.xml",
        "views/portal_templates.xml",
        "views/auth_signup_templates.xml",
        "wizards/random_password_mail_views.xml",
    ],
    "demo": ["demo/res_partner_demo.xml"],
    "assets": {
        "web.assets_backend": [
            "partner_website_login/static/src/js/invite_run_views.js",
            "partner_website_login/static/src/scss/notifications.scss",
        ],
        # with Odoo's graph view, which the web client loads when first needed
        "web.assets_backend_lazy": [
            "partner_website_login/static/src/js/invite_funnel_graph.js",
        ],
    },
    "post_init_hook": "post_init_hook",
    "uninstall_hook": "uninstall_hook",
}
