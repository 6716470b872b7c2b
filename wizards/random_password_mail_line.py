# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class RandomPasswordMailLine(models.TransientModel):
    """One contact of the Random Password Mail window, as portal.wizard.user is one
    of the portal wizard."""

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
    # the address the mail goes to: always the contact's own (partner.login.mail)
    email_to = fields.Char(string="To", readonly=True)
    refusal = fields.Char(string="Not sent because", readonly=True)
    turns_on_login = fields.Boolean(
        string="Turns on Allow Login",
        readonly=True,
        help="Allow Login is off for the contact: sending turns it on.",
    )
