# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import werkzeug.exceptions

from odoo import models
from odoo.http import request

SECURITY_PAGE = "/my/security"
# What a user logged in with a temporary password may still open.
ALLOWED_PATHS = (SECURITY_PAGE, "/web/session/logout", "/web/login")


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    @classmethod
    def _pre_dispatch(cls, rule, args):
        result = super()._pre_dispatch(rule, args)
        # OWASP ASVS 2.3.1: an initial secret must not become the long-term password.
        if (
            rule.endpoint.routing.get("auth") == "user"
            and request.session.uid
            and not request.httprequest.path.startswith(ALLOWED_PATHS)
            and request.env["partner.login.credential"]._must_change_password(
                request.env.user
            )
        ):
            if request.dispatcher.routing_type != "http":
                # JSON calls (write one's email, make an API key that would outlive
                # the temporary password) wait for a password of one's own too
                raise werkzeug.exceptions.Forbidden()
            werkzeug.exceptions.abort(
                request.redirect(f"{SECURITY_PAGE}?website_password_change=1", 303)
            )
        return result
