# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import http
from odoo.http import request

from odoo.addons.portal.controllers.portal import CustomerPortal, get_error


class WebsiteLoginPortal(CustomerPortal):
    @http.route()
    def security(self, **post):
        """While the contact logs in with a temporary password, /my/security is only
        the change to a password of its own (portal_choose_password); once it is
        set, the contact goes on to its portal."""
        credentials = request.env["partner.login.credential"]
        if not credentials._must_change_password(request.env.user):
            return super().security(**post)
        values = {
            **self._prepare_portal_layout_values(),
            "get_error": get_error,
            "errors": {},
        }
        if request.httprequest.method == "POST":
            values.update(
                self._update_password(
                    (post.get("old") or "").strip(),
                    (post.get("new1") or "").strip(),
                    (post.get("new2") or "").strip(),
                )
            )
            if values.get("success"):
                return request.redirect("/my")
        return request.render(
            "partner_website_login.portal_choose_password",
            values,
            headers={
                "X-Frame-Options": "SAMEORIGIN",
                "Content-Security-Policy": "frame-ancestors 'self'",
            },
        )
