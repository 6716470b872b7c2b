# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models, tools
from odoo.tools import SQL

from .website_login_settings import website_setting


def has_websites(env):
    """Whether Odoo's website addon gives users a website (``website_id``): its
    logins are one account per login per website, a user without website counting
    on every website. The addon does not depend on it."""
    return "website_id" in env["res.users"]._fields


class ResUsersLoginIdentifier(models.AbstractModel):
    """Which portal user a contact means by what it typed as login: its username,
    its email or (a setting, on by default) its Reference, in this order, in any
    case and with surrounding spaces. A new identifier is one more lookup here.

    res.users._get_login_domain asks only after Odoo's own exact login found nobody,
    so internal users log in as ever. An email names the contact its login mail went
    to, else the one login-enabled contact that has it; a Reference held by more
    than one login-enabled contact means nobody by it. With Odoo's website addon,
    only the users of the website the login is typed on, or of none, count.
    """

    _name = "res.users.login.identifier"
    _description = "Portal login identifiers of contacts"

    @api.model
    def _current_website_id(self):
        """The website a login is typed on, or None without websites."""
        if not has_websites(self.env):
            return None
        return self.env["website"].get_current_website().id or None

    @api.model
    def _on_website(self, alias, website_id):
        """SQL: the rows of ``alias`` (res_users or res_partner) whose logins meet
        those of ``website_id`` (Odoo's rule: the same website, or either without
        one). Without websites, every row."""
        if not website_id:
            return SQL("TRUE")
        column = SQL.identifier(alias, "website_id")
        return SQL("(%s IS NULL OR %s = %s)", column, column, website_id)

    @api.model
    def _user_id(self, login):
        """The id of the portal user ``login`` names, or False."""
        typed = login.strip().lower()
        if not typed or len(typed) > 254:
            return False
        website_id = self._current_website_id()
        if user_id := self._by_username(typed, website_id):
            return user_id
        if email := tools.email_normalize(typed, strict=True):
            return self._by_email(email, website_id)
        return self._by_reference(typed, website_id)

    @api.model
    def _by_username(self, typed, website_id=None):
        self.env.cr.execute(
            SQL(
                """SELECT u.id FROM res_users u
                     JOIN res_partner p ON p.id = u.partner_id
                    WHERE lower(p.username) = %s AND u.share AND u.active AND %s
                    LIMIT 1""",
                typed,
                self._on_website("u", website_id),
            )
        )
        row = self.env.cr.fetchone()
        return row[0] if row else False

    @api.model
    def _email_claims(self, email, website_id=None):
        """[(user id, shared, proven owner)] of the active users that log in by
        ``email``: the contact its login mail went to (website_login_email), a
        login-enabled contact that has it, an internal user that has it."""
        self.env.cr.execute(
            SQL(
                """SELECT u.id, u.share, p.website_login_email = %(email)s
                     FROM res_users u
                     JOIN res_partner p ON p.id = u.partner_id
                    WHERE (p.email_normalized = %(email)s
                           OR p.website_login_email = %(email)s)
                      AND u.active AND (NOT u.share OR p.allow_login)
                      AND %(on_website)s
                    LIMIT 20""",
                email=email,
                on_website=self._on_website("u", website_id),
            )
        )
        return self.env.cr.fetchall()

    @api.model
    def _by_email(self, email, website_id=None):
        """The one portal user an address names: the contact whose login mail went
        to it (website_login_email) before any contact that merely has it as its
        email, so that nobody blocks or takes a customer's email login by writing
        the customer's address on his own contact (/my/account, a sign-up). An
        internal user with the address makes it nobody's."""
        rows = self._email_claims(email, website_id)
        if not all(share for _id, share, _proven in rows):
            return False
        proven = [user_id for user_id, _share, owner in rows if owner]
        candidates = proven or [user_id for user_id, _share, _owner in rows]
        return candidates[0] if len(candidates) == 1 else False

    @api.model
    def _claimed_by_another(self, login, user):
        """Whether ``login``, the exact Odoo login of the portal ``user``, is an
        email another portal user logs in by (on the current website): then it is
        nobody's login, whoever came first."""
        email = tools.email_normalize(login.strip().lower(), strict=True)
        if not email:
            return False
        return any(
            share and user_id != user.id
            for user_id, share, _proven in self._email_claims(
                email, self._current_website_id()
            )
        )

    @api.model
    def _by_reference(self, typed, website_id=None):
        if not website_setting(self.env, "login_by_reference"):
            return False
        self.env.cr.execute(
            SQL(
                """SELECT u.id FROM res_users u
                     JOIN res_partner p ON p.id = u.partner_id
                    WHERE lower(trim(p.ref)) = %s AND p.ref IS NOT NULL
                      AND u.share AND u.active AND p.active AND p.allow_login AND %s
                    LIMIT 2""",
                typed,
                self._on_website("u", website_id),
            )
        )
        rows = self.env.cr.fetchall()
        return rows[0][0] if len(rows) == 1 else False

    @api.model
    def _login_taken(self, login, website_id=None, partner_id=None):
        """Whether ``login``, given to a new account of contact ``partner_id`` on
        ``website_id`` (None: every website), would meet a login that exists, in
        any case: another user's login (on that website, as Odoo's key has it), a
        contact's username (unique across all websites), the email another contact
        logs in by (its login mail's, or its own with Allow Login or a portal user,
        kept out for now or not), a login-enabled contact's Reference."""
        typed = (login or "").strip().lower()
        if not typed:
            return False
        email = tools.email_normalize(typed, strict=True) or None
        self.env["res.partner"].flush_model()
        self.env["res.users"].flush_model()
        self.env.cr.execute(
            SQL(
                """SELECT 1 FROM res_users u
                    WHERE lower(u.login) = %(typed)s AND u.partner_id != %(own)s
                      AND %(user_on_website)s
                   UNION ALL
                   SELECT 1 FROM res_partner p
                    WHERE lower(p.username) = %(typed)s AND p.id != %(own)s
                   UNION ALL
                   SELECT 1 FROM res_partner p
                    WHERE (p.website_login_email = %(email)s
                           OR (p.email_normalized = %(email)s
                               AND (p.allow_login OR EXISTS (
                                    SELECT 1 FROM res_users pu
                                     WHERE pu.partner_id = p.id AND pu.share))))
                      AND p.id != %(own)s AND %(partner_on_website)s
                   UNION ALL
                   SELECT 1 FROM res_partner p
                    WHERE %(by_reference)s AND lower(trim(p.ref)) = %(typed)s
                      AND p.ref IS NOT NULL AND p.allow_login AND p.id != %(own)s
                      AND %(partner_on_website)s
                   LIMIT 1""",
                typed=typed,
                email=email,
                own=partner_id or 0,
                by_reference=bool(website_setting(self.env, "login_by_reference")),
                # Odoo's key on users, UNIQUE(login, website_id): a website's own
                # account may share a login with an account of no website
                user_on_website=(
                    SQL("u.website_id = %s", website_id) if website_id else SQL("TRUE")
                ),
                partner_on_website=self._on_website("p", website_id),
            )
        )
        return bool(self.env.cr.fetchone())

    @api.model
    def _collisions(self, partners):
        """{partner id: login} for the ``partners`` without a portal user whose
        login would be another user's already (one query)."""
        without_user = partners.filtered(lambda partner: not partner.website_user_id)
        login_by_partner = {p.id: p._website_default_login() for p in without_user}
        if not any(login_by_partner.values()):
            return {}
        websites = has_websites(self.env)
        # A username is unique among usernames and logins already (one indexed
        # query for a bulk batch); an email login must also be nobody else's email
        # login. Both as Odoo's website addon: one account per login per website.
        # sudo: logins of every user, archived ones included
        users = self.env["res.users"].sudo().with_context(active_test=False)
        with_username = without_user.filtered("username")
        taken_by = {}
        for user in users.search(
            [("login", "in", [login_by_partner[p.id] for p in with_username])]
        ):
            taken_by.setdefault(user.login, []).append(
                user.website_id.id if websites else None
            )
        collisions = {}
        for partner in without_user:
            login = login_by_partner[partner.id]
            website_id = partner.website_id.id if websites else None
            if partner.username:
                taken = any(
                    not website_id or not other or other == website_id
                    for other in taken_by.get(login, ())
                )
            else:
                taken = self._login_taken(login, website_id, partner.id)
            if taken:
                collisions[partner.id] = login
        return collisions
