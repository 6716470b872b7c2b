# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models

BULK_INVITE_CRON = "partner_website_login.ir_cron_send_bulk_website_invite"


class IrCron(models.Model):
    _inherit = "ir.cron"

    def method_direct_trigger(self):
        """ "Run Manually" on Send Bulk Website Invite starts the run as the person
        who pressed it (Odoo would run it as the job's user, OdooBot, in silence):
        the run records them, keeps to their companies, and they see it."""
        bulk = self.env.ref(BULK_INVITE_CRON, raise_if_not_found=False)
        if bulk and self == bulk:
            self.check_access("write")  # as Odoo's Run Manually asks
            return self.env["partner.invite.run"].action_start()
        return super().method_direct_trigger()
