from . import (
    ir_http,
    mail_render_mixin,
    mail_template,
    partner_login_mailer,
    res_config_settings,
    res_partner,
    res_users,
    res_users_login_lockout,
    res_users_temporary_password,
    website_invite_run,
    website_invite_run_line,
    website_login_settings,
)
