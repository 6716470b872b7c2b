# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from odoo import api, fields, models


class PartnerLoginDelegationRefusal(models.Model):
    _name = "partner.login.delegation.refusal"
    _description = "A key user's refused username or address, counted in its limit"
    _log_access = False

    key_user_id = fields.Many2one(
        "res.partner", required=True, index=True, ondelete="cascade"
    )
    refused_at = fields.Datetime(required=True, default=fields.Datetime.now)

    @api.autovacuum
    def _gc_counted(self):
        """Only the last 24 hours count."""
        self.search(
            [("refused_at", "<", fields.Datetime.now() - timedelta(days=1))]
        ).unlink()
