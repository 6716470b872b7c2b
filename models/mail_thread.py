# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models


class MailThread(models.AbstractModel):
    _inherit = "mail.thread"

    @api.model
    def _routing_handle_bounce(self, email_message, message_dict):
        """Odoo's mail gateway recognised a bounce (sent to the bounce alias, or a
        delivery status notification): if it names a login mail's Message-Id, the
        contact shows Bounced and its password or link stops working
        (partner_invite_outcome.py)."""
        result = super()._routing_handle_bounce(email_message, message_dict)
        # sudo: the gateway runs as whoever fetches mail; the lines are the addon's
        self.env["partner.invite.outcome"].sudo()._bounced(
            message_dict.get("bounced_msg_ids"),
            message_dict.get("bounced_email"),
            message_dict.get("message_id"),
        )
        return result
