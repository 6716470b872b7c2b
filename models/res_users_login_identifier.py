# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models, tools
from odoo.tools import SQL

from .website_login_settings import website_setting


class ResUsersLoginIdentifier(models.AbstractModel):
    """Which portal user a contact means by what it typed as login: its username,
    its email or (a setting, on by default) its Reference, in this order, in any
    case and with surrounding spaces. A new identifier is one more lookup here.

    res.users._get_login_domain asks only after Odoo's own exact login found nobody,
    so internal users log in as ever. An email names the contact its login mail went
    to, else the one login-enabled contact that has it; a Reference held by more
    than one login-enabled contact means nobody by it.
    """

    _name = "res.users.login.identifier"
    _description = "Portal login identifiers of contacts"

    @api.model
    def _user_id(self, login):
        """The id of the portal user ``login`` names, or False."""
        typed = login.strip().lower()
        if not typed or len(typed) > 254:
            return False
        if user_id := self._by_username(typed):
            return user_id
        if email := tools.email_normalize(typed, strict=True):
            return self._by_email(email)
        return self._by_reference(typed)

    @api.model
    def _by_username(self, typed):
        self.env.cr.execute(
            SQL(
                """SELECT u.id FROM res_users u
                     JOIN res_partner p ON p.id = u.partner_id
                    WHERE lower(p.username) = %s AND u.share AND u.active LIMIT 1""",
                typed,
            )
        )
        row = self.env.cr.fetchone()
        return row[0] if row else False

    @api.model
    def _by_email(self, email):
        """The one portal user an address names: the contact whose login mail went
        to it (website_login_email) before any contact that merely has it as its
        email, so that nobody blocks or takes a customer's email login by writing
        the customer's address on his own contact (/my/account, a sign-up). An
        internal user with the address makes it nobody's."""
        self.env.cr.execute(
            SQL(
                """SELECT u.id, u.share, p.website_login_email = %(email)s
                     FROM res_users u
                     JOIN res_partner p ON p.id = u.partner_id
                    WHERE (p.email_normalized = %(email)s
                           OR p.website_login_email = %(email)s)
                      AND u.active AND (NOT u.share OR p.allow_login)
                    LIMIT 20""",
                email=email,
            )
        )
        rows = self.env.cr.fetchall()
        if not all(share for _id, share, _proven in rows):
            return False
        proven = [user_id for user_id, _share, owner in rows if owner]
        candidates = proven or [user_id for user_id, _share, _owner in rows]
        return candidates[0] if len(candidates) == 1 else False

    @api.model
    def _by_reference(self, typed):
        if not website_setting(self.env, "login_by_reference"):
            return False
        self.env.cr.execute(
            SQL(
                """SELECT u.id FROM res_users u
                     JOIN res_partner p ON p.id = u.partner_id
                    WHERE lower(trim(p.ref)) = %s AND p.ref IS NOT NULL
                      AND u.share AND u.active AND p.active AND p.allow_login
                    LIMIT 2""",
                typed,
            )
        )
        rows = self.env.cr.fetchall()
        return rows[0][0] if len(rows) == 1 else False
