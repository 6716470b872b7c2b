# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import re
import secrets

from odoo import api, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL

from .partner_login_delegation_refusal import CountedRefusal
from .website_login_settings import MANAGER_GROUP, website_setting

# Letters, digits, "." "_" "-": never "@", so a username can never equal an email.
# As short as the customer numbers companies use ("7"): usernames are kept apart
# from each other and from every user's login, whatever their length.
USERNAME_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,64}")


class PartnerLoginUsername(models.AbstractModel):
    """The rules of the contacts' usernames, whoever writes them (a screen, an
    import, RPC): their form, their uniqueness without regard to case (against each
    other and every user's login), a username for every Website Enabled contact, and
    a login of its own for a portal user whose username is cleared. res.partner
    applies them in create and write, res.users to every login it stores."""

    _name = "partner.login.username"
    _description = "Usernames of contacts"

    @api.model
    def _normalize(self, vals):
        """Strip the username of ``vals``; refuse one of the wrong form."""
        if "username" in vals:
            username = (vals["username"] or "").strip()
            if username and not USERNAME_PATTERN.fullmatch(username):
                raise ValidationError(
                    self.env._(
                        "The username %(username)s is not valid: use 1 to 64 letters, "
                        "digits, '.', '_' or '-'.",
                        username=username,
                    )
                )
            vals["username"] = username or False

    @api.model
    def _check_new(self, vals_list):
        """The rules, on the ``vals_list`` of new contacts."""
        for vals in vals_list:
            self._normalize(vals)
            self._check_website_enabled(vals, vals.get("name"))
        self._check_available(
            self.env["res.partner"],
            [vals["username"] for vals in vals_list if vals.get("username")],
        )

    @api.model
    def _check_website_enabled(self, vals, contact_name, current=None):
        """A contact on the bulk invite's list has a username (the invite mails it
        as the login).

        :param current: the contact written to (None on create)
        """
        enabled = vals.get(
            "website_enabled", current.website_enabled if current else False
        )
        username = vals.get("username", current.username if current else False)
        if enabled and not username:
            raise ValidationError(
                self.env._(
                    "%(contact)s: Website Enabled needs a username (the bulk invite "
                    "mails it as the login).",
                    contact=contact_name or self.env._("New contact"),
                )
            )

    @api.model
    def _check_change(self, partners, vals):
        """The username ``vals`` gives ``partners`` is free, or, cleared, leaves
        their portal users a login."""
        if vals.get("username"):
            if len(partners) > 1:
                raise ValidationError(
                    self.env._(
                        "The username %(username)s is given to more than one contact.",
                        username=vals["username"],
                    )
                )
            self._check_available(partners, [vals["username"]])
        elif "username" in vals:
            self._check_login_without_username(partners)

    @api.model
    def _check_available(self, partners, usernames):
        """Refuse usernames taken by another contact or another user's login.

        :param partners: the contacts that will hold the usernames (none on create)
        """
        lowered = [username.lower() for username in usernames]
        for username in usernames:
            if lowered.count(username.lower()) > 1:
                raise ValidationError(
                    self.env._(
                        "The username %(username)s is given to more than one contact.",
                        username=username,
                    )
                )
        if not lowered:
            return
        self.env["res.partner"].flush_model(["username"])
        # Usernames hold no "@", so comparing with users' emails is needless; a
        # contact's Reference is a login too (res_users_login_identifier.py), tried
        # after usernames: a username equal to somebody's would take it over.
        self.env.cr.execute(
            SQL(
                """(SELECT username, TRUE, id FROM res_partner
                     WHERE lower(username) IN %(names)s AND id NOT IN %(own)s LIMIT 1)
                   UNION ALL
                   (SELECT login, FALSE, partner_id FROM res_users
                     WHERE lower(login) IN %(names)s AND partner_id NOT IN %(own)s
                     LIMIT 1)
                   UNION ALL
                   (SELECT trim(ref), TRUE, id FROM res_partner
                     WHERE %(by_reference)s AND lower(trim(ref)) IN %(names)s
                       AND id NOT IN %(own)s LIMIT 1)
                   ORDER BY 2 DESC LIMIT 1""",
                names=tuple(lowered),
                own=tuple(partners.ids) or (0,),
                by_reference=bool(website_setting(self.env, "login_by_reference")),
            )
        )
        if row := self.env.cr.fetchone():
            taken, by_contact, holder_id = row
            # sudo: the holder is named to the manager who chose the username
            holder = self.env["res.partner"].sudo().browse(holder_id).display_name
            raise ValidationError(
                self.env._(
                    "The username %(username)s is already used by %(contact)s.",
                    username=taken,
                    contact=holder,
                )
                if by_contact
                else self.env._(
                    "The username %(username)s is already the login of %(user)s.",
                    username=taken,
                    user=holder,
                )
            )

    @api.model
    def _check_login_without_username(self, partners):
        """Without a username, a contact's portal user logs in with the email: it
        needs one that is its own, no other user's login and no other login-enabled
        contact's address (the login would take it from them); with Odoo's website
        addon, on the contact's website (res.users.login.identifier._login_taken)."""
        identifier = self.env["res.users.login.identifier"]
        websites = "website_id" in self.env["res.users"]._fields
        # sudo: portal users and logins are checked whatever the writer may read
        for partner in partners.sudo().filtered("website_user_id"):
            email = partner.email_normalized
            if not email or identifier._login_taken(
                email, partner.website_id.id if websites else None, partner.id
            ):
                raise ValidationError(
                    self.env._(
                        "%(contact)s: without a username its portal user would have "
                        "no login of its own: keep the username, or give the contact "
                        "an email no other user or contact logs in with.",
                        contact=partner.display_name,
                    )
                )

    @api.model
    def _check_logins(self, users):
        """A login may not be another contact's username: login by username would
        become ambiguous."""
        self.env["res.partner"].flush_model(["username"])
        users.flush_recordset(["login", "partner_id"])
        self.env.cr.execute(
            SQL(
                """SELECT u.login FROM res_users u
                     JOIN res_partner p
                       ON lower(p.username) = lower(u.login) AND p.id != u.partner_id
                    WHERE u.id IN %s LIMIT 1""",
                tuple(users.ids),
            )
        )
        if row := self.env.cr.fetchone():
            raise ValidationError(
                self.env._(
                    "The login %(login)s is already the username of another contact.",
                    login=row[0],
                )
            )

    @api.model
    def _login_follows(self, partners):
        """The username of ``partners`` was written: their portal users' logins
        follow, so a changed or cleared username stops working at once (the email
        is the login without one)."""
        for partner in partners.sudo().filtered("website_user_id"):
            login = partner._website_default_login()
            if login and partner.website_user_id.login != login:
                partner.website_user_id.login = login

    @api.model
    def _fill_from_reference(self, partners):
        """A Website Login manager gives the contacts of ``partners`` without a
        username their Reference as username, where it is a valid one nobody else
        has.

        :returns: the notification naming how many were filled, and why the others
            were not
        """
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(
                self.env._("Only Website Login managers may set usernames.")
            )
        filled, skipped = partners.browse(), []
        for partner in partners.filtered(lambda partner: not partner.username):
            reference = (partner.ref or "").strip()
            if not reference:
                skipped.append(
                    self.env._("%(contact)s: no Reference", contact=partner.name)
                )
                continue
            try:
                with self.env.cr.savepoint():
                    partner.username = reference
                filled |= partner
            except ValidationError as error:
                skipped.append(f"{partner.name}: {error.args[0]}")
        message = self.env._(
            "%(count)s usernames filled from References.", count=len(filled)
        )
        return partners._website_notification(
            self.env._("Usernames from References"),
            "\n".join([message, *skipped]),
            "warning" if skipped else "success",
        )

    # ------------------------------------------------------------------ key user

    @api.model
    def _for_new_colleague(self, username, email):
        """A key user's new colleague's username: the one asked for, or one made
        from the address. A taken one is
        refused without a word on whose it is or where (another company, one of
        our users): the answer offers a free one instead."""
        if username := (username or "").strip():
            vals = {"username": username}
            # its form: the message names only what was typed
            self._normalize(vals)
            if self._is_free(username):
                return username
            suggestion = self._free_username(username)
            raise CountedRefusal(
                self.env._(
                    "Choose another username, %(suggestion)s for example.",
                    suggestion=suggestion,
                )
                if suggestion
                else self.env._("Choose another username."),
                suggestion=suggestion,
            )
        suggested = re.sub(r"[^A-Za-z0-9._-]", "", email.split("@")[0])[:58] or "user"
        if self._is_free(suggested):
            return suggested
        if free := self._free_username(suggested):
            return free
        raise UserError(self.env._("Choose a username for your colleague."))

    @api.model
    def _is_free(self, username):
        if not USERNAME_PATTERN.fullmatch(username):
            return False
        try:
            self._check_available(self.env["res.partner"], [username])
        except ValidationError:
            return False
        return True

    @api.model
    def _free_username(self, base):
        """``base`` and four random digits, free: random, so that the suggestion
        tells nothing of how many similar ones exist."""
        base = base[:59]
        for _attempt in range(5):
            candidate = f"{base}.{secrets.randbelow(10000):04d}"
            if self._is_free(candidate):
                return candidate
        return ""
