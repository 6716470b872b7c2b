# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import http
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.http import request

from odoo.addons.portal.controllers.portal import CustomerPortal, get_error
from odoo.addons.portal.controllers.portal import pager as portal_pager

from ..models.partner_login_delegation import COLLEAGUES_PER_PAGE

# session key: the outcome of a key user's act, shown once on the list
COLLEAGUES_MESSAGE = "partner_website_login_colleagues_message"
# session key: a password of one's own just chosen, said once on /my
PASSWORD_SET_MESSAGE = "partner_website_login_password_set"


class WebsiteLoginPortal(CustomerPortal):
    @http.route()
    def security(self, **post):
        """While the contact logs in with a temporary password, /my/security is only
        the change to a password of its own (portal_choose_password); once it is
        set, the contact goes on to the page it was sent from (``redirect``, a
        path of this site), or to its portal, told so."""
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
            "password_minimum_length": request.env["res.users"].get_password_policy()[
                "minlength"
            ],
            "redirect": redirect,
        }
        if request.httprequest.method == "POST":
            values.update(
                self._choose_own_password(
                    (post.get("new1") or "").strip(),
                    (post.get("new2") or "").strip(),
                )
            )
            if values.get("success"):
                request.session[PASSWORD_SET_MESSAGE] = True
                return request.redirect(redirect or "/my")
        return request.render(
            "partner_website_login.portal_choose_password",
            values,
            headers={
                "X-Frame-Options": "SAMEORIGIN",
                "Content-Security-Policy": "frame-ancestors 'self'",
            },
        )

    def _choose_own_password(self, new1, new2):
        """Odoo's _update_password without the old password: this session was
        opened with the temporary password moments ago, and only it leads here
        (ir_http.py). Odoo's password policy applies (auth_password_policy)."""
        if not new1 or not new2:
            return {
                "errors": {
                    "password": {
                        "new1" if not new1 else "new2": request.env._(
                            "You cannot leave any password empty."
                        )
                    }
                }
            }
        if new1 != new2:
            return {
                "errors": {
                    "password": {
                        "new2": request.env._(
                            "The new password and its confirmation must be identical."
                        )
                    }
                }
            }
        try:
            # env.user is the user in superuser mode, as Odoo's change_password
            request.env.user._change_password(new1)
        except UserError as error:
            return {"errors": {"password": {"new1": str(error)}}}
        # the new password changes the session token: keep this session open
        request.session.session_token = request.env.user._compute_session_token(
            request.session.sid
        )
        return {"success": {"password": True}}

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

    @http.route()
    def home(self, **kw):
        response = super().home(**kw)
        # the Colleagues card of /my: only a key user's page links to the list (not
        # a counter: /my/counters answers only the page's counters)
        try:
            request.env["partner.login.delegation"]._key_user()
        except AccessError:
            manages_colleagues = False
        else:
            manages_colleagues = True
        response.qcontext["manages_colleagues"] = manages_colleagues
        return response

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
                "row_actions": delegation._row_actions(key_user, colleagues),
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
            # no savepoint of its own: _add undoes its changes on a refusal and
            # keeps the refusal's count, which this request then commits
            try:
                _colleague, message = delegation._add(
                    key_user,
                    post.get("name"),
                    post.get("email"),
                    post.get("username"),
                    invite=bool(post.get("invite")),
                )
            except (UserError, ValidationError) as error:
                values["error"] = error.args[0]
                if suggestion := getattr(error, "suggestion", ""):
                    values["post"] = {**post, "username": suggestion}
            else:
                return self._colleagues_redirect(message)
        return request.render("partner_website_login.portal_colleague_new", values)

    @http.route(
        "/my/colleagues/<int:partner_id>/<string:act>",
        type="http",
        auth="user",
        website=True,
        methods=["GET", "POST"],
    )
    def my_colleague_act(self, partner_id, act, **post):
        """Invite (again, or with Allow Login back on) or revoke one colleague; a
        revoke is asked for (GET) and confirmed (POST)."""
        delegation = request.env["partner.login.delegation"]
        key_user = delegation._key_user()
        partner = request.env["res.partner"].browse(partner_id)
        acts = {"invite": delegation._invite, "revoke": delegation._revoke}
        if act not in acts:
            raise request.not_found()
        if request.httprequest.method != "POST":
            if act != "revoke":
                raise request.not_found()
            values = self._prepare_portal_layout_values()
            values.update(
                page_name="colleague_remove",
                key_user=key_user,
                # not a colleague of the key user's: Forbidden, nothing said
                colleague=delegation._manageable(key_user, [partner_id]),
            )
            return request.render(
                "partner_website_login.portal_colleague_remove", values
            )
        try:
            with request.env.cr.savepoint():
                message = acts[act](key_user, partner)
        except AccessError:
            raise  # not a colleague of the key user's: Forbidden, nothing said
        except (UserError, ValidationError) as error:
            return self._colleagues_redirect(error.args[0], "danger")
        return self._colleagues_redirect(message)
