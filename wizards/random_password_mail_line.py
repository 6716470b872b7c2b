# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class RandomPasswordMailLine(models.TransientModel):
    """One contact of the Random Password Mail window, as portal.wizard.user is one
    of the portal wizard: who it is to Odoo now (access, last login), whether it
    gets a mail (the operator may untick it), and why not where it cannot."""

    _name = "random.password.mail.line"
    _description = "Contact of a Random Password Mail"

    wizard_id = fields.Many2one(
        "random.password.mail", required=True, ondelete="cascade"
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Contact",
        required=True,
        readonly=True,
        ondelete="cascade",
    )
    send = fields.Boolean(default=True, help="Untick to leave the contact alone.")
    # the address the mail goes to: always the contact's own (partner.login.mail)
    email_to = fields.Char(string="Sent To", readonly=True)
    website_access_state = fields.Selection(
        related="partner_id.website_access_state", string="Access"
    )
    website_login_date = fields.Datetime(
        related="partner_id.website_login_date", string="Last Login"
    )
    refusal = fields.Char(string="Why Not", readonly=True)
    turns_on_login = fields.Boolean(
        readonly=True,
        help="Allow Login is off for the contact: sending turns it on.",
    )
    replaces_own_password = fields.Boolean(
        compute="_compute_replaces_own_password",
        help="The contact chose a password of its own: the mail replaces it and "
        "logs the contact out.",
    )

    @api.depends("partner_id.website_access_state")
    def _compute_replaces_own_password(self):
        for line in self:
            line.replaces_own_password = line.website_access_state == "active"
