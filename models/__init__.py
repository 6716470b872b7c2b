from . import (
    ir_http,
    mail_render_mixin,
    mail_template,
    partner_invite_run,
    partner_invite_run_line,
    partner_login_credential,
    partner_login_mailer,
    res_config_settings,
    res_partner,
    res_users,
    res_users_login_lockout,
    website_login_settings,
)
