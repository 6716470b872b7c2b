# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models
from odoo.exceptions import UserError
from odoo.http import request

from .res_users_login_identifier import has_websites


class ResUsersWebsiteSignup(models.AbstractModel):
    """Odoo's sign-up (auth_signup) for website logins: who may use a signup or
    reset token, whose sign-up lets the contact log in at once, and which logins a
    sign-up may not take. Asked by res.partner._get_partner_from_token and
    res.users._signup_create_user."""

    _name = "res.users.website.signup"
    _description = "Sign-up and signup tokens of website logins"

    @api.model
    def _may_use_token(self, partner):
        """Odoo's signup and reset tokens make or open a login for the contact: only
        for a contact a Website Login manager let in (Allow Login), one of Odoo's
        internal users, or a shop's guest buyer (``_signs_up_itself``). Any
        employee may get such a token for a contact without a user (free sign-up's
        ``signup_get_auth_param``): that alone lets nobody in."""
        partner.ensure_one()
        # a token can only have reached somebody through a mail the gate holds
        if self.env["partner.login.eligibility"]._credential_mail_held(partner):
            return False
        return (
            partner.allow_login
            or any(not user.share for user in partner.user_ids)
            or self._signs_up_itself(partner)
        )

    @api.model
    def _signs_up_itself(self, partner):
        """A contact a visitor made itself at a shop's checkout (made by a public
        user, the customer of a web order), that never had a user and that no
        manager kept out: the "Sign Up" of its order confirmation makes its login,
        with Allow Login on, as a visitor's own sign-up does. A contact made by
        anybody else, or by a visitor's other forms, waits for a manager, whoever
        holds a token."""
        partner.ensure_one()
        return bool(
            partner.active
            and not partner.website_access_ended_by_manager
            and partner.create_uid
            and partner.create_uid in self._public_users()
            and not partner.with_context(active_test=False).user_ids
            and self._has_web_order(partner)
        )

    @api.model
    def _has_web_order(self, partner):
        """The contact is the customer of an order placed on a website (only where
        website_sale is installed: the addon does not depend on it)."""
        orders = self.env["sale.order"] if "sale.order" in self.env else None
        if orders is None or "website_id" not in orders._fields:
            return False
        # sudo: whether an order exists, for a visitor signing up
        return bool(
            orders.sudo().search_count(
                [("partner_id", "=", partner.id), ("website_id", "!=", False)],
                limit=1,
            )
        )

    @api.model
    def _public_users(self):
        """The users an anonymous visitor acts as: Odoo's public user, and each
        website's own where the website addon is installed."""
        public = self.env["res.users"].sudo().with_context(active_test=False)
        public |= self.env.ref("base.public_user", raise_if_not_found=False) or public
        if "website" in self.env:
            # sudo: which user each website's visitors are, not shown
            websites = self.env["website"].sudo().with_context(active_test=False)
            public |= websites.search([]).user_id
        return public

    @api.model
    def _check_login_free(self, values):
        """A sign-up (``values`` of res.users._signup_create_user) may not take a
        login somebody logs in by already, in any case
        (res.users.login.identifier._login_taken): refused with Odoo's own answer
        to a taken login, whatever takes it."""
        website_id = values.get("website_id")
        if not website_id and has_websites(self.env):
            # as the website addon gives the new user its website (whether its
            # override runs before this one or after)
            website = self.env["website"].get_current_website()
            if request and website.specific_user_account:
                website_id = website.id
        if self.env["res.users.login.identifier"]._login_taken(
            values.get("login"), website_id, values.get("partner_id")
        ):
            raise UserError(
                self.env._(
                    "Another user is already registered using this email address."
                )
            )
