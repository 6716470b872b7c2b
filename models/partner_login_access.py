# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The contact's Website Access state, written in one place.

Whatever happens to a contact's login (an invite went out, it bounced or lapsed, the
contact chose a password, a manager or Odoo's own screens ended its access, its
email was changed), the code that sees it calls one transition below; nothing else
writes ``website_access_state``, ``website_password_expires``,
``website_invite_count``, ``website_email_held`` or
``website_access_ended_by_manager``.
"""

from markupsafe import escape

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

from .website_login_settings import MANAGER_GROUP, decides_logins, website_setting

ACCESS_STATES = [
    ("none", "No access"),
    ("invited", "Invited"),
    ("expired", "Invite expired"),
    ("unanswered", "Invites unanswered"),
    ("bounced", "Bounced"),
    ("active", "Active"),
]


class PartnerLoginAccess(models.AbstractModel):
    _name = "partner.login.access"
    _description = "Website Access state of contacts"

    @api.model
    def _write(self, partners, values):
        if partners:
            # sudo: these fields are the addon's own record (SYSTEM_FIELDS), written
            # for whoever caused the change
            partners.sudo().write(values)

    @api.model
    def _invited(self, partners, expires_at):
        """A password or link was issued; it works until ``expires_at``."""
        self._write(
            partners,
            {
                "website_access_state": "invited",
                "website_password_expires": expires_at,
                "website_email_held": False,
            },
        )

    @api.model
    def _delivered(self, partners, by_run):
        """Their invite reached the SMTP server: a run's counts towards the
        unanswered ones, a manager's by hand starts the count again; the address
        becomes the one they log in with."""
        if not partners:
            return
        partners.flush_recordset(["website_invite_count", "website_login_email"])
        # the address the mail went to is theirs to log in with (the latest owner of
        # an address wins: res_users_login_identifier.py), on their website only
        # where Odoo's website addon gives accounts per website
        same_website = SQL("TRUE")
        if "website_id" in self.env["res.users"]._fields:
            partners.flush_model(["website_id"])
            same_website = SQL(
                "(other.website_id IS NULL OR mailed.website_id IS NULL"
                " OR other.website_id = mailed.website_id)"
            )
        self.env.cr.execute(
            SQL(
                """UPDATE res_partner other SET website_login_email = NULL
                     FROM res_partner mailed
                    WHERE mailed.id IN %(ids)s
                      AND other.website_login_email = mailed.email_normalized
                      AND other.id NOT IN %(ids)s AND %(same_website)s;
                   UPDATE res_partner
                      SET website_invite_count = %(count)s,
                          website_login_email = email_normalized
                    WHERE id IN %(ids)s""",
                count=SQL("COALESCE(website_invite_count, 0) + 1") if by_run else 0,
                ids=tuple(partners.ids),
                same_website=same_website,
            )
        )
        self.env["res.partner"].invalidate_model(
            ["website_invite_count", "website_login_email"]
        )

    @api.model
    def _portal_invited(self, partners):
        """Odoo's portal wizard mailed them its own invitation (a signup link)."""
        hours = int(
            self.env["ir.config_parameter"]
            .sudo()  # Odoo's own setting, read to show the link's end
            .get_param("auth_signup.signup.validity.hours", 144)
        )
        waiting = partners.filtered(
            lambda partner: partner.website_access_state != "active"
        )
        self._write(
            waiting,
            {
                "website_access_state": "invited",
                "website_password_expires": fields.Datetime.add(
                    fields.Datetime.now(), hours=hours
                ),
            },
        )
        self._delivered(partners, by_run=False)

    @api.model
    def _active(self, partners):
        """They log in with a password of their own (their latest invite is
        answered)."""
        self.env["partner.invite.run.line"]._stamp_latest(partners, "password_set_at")
        self._write(
            partners,
            {
                "website_access_state": "active",
                "website_password_expires": False,
                "website_invite_count": 0,
                "website_email_held": False,
            },
        )

    @api.model
    def _ended(self, partners):
        """No password or link of theirs works any more (revoked, not delivered)."""
        self._write(
            partners.filtered(lambda p: p.website_access_state != "bounced"),
            {
                "website_access_state": "none",
                "website_password_expires": False,
                "website_invite_count": 0,
            },
        )

    @api.model
    def _ended_by_manager(self, partners):
        """Somebody of the seller (a Website Login manager, Odoo's portal wizard or
        user form) took their login away: it stands until such a person gives it
        back, whatever the company's Website Administrator may do."""
        self._write(
            partners.sudo().filtered(
                lambda partner: not partner.website_access_ended_by_manager
            ),
            {"website_access_ended_by_manager": True},
        )

    @api.model
    def _revoke_website_access(self, partners):
        """A Website Login manager's Revoke Website Access: Allow Login off, which
        ends the portal users' access, sessions, passwords and links; a note on
        each contact.

        :returns: the notification that says so
        """
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(
                self.env._("Only Website Login managers may revoke website access.")
            )
        partners.check_access("write")
        # Odoo notes "Portal Access Revoked" itself where a portal user loses the
        # portal group: one note each, the addon's only for the other contacts
        portal = self.env["res.users.portal"]
        noted_by_odoo = partners.filtered(
            lambda partner: (
                partner.sudo().website_user_id
                and portal._has_access(partner.sudo().website_user_id)
            )
        )
        partners.write({"allow_login": False})  # also revokes passwords and links
        # even a contact that never had a login: no sign-up link lets it in
        self._ended_by_manager(partners)
        note = escape(  # plain text in an HTML body, as message_post would escape it
            self.env._("Website access revoked by %(user)s.", user=self.env.user.name)
        )
        # one insert for all the contacts; write access was checked above
        partners._message_log_batch(dict.fromkeys((partners - noted_by_odoo).ids, note))
        return partners._website_notification(
            self.env._("Revoke Website Access"),
            self.env._(
                "Website access revoked for %(count)s contacts.", count=len(partners)
            ),
            "success",
        )

    @api.model
    def _given_back_by_manager(self, partners):
        """Somebody of the seller let them log in again (Allow Login, a password
        mail, Odoo's portal wizard or user form)."""
        self._write(
            partners.sudo().filtered("website_access_ended_by_manager"),
            {"website_access_ended_by_manager": False},
        )

    @api.model
    def _bounced(self, partners):
        """Their invite bounced: no invite goes to that address again; somebody is
        asked to correct it."""
        newly = partners.filtered(lambda p: p.website_access_state != "bounced")
        self._write(
            partners,
            {"website_access_state": "bounced", "website_password_expires": False},
        )
        self.env["partner.invite.run.line"]._nudge(newly, "bounced")

    @api.model
    def _lapsed(self):
        """The scheduled expiry: invites past their end show "Invite expired", or
        "Invites unanswered" once the contact had all its invites.

        :returns: the contacts whose invite lapsed now
        """
        expired = (
            self.env["res.partner"]
            .sudo()  # the scheduler, or a run about to count its contacts
            .search(
                [
                    ("website_access_state", "=", "invited"),
                    ("website_password_expires", "<=", fields.Datetime.now()),
                ]
            )
        )
        attempts = website_setting(self.env, "invite_attempts")
        unanswered = expired.filtered(
            lambda partner: partner.website_invite_count >= attempts
        )
        self.env["partner.invite.run.line"]._stamp_latest(expired, "expired_at")
        self._write(unanswered, {"website_access_state": "unanswered"})
        self._write(expired - unanswered, {"website_access_state": "expired"})
        # the re-invite rhythm is over: somebody may call them
        self.env["partner.invite.run.line"]._nudge(unanswered, "unanswered")
        return expired

    @api.model
    def _email_written(self, partners, old_emails):
        """The email of ``partners`` was written: a new address holds back login
        mails unless a Website Login manager, or the contact itself, changed it.

        :param old_emails: {partner id: (email, normalized email) before the write}
        """
        changed = partners.filtered(
            lambda partner: partner.email_normalized != old_emails[partner.id][1]
        )
        if decides_logins(self.env):
            self._email_cleared_for_invites(changed)
        else:
            self._email_changed(
                changed - self.env.user.partner_id,
                {partner_id: emails[0] for partner_id, emails in old_emails.items()},
            )

    @api.model
    def _email_changed(self, partners, old_emails):
        """Their email was changed by somebody who may not decide who logs in: what
        was issued to the old address stops working, and no invite goes to the new
        one until a Website Login manager sends it (Random Password Mail), so that
        nobody can redirect a customer's login to himself.

        :param old_emails: {partner id: the email before the change}
        """
        held = partners.filtered(
            lambda partner: partner.website_enabled or partner.website_user_id
        )
        if not held:
            return
        self.env["partner.login.credential"]._revoke_for(held)
        self._write(held, {"website_email_held": True})
        self._end_signup_tokens(held)
        # the new address has not bounced
        self._write(
            held.filtered(lambda partner: partner.website_access_state == "bounced"),
            {"website_access_state": "none"},
        )
        user = self.env.user.name
        held.sudo()._message_log_batch(  # the addon's record of what it did
            {
                partner.id: escape(
                    self.env._(
                        "Email changed from %(old)s to %(new)s by %(user)s, who is not "
                        "a Website Login manager: no login mail goes to the new "
                        "address until a manager sends one.",
                        old=old_emails.get(partner.id) or "-",
                        new=partner.email or "-",
                        user=user,
                    )
                )
                for partner in held
            }
        )

    @api.model
    def _email_cleared_for_invites(self, partners):
        """A new address that a bounce or an unconfirmed change held back may be
        invited again (a manager changed it, or one sends to it)."""
        held = partners.filtered("website_email_held")
        # a token made while the address was held went where no login mail may go
        self._end_signup_tokens(held)
        self._write(held, {"website_email_held": False})
        self._write(
            partners.filtered(
                lambda partner: partner.website_access_state == "bounced"
            ),
            {"website_access_state": "none"},
        )

    @api.model
    def _end_signup_tokens(self, partners):
        """No signup or reset token of Odoo's made for them so far works any more
        (a token names the contact, not the address it was mailed to)."""
        if partners:
            # sudo: signup_type is for ERP managers only
            partners.sudo().signup_cancel()
