# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Every setting of the addon, in one place: its system parameter and its default.

Settings > Website Login writes them (res_config_settings.py); the code reads them
with ``website_setting(env, name)``, which falls back to the default on a missing
or malformed value, so a typo in a system parameter never breaks a login or a run.
"""

import math

PARAMETER_PREFIX = "partner_website_login."
# The group that may give, mail and take back website logins (security/).
MANAGER_GROUP = "partner_website_login.group_website_login_manager"

DEFAULTS = {
    # how long a mailed password or link works
    "temp_password_hours": 48,
    # what the mails carry: "password" or "link"
    "credential_mode": "password",
    # Random Password Mail on one contact sends without the review window
    "send_without_review": False,
    # bulk invite: contacts invited and mailed together, between two commits
    "invite_batch_size": 100,
    # bulk invite: a step takes no new contacts after this many seconds (Odoo runs
    # up to 10 steps in one cron pass, which must stay far below its 120 s limit)
    "invite_step_seconds": 2.5,
    # bulk invite: invites a contact gets before it is left out as unanswered
    "invite_attempts": 3,
    # a mail the server asks to try again later is tried for this long
    "retry_limit_hours": 24,
    # the pace of Odoo's server from the configuration file (no ir.mail_server):
    # mails a minute and a rolling day, 0 for no limit (partner_login_pace.py)
    "fallback_rate_per_minute": 0,
    "fallback_quota_per_day": 0,
    # bounces after which an address is left out, as Odoo's mass mailing
    # (mass_mailing/models/mail_thread.py, BLACKLIST_MAX_BOUNCED_LIMIT)
    "bounce_limit": 5,
    # a To-Do activity for the salesperson when a contact's invite bounces or its
    # invites end unanswered
    "invite_activities": True,
    # a contact may log in with its Reference (the contact number)
    "login_by_reference": True,
    # per-account lockout: this many failed logins in a row lock it...
    "lockout_failures": 10,
    # ...for this long, doubled at each further failure, up to the maximum...
    "lockout_minutes": 1,
    "lockout_max_minutes": 60,
    # ...and this many lock it until a password reset or a manager's Unlock
    # (NIST SP 800-63B 5.2.2: no more than 100 consecutive failures)
    "lockout_hard_failures": 100,
    # Odoo's per-address cooldown: failed logins from one IP address before every
    # login from there pauses a minute (Odoo's own default of 5 would stop a whole
    # office behind one address before the account's own lockout)
    "ip_cooldown_failures": 50,
    # colleagues a customer's Website Administrator adds wait for a manager's
    # approval before their first invite (partner_login_delegation.py)
    "key_user_approval": False,
    # contacts a Website Administrator may add or invite in 24 hours
    "key_user_daily_limit": 20,
}

# the lowest value each number may take (a 0 would switch the feature off by mistake)
MINIMUMS = {
    "temp_password_hours": 1,
    "invite_batch_size": 1,
    "invite_step_seconds": 0.001,
    "invite_attempts": 1,
    "retry_limit_hours": 0,
    "fallback_rate_per_minute": 0,
    "fallback_quota_per_day": 0,
    "bounce_limit": 1,
    "lockout_failures": 1,
    "lockout_minutes": 1,
    "lockout_max_minutes": 1,
    "lockout_hard_failures": 1,
    "ip_cooldown_failures": 0,
    "key_user_daily_limit": 1,
}
# the highest value each number may take (beyond, dates and timers overflow)
MAXIMUMS = {
    "temp_password_hours": 24 * 365,
    "invite_batch_size": 10_000,
    "invite_step_seconds": 60.0,
    "invite_attempts": 1_000,
    "retry_limit_hours": 24 * 7,
    "lockout_failures": 1_000,
    "lockout_minutes": 24 * 60,
    "lockout_max_minutes": 24 * 60,
    "lockout_hard_failures": 100,
    "key_user_daily_limit": 10_000,
}
CHOICES = {"credential_mode": ("password", "link")}


def decides_logins(env):
    """Whether the user behind ``env``, in sudo or not, may decide who logs in: a
    Website Login manager, or the superuser (the scheduler, an install)."""
    return env.user._is_superuser() or env.user.has_group(MANAGER_GROUP)


def parameter_key(name):
    return PARAMETER_PREFIX + name


def website_setting(env, name):
    """The setting ``name``, typed like its default."""
    default = DEFAULTS[name]
    # sudo: settings are read for every user's login and mail, never shown
    raw = env["ir.config_parameter"].sudo().get_param(parameter_key(name))
    if raw in (None, False, ""):
        return default
    if isinstance(default, bool):
        return str(raw).strip().lower() not in ("0", "false", "no", "off")
    if isinstance(default, int | float):
        try:
            number = float(raw)
        except ValueError:
            return default
        if not math.isfinite(number):  # "inf", "nan": a typo, not a setting
            return default
        value = int(number) if isinstance(default, int) else number
        return min(max(value, MINIMUMS.get(name, value)), MAXIMUMS.get(name, value))
    value = str(raw)
    if name in CHOICES and value not in CHOICES[name]:
        return default
    return value
