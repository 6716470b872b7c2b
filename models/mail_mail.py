# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class MailMail(models.Model):
    _inherit = "mail.mail"

    def _postprocess_sent_message(
        self, success_pids, failure_reason=False, failure_type=None
    ):
        result = super()._postprocess_sent_message(
            success_pids, failure_reason=failure_reason, failure_type=failure_type
        )
        if failure_type:
            # Odoo never retries a failed mail: revoke the password or link it
            # carried, so the contact is invited again, and take it out of the mail,
            # which stays in the queue (as Odoo keeps failed mails) to show the failure.
            credentials = (
                self.env["res.users.temporary.password"]
                .sudo()
                .search([("mail_id", "in", self.ids)])
            )
            if credentials:
                scrubbed = self.env._(
                    "<p>This mail carried a temporary password or a set-password "
                    "link. It could not be delivered, so it was revoked and removed "
                    "from here.</p>"
                )
                self.sudo().browse(credentials.mapped("mail_id")).write(
                    {"body_html": scrubbed, "body": scrubbed}
                )
                credentials._revoke_after_failed_delivery(failure_type, failure_reason)
        return result
