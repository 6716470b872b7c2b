# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class IrMailServer(models.Model):
    """The pace a provider takes mail at (partner_login_pace.py): login mails keep
    to it, a bulk invite spreads over it instead of failing past it."""

    _inherit = "ir.mail_server"

    send_rate_per_minute = fields.Integer(
        string="Messages per Minute",
        help="The most mails this server takes a minute (your provider's sending "
        "rate); 0: no limit. Mails with website logins keep to it, evenly "
        "spaced.",
    )
    send_quota_per_day = fields.Integer(
        string="Messages per Day",
        help="The most mails this server takes in any 24 hours (your provider's "
        "daily quota); 0: no limit. Mails with website logins beyond it wait "
        "for the window to reopen.",
    )
