# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A transaction of its own, committed at once: what a login counts towards a
lockout (login_attempt.py) and the slots a sender books from a mail server's pace
(partner_login_pace.py) stay written whatever happens to the transaction of the
request or the step, and every process sees them at once."""

import contextlib

from odoo import SUPERUSER_ID, api, modules
from odoo.http import request

from .. import compat


@contextlib.contextmanager
def own_transaction(registry, env=None):
    """An environment (superuser) in a transaction of its own, committed at once.
    Read committed, so that simultaneous writers of one row wait for each other
    instead of failing and replaying the whole request (which a guesser could time).

    :param env: the caller's environment, when it has one: in a test the work is
        done there, in a savepoint, unless an HTTP request of the test is served
        (then a test cursor, kept whatever the request's transaction does). Without
        a browser a second connection would not see the test's records; and the
        test's own code (its ``authenticate``) may not open test cursors in a
        websocket test.
    """
    if (
        modules.module.current_test
        and env is not None
        and not (compat.registry_in_test_mode(registry) and request)
    ):
        with env.cr.savepoint():
            yield env(user=SUPERUSER_ID, su=True)
        return
    with registry.cursor() as cr:
        if not modules.module.current_test:  # a test's cursor shares one transaction
            cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        yield api.Environment(cr, SUPERUSER_ID, {})
