# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import http
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.http import request

from odoo.addons.portal.controllers.portal import CustomerPortal, get_error
from odoo.addons.portal.controllers.portal import pager as portal_pager

from ..models.partner_login_delegation import COLLEAGUES_PER_PAGE

# session key: the outcome of a key user's act, shown once on the list
COLLEAGUES_MESSAGE = "partner_website_login_colleagues_message"


class WebsiteLoginPortal(CustomerPortal):
    @http.route()
    def security(self, **post):
        """While the contact logs in with a temporary password, /my/security is only
        the change to a password of its own (portal_choose_password); once it is
        set, the contact goes on to the page it was sent from (``redirect``, a
        path of this site), or to its portal."""
        credentials = request.env["partner.login.credential"]
        redirect = post.pop("redirect", None) or ""
        if not redirect.startswith("/") or redirect.startswith(("//", "/\\")):
            redirect = ""
        if not credentials._must_change_password(request.env.user):
            return super().security(**post)
        values = {
            **self._prepare_portal_layout_values(),
            "get_error": get_error,
            "errors": {},
            "redirect": redirect,
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
                return request.redirect(redirect or "/my")
        return request.render(
            "partner_website_login.portal_choose_password",
            values,
            headers={
                "X-Frame-Options": "SAMEORIGIN",
                "Content-Security-Policy": "frame-ancestors 'self'",
            },
        )

    # ------------------------------------------------------------------ colleagues
    # A customer's Website Administrator manages its colleagues' logins; every
    # check is partner.login.delegation's, the routes only read the form and show.

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "colleague_count" in counters:
            delegation = request.env["partner.login.delegation"]
            try:
                key_user = delegation._key_user()
            except AccessError:
                values["colleague_count"] = 0
            else:
                values["colleague_count"] = delegation._colleagues(key_user)[1]
        return values

    def _colleagues_redirect(self, message, kind="success"):
        """Back to the list, the outcome shown once."""
        request.session[COLLEAGUES_MESSAGE] = {"text": message, "kind": kind}
        return request.redirect("/my/colleagues")

    @http.route(
        ["/my/colleagues", "/my/colleagues/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
        methods=["GET"],
    )
    def my_colleagues(self, page=1, search="", **kw):
        delegation = request.env["partner.login.delegation"]
        key_user = delegation._key_user()
        colleagues, count = delegation._colleagues(key_user, search, page)
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "colleagues",
                "key_user": key_user,
                "colleagues": colleagues,
                "pager": portal_pager(
                    url="/my/colleagues",
                    url_args={"search": search} if search else None,
                    total=count,
                    page=page,
                    step=COLLEAGUES_PER_PAGE,
                ),
                "search": search,
                "searchbar_inputs": {
                    "all": {"input": "all", "label": request.env._("Search in all")}
                },
                "search_in": "all",
                "default_url": "/my/colleagues",
                "message": request.session.pop(COLLEAGUES_MESSAGE, None),
                "access_labels": dict(
                    request.env["res.partner"]
                    ._fields["website_access_state"]
                    ._description_selection(request.env)
                ),
            }
        )
        return request.render("partner_website_login.portal_my_colleagues", values)

    @http.route(
        "/my/colleagues/new",
        type="http",
        auth="user",
        website=True,
        methods=["GET", "POST"],
    )
    def my_colleague_new(self, **post):
        delegation = request.env["partner.login.delegation"]
        key_user = delegation._key_user()
        values = self._prepare_portal_layout_values()
        values.update(page_name="colleague_new", key_user=key_user, post=post)
        if request.httprequest.method == "POST":
            try:
                with request.env.cr.savepoint():
                    _colleague, message = delegation._add(
                        key_user,
                        post.get("name"),
                        post.get("email"),
                        post.get("username"),
                        invite=bool(post.get("invite")),
                    )
            except (UserError, ValidationError) as error:
                values["error"] = error.args[0]
            else:
                return self._colleagues_redirect(message)
        return request.render("partner_website_login.portal_colleague_new", values)

    @http.route(
        "/my/colleagues/<int:partner_id>/<string:act>",
        type="http",
        auth="user",
        website=True,
        methods=["POST"],
    )
    def my_colleague_act(self, partner_id, act, **post):
        """Invite (again, or with Allow Login back on) or revoke one colleague."""
        delegation = request.env["partner.login.delegation"]
        key_user = delegation._key_user()
        partner = request.env["res.partner"].browse(partner_id)
        acts = {"invite": delegation._invite, "revoke": delegation._revoke}
        if act not in acts:
            raise request.not_found()
        try:
            with request.env.cr.savepoint():
                message = acts[act](key_user, partner)
        except AccessError:
            raise  # not a colleague of the key user's: Forbidden, nothing said
        except (UserError, ValidationError) as error:
            return self._colleagues_redirect(error.args[0], "danger")
        return self._colleagues_redirect(message)
