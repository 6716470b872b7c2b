# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models
from odoo.exceptions import AccessError, UserError

from ..models.website_login_settings import MANAGER_GROUP, decides_logins


class PortalWizardUser(models.TransientModel):
    """Odoo's "Grant portal access": with this addon, giving a contact website
    access is a Website Login manager's decision, whichever screen it is made on."""

    _inherit = "portal.wizard.user"

    def _check_website_access_decision(self):
        """Anybody may grant or invite again a contact a manager already let in
        (Allow Login on); only a manager may let in a contact that is not."""
        if self.env.su or self.env.user.has_group(MANAGER_GROUP):
            return
        # sudo: the flag is read to decide, not shown (it is for employees anyway)
        kept_out = self.sudo().partner_id.filtered(
            lambda partner: not partner.allow_login
        )
        if kept_out:
            raise AccessError(
                self.env._(
                    "Only a Website Login manager may give %(contact)s website "
                    "access: Allow Login is off.",
                    contact=kept_out[0].display_name,
                )
            )

    def action_grant_access(self):
        self._check_website_access_decision()
        result = super().action_grant_access()
        # a manager's grant lets the contact in (sudo: a manager decided, above)
        self.partner_id.sudo().filtered(lambda p: not p.allow_login).write(
            {"allow_login": True}
        )
        # Odoo mailed its invitation: the contact shows Invited until it signs up
        self.env["partner.login.access"]._portal_invited(self.partner_id)
        return result

    def action_invite_again(self):
        self._check_website_access_decision()
        result = super().action_invite_again()
        self.env["partner.login.access"]._portal_invited(self.partner_id)
        return result

    def _send_email(self):
        """Odoo's welcome carries a signup link: it goes to no address that awaits
        a Website Login manager (grant and invite again alike, whoever presses)."""
        eligibility = self.env["partner.login.eligibility"]
        if eligibility._credential_mail_held(self.partner_id):
            raise UserError(
                self.env._(
                    "No invitation goes to %(contact)s: %(reason)s",
                    contact=self.partner_id.display_name,
                    reason=eligibility._email_held_message(),
                )
            )
        return super()._send_email()

    def action_revoke_access(self):
        """Ending a contact's access is a manager's decision too, as on the contact
        form (Revoke Website Access)."""
        if not decides_logins(self.env):
            raise AccessError(
                self.env._("Only Website Login managers may revoke website access.")
            )
        return super().action_revoke_access()
