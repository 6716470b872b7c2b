# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The contact's Website Access state, written in one place.

Whatever happens to a contact's login (an invite went out, it bounced or lapsed, the
contact chose a password, a manager or Odoo's own screens ended its access, its
email was changed), the code that sees it calls one transition below; nothing else
writes ``website_access_state``, ``website_password_expires``,
``website_invite_count``, ``website_email_held`` or ``website_kept_out``.
"""

from markupsafe import escape

from odoo import api, fields, models
from odoo.tools import SQL

from .website_login_settings import website_setting

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
        # an address wins: res_users_login_identifier.py)
        self.env.cr.execute(
            SQL(
                """UPDATE res_partner SET website_login_email = NULL
                    WHERE website_login_email IN (
                          SELECT email_normalized FROM res_partner WHERE id IN %(ids)s)
                      AND id NOT IN %(ids)s;
                   UPDATE res_partner
                      SET website_invite_count = %(count)s,
                          website_login_email = email_normalized
                    WHERE id IN %(ids)s""",
                count=SQL("COALESCE(website_invite_count, 0) + 1") if by_run else 0,
                ids=tuple(partners.ids),
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
    def _kept_out(self, partners):
        """Somebody who decides logins ended theirs (Allow Login turned off, the
        portal user revoked or archived): no signup token lets them in again
        (res.partner._website_may_use_signup_token) until they are let in."""
        self._write(
            partners.filtered(lambda partner: not partner.website_kept_out),
            {"website_kept_out": True},
        )

    @api.model
    def _let_in(self, partners):
        """Allow Login is on again: the earlier keep-out is over."""
        self._write(partners.filtered("website_kept_out"), {"website_kept_out": False})

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
        self._write(
            partners.filtered("website_email_held"), {"website_email_held": False}
        )
        self._write(
            partners.filtered(
                lambda partner: partner.website_access_state == "bounced"
            ),
            {"website_access_state": "none"},
        )
