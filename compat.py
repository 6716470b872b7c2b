# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What Odoo 18.0 and 19.0 spell differently, in one place: the addon's models,
its tests and its scripts run unchanged on both series through these names.

Only what cannot be written the same way for both belongs here; each entry says
what each series does. The data files' differences (``groups_id``, the group's
privilege, the manifest's version) are rewritten by scripts/make_series.py instead.
A new series: add its branch to the entries below (see readme/CONTEXT.md).
"""

import contextlib

from odoo import models, modules, release
from odoo.tools import config

from odoo.addons.base.models import ir_qweb, res_users

ODOO_MAJOR = release.version_info[0]

if ODOO_MAJOR >= 19:
    from odoo.fields import Domain
else:  # odoo.osv is deprecated on 19.0: imported on 18.0 only
    from odoo.osv import expression

# -- ORM ---------------------------------------------------------------------------

# The explicit groups of a user, and of an action: 18.0 groups_id, 19.0 group_ids
# (all_group_ids there holds the implied ones too).
GROUPS_FIELD = "group_ids" if ODOO_MAJOR >= 19 else "groups_id"

# 18.0 reads a model's ``_sql_constraints``; 19.0 ignores them (with a warning) and
# reads ``models.Constraint`` attributes instead. A model's class body branches on
# it (the constraint's name in PostgreSQL stays the same).
MODEL_CONSTRAINTS = hasattr(models, "Constraint")

# How each series' ORM writes ``share = False`` on res.users in SQL: a partial index
# serves a query only when its condition is written the way the query writes it.
# 18.0 "(share IS NULL OR share = FALSE)"; 19.0 "share IS NOT TRUE".
USER_NOT_SHARED_SQL = (
    "share IS NOT TRUE" if ODOO_MAJOR >= 19 else "(share IS NULL OR share = FALSE)"
)


def domain_and(domains):
    """The conjunction of ``domains`` as a list: 18.0 ``expression.AND``, 19.0
    ``Domain.AND`` (``odoo.osv`` is deprecated there, one WARNING per import)."""
    if ODOO_MAJOR >= 19:
        return list(Domain.AND(domains))
    return expression.AND(domains)


def domain_or(domains):
    """The disjunction of ``domains`` as a list (as domain_and)."""
    if ODOO_MAJOR >= 19:
        return list(Domain.OR(domains))
    return expression.OR(domains)


def login_domain(domain):
    """What ``res.users._get_login_domain`` returns: 18.0 a list; 19.0 a Domain,
    which the website addon's override combines with ``&``."""
    if ODOO_MAJOR >= 19:
        return Domain(domain)
    return domain


# -- login hooks -------------------------------------------------------------------

# 18.0: ``res.users._login(cls, db, credential, user_agent_env)`` is a class method
# that opens its own cursor, and RPC calls check passwords in the class method
# ``check(cls, db, uid, passwd)``. 19.0: ``_login(self, credential,
# user_agent_env)`` runs in the caller's environment and cursor, and RPC calls check
# passwords in ``_check_uid_passwd(self, uid, passwd)``. res_users.py overrides the
# pair its series has.
LOGIN_IS_CLASS_METHOD = ODOO_MAJOR < 19


def authenticate(env, credential, user_agent_env):
    """``res.users.authenticate`` as Odoo's login calls it: 18.0 on the registry with
    the database name (in a cursor of its own), 19.0 on ``env`` (in its cursor)."""
    if ODOO_MAJOR >= 19:
        return env["res.users"].authenticate(credential, user_agent_env)
    return env.registry["res.users"].authenticate(
        env.cr.dbname, credential, user_agent_env
    )


def users_class():
    """The class Odoo's tests patch for res.users (its crypt context): 18.0
    ``Users``, 19.0 ``ResUsersPatchedInTest`` (class ``ResUsers``)."""
    return getattr(res_users, "ResUsersPatchedInTest", None) or res_users.Users


# -- mail --------------------------------------------------------------------------


def smtp_connect(mail_server_model, **kwargs):
    """An SMTP session: 18.0 ``ir.mail_server.connect``, 19.0 ``_connect__`` (same
    parameters; mail.mail calls that one)."""
    if ODOO_MAJOR >= 19:
        return mail_server_model._connect__(**kwargs)
    return mail_server_model.connect(**kwargs)


def build_email(mail_server_model, **kwargs):
    """An email.message: 18.0 ``ir.mail_server.build_email``, 19.0 ``_build_email__``
    (same parameters)."""
    if ODOO_MAJOR >= 19:
        return mail_server_model._build_email__(**kwargs)
    return mail_server_model.build_email(**kwargs)


def shared_mail_servers_domain(mail_server_model):
    """The outgoing servers Odoo may pick for a mail it routes itself: 19.0 leaves out
    the users' personal servers (``owner_user_id``, the domain its mail module adds
    in ``_find_mail_server_allowed_domain``); 18.0 has none, so every server."""
    if ODOO_MAJOR >= 19:
        return list(mail_server_model._find_mail_server_allowed_domain())
    return []


# -- QWeb --------------------------------------------------------------------------

# The error QWeb raises while rendering: 18.0 QWebException, 19.0 QWebError.
QWebError = getattr(ir_qweb, "QWebError", None) or ir_qweb.QWebException

# The ir.qweb method that compiles a template given as an etree element, each time
# it is rendered: 18.0 ``_compile`` returns (functions, name); 19.0
# ``_generate_code_uncached`` returns (functions, name, options). See ir_qweb.py.
QWEB_COMPILES_ELEMENT = "_generate_code_uncached" if ODOO_MAJOR >= 19 else "_compile"

# -- scheduled actions -------------------------------------------------------------


def cron_progress(env, done, remaining, auto_commit):
    """Tell the running scheduled action how far a step got (it calls again while
    ``remaining``). 18.0: ``ir.cron._notify_progress``, which writes the progress.
    19.0: ``_commit_progress``, which also commits (outside a cron too), so only
    under ``auto_commit`` (never in a test's transaction); ``_notify_progress`` is
    deprecated there (a WARNING per call)."""
    if ODOO_MAJOR >= 19:
        if auto_commit:
            env["ir.cron"]._commit_progress(done, remaining=remaining)
        return
    env["ir.cron"]._notify_progress(done=done, remaining=remaining)


# -- tests and scripts -------------------------------------------------------------


def registry_in_test_mode(registry):
    """Whether new cursors of ``registry`` wrap the running test's cursor (an
    HttpCase): 18.0 ``Registry.in_test_mode()``; 19.0 has none, the test class
    says so (``_registry_patched``)."""
    if hasattr(registry, "in_test_mode"):
        return registry.in_test_mode()
    test = modules.module.current_test
    return bool(getattr(type(test), "_registry_patched", False))


def config_list(key):
    """A list option of Odoo's configuration (``db_name``, ``addons_path``): a
    comma-separated string on 18.0, a list on 19.0."""
    value = config[key]
    if isinstance(value, list | tuple):
        return list(value)
    return [item for item in (value or "").split(",") if item]


def set_config_db(db):
    """Set the configured database: a string on 18.0, a list on 19.0."""
    config["db_name"] = [db] if ODOO_MAJOR >= 19 else db


def test_request_lock(case):
    """The lock an HttpCase's requests take one after the other: held by the test,
    its own ORM work never runs beside a request's (a websocket's, say). 18.0: the
    registry's ``test_lock``; 19.0: ``odoo.tests.common._registry_test_lock``."""
    if ODOO_MAJOR >= 19:
        from odoo.tests import common  # noqa: PLC0415 (tests only: not at import)

        return common._registry_test_lock
    return case.registry.test_lock


def browser_requests(case, browser):
    """Where an HttpCase lets a hand-made ChromeBrowser reach its server: 19.0
    refuses a request without the test cursor's cookie unless inside
    ``allow_requests(browser=...)``; 18.0 lets every request in."""
    if ODOO_MAJOR >= 19:
        return case.allow_requests(browser=browser)
    return contextlib.nullcontext()
