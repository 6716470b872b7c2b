# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json
from urllib.parse import urlencode

import werkzeug.exceptions

from odoo import models
from odoo.http import request

SECURITY_PAGE = "/my/security"
# What a user logged in with a temporary password may still open.
ALLOWED_PATHS = (SECURITY_PAGE, "/web/session/logout", "/web/login")
# A shop's pages (website_sale and its wishlist, 18.0 and 19.0 routes) that show or
# use the contact's own data: addresses, payment, orders. They are open to visitors
# (auth="public"), so the gate names them; the catalogue and the cart stay open.
SHOP_OWN_DATA_ROUTES = (
    "/shop/checkout",
    "/shop/address",
    "/shop/update_address",
    "/shop/extra_info",
    "/shop/confirm_order",
    "/shop/payment",
    "/shop/confirmation",
    "/shop/print",
    "/shop/wishlist",
    "/shop/express_checkout",
    "/shop/delivery_methods",
    "/shop/set_delivery_method",
    "/shop/get_delivery_rate",
    "/shop/update_carrier",
    "/shop/carrier_rate_shipment",
    "/shop/cart/update_address",
    "/my/orders/reorder",
)
# The calls /my/security makes to add a passkey (19.0's auth_passkey_portal): a
# passkey of one's own ends the temporary password as a password of one's own does
# (res_users.py), so it may be made while the temporary password is in use.
PASSKEY_CALLS = {
    ("res.users", "action_create_passkey"),
    ("res.users.identitycheck", "write"),  # the dialog's "password" method
    ("res.users.identitycheck", "run_check"),
    ("auth.passkey.key.create", "create"),
    ("auth.passkey.key.create", "make_key"),
}


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    @classmethod
    def _pre_dispatch(cls, rule, args):
        result = super()._pre_dispatch(rule, args)
        # OWASP ASVS 2.3.1: an initial secret must not become the long-term password.
        # "bearer": 19.0's /json/2 routes also take the session of a browser
        if (
            (
                rule.endpoint.routing.get("auth") in ("user", "bearer")
                or rule.rule.startswith(SHOP_OWN_DATA_ROUTES)
            )
            and request.session.uid
            and not request.httprequest.path.startswith(ALLOWED_PATHS)
            and request.env["partner.login.credential"]._must_change_password(
                request.env.user
            )
            and not cls._website_passkey_call()
        ):
            if request.dispatcher.routing_type != "http":
                # JSON calls (write one's email, make an API key that would outlive
                # the temporary password) wait for a password of one's own too
                raise werkzeug.exceptions.Forbidden()
            query = {"website_password_change": 1}
            if request.httprequest.method == "GET":
                # back to the page asked for once the password is set
                query["redirect"] = request.httprequest.full_path.rstrip("?")
            werkzeug.exceptions.abort(
                request.redirect(f"{SECURITY_PAGE}?{urlencode(query)}", 303)
            )
        return result

    @classmethod
    def _website_passkey_call(cls):
        """A web client's call that adds a passkey of one's own (PASSKEY_CALLS); an
        identity check lets through only the one that asks for a passkey."""
        if not request.httprequest.path.startswith("/web/dataset/call_kw/"):
            return False
        try:
            params = request.get_json_data().get("params") or {}
        except (ValueError, AttributeError):
            return False
        call = (params.get("model"), params.get("method"))
        if call not in PASSKEY_CALLS:
            return False
        if call != ("res.users.identitycheck", "run_check"):
            return True
        # the check runs the method it was made for: only action_create_passkey
        ids = (params.get("args") or [[]])[0]
        ids = ids if isinstance(ids, list) else [ids]
        if not ids or not all(isinstance(id_, int) for id_ in ids):
            return False
        # sudo: the check's request is readable by nobody; its maker only is allowed
        checks = request.env["res.users.identitycheck"].sudo().browse(ids).exists()
        return len(checks) == len(ids) and all(
            check.create_uid == request.env.user
            and json.loads(check.request or "[]")[1:4]
            == ["res.users", [request.env.user.id], "action_create_passkey"]
            for check in checks
        )
