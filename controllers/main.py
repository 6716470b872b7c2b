# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import http
from odoo.http import request

from odoo.addons.auth_signup.controllers.main import AuthSignupHome
from odoo.addons.web.controllers.home import Home


class WebsiteLoginHome(Home):
    @http.route()
    def web_login(self, redirect=None, **kw):
        """Every refused login reads the same: a wrong password, an account locked
        by the addon and Odoo's pause for an address look alike to a guesser, and
        the contact is told the truth (it may be the attempts, not the password)."""
        response = super().web_login(redirect=redirect, **kw)
        qcontext = getattr(response, "qcontext", None)
        if (
            request.httprequest.method == "POST"
            and qcontext
            and qcontext.get("error")
            and not request.session.uid
        ):
            qcontext["error"] = request.env._(
                "Wrong login or password, or too many attempts: try again later."
            )
        return response


class WebsiteLoginSignup(AuthSignupHome):
    def get_auth_signup_qcontext(self):
        """A set-password link used already, or lapsed, says so and what to do,
        instead of Odoo's "Invalid signup token"."""
        qcontext = super().get_auth_signup_qcontext()
        if qcontext.get("invalid_token"):
            qcontext["error"] = request.env._(
                "This link was used already or has expired. Log in with your "
                "password, or ask us for a new link."
            )
        return qcontext
