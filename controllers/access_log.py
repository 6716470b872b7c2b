# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The HTTP server's access log without the tokens of login links.

Odoo's HTTP server writes each request line to the ``werkzeug`` logger (werkzeug's
request handler, which odoo/service/server.py extends on both series), query
string included. A set-password or sign-up link's token works from such a line as
well as from the mail, so the line is logged with the token's value masked."""

import logging
import re

ACCESS_LOGGER = "werkzeug"
# The routes whose ``token`` parameter logs somebody in: Odoo's reset-password and
# sign-up links (the addon's set-password link is a reset-password link), with or
# without a website's language prefix.
TOKEN_ROUTE = re.compile(r"/web/(?:reset_password|signup)/?$")
TOKEN_VALUE = re.compile(r"(?<=[?&;]token=)[^&;#\s\"]+", re.IGNORECASE)
REQUEST_PATH = re.compile(r"/[^\s\"]*")
MASK = "***"


def without_tokens(text):
    """``text`` (a request line, or a log message holding one) with the value of
    each token of a login route masked."""

    def masked_path(match):
        path = match.group(0)
        if not TOKEN_ROUTE.search(path.split("?", 1)[0]):
            return path
        return TOKEN_VALUE.sub(MASK, path)

    return REQUEST_PATH.sub(masked_path, text)


class TokenMaskingFilter(logging.Filter):
    """Masks the tokens of login links in the records of the access logger (the
    request line is one of the record's arguments, formatted only by handlers)."""

    def filter(self, record):
        if isinstance(record.msg, str) and "token" in record.msg.lower():
            record.msg = without_tokens(record.msg)
        if isinstance(record.args, tuple) and any(
            isinstance(arg, str) and "token" in arg.lower() for arg in record.args
        ):
            record.args = tuple(
                without_tokens(arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        return True


def install_token_masking():
    """Adds the filter to the access logger once per process (the addon's code is
    imported by every worker that loads a database with it)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(known, TokenMaskingFilter) for known in logger.filters):
        logger.addFilter(TokenMaskingFilter())


install_token_masking()
