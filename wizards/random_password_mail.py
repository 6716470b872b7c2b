# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from odoo import api, fields, models, tools
from odoo.exceptions import AccessError, UserError

from ..models.partner_login_credential import CREDENTIAL_KINDS
from ..models.partner_login_mail import CREDENTIAL_PLACEHOLDERS
from ..models.res_partner import MANAGER_GROUP
from ..models.website_login_settings import website_setting

_logger = logging.getLogger(__name__)

TEMPLATE = "partner_website_login.mail_template_random_password"


class RandomPasswordMail(models.TransientModel):
    """The review window of "Random Password Mail": one contact (the mail, editable,
    before any password exists) or several (who receives one, who is skipped)."""

    _name = "random.password.mail"
    _description = "Random Password Mail"

    partner_ids = fields.Many2many("res.partner", string="Contacts", readonly=True)
    recipient_ids = fields.Many2many(
        "res.partner",
        "random_password_mail_recipient_rel",
        string="Recipients",
        readonly=True,
    )
    recipient_count = fields.Integer(compute="_compute_recipient_count")
    skipped_summary = fields.Text(string="Skipped", readonly=True)
    email_from = fields.Char(string="From", readonly=True)
    email_to = fields.Char(string="To", readonly=True)
    subject = fields.Char()
    body = fields.Html(sanitize_style=True)
    # fixed when the window opens: the mail under review is the one that goes out
    credential_mode = fields.Selection(
        CREDENTIAL_KINDS,
        string="The mail carries",
        default=lambda self: self.env["partner.login.credential"]._credential_mode(),
        readonly=True,
    )
    turns_on_login = fields.Boolean(readonly=True)
    is_single = fields.Boolean(readonly=True)

    @api.depends("recipient_ids")
    def _compute_recipient_count(self):
        for wizard in self:
            wizard.recipient_count = len(wizard.recipient_ids)

    # ------------------------------------------------------------------ opening

    @api.model
    def _check_sender(self):
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(
                self.env._("Only Website Login managers may send password mails.")
            )
        if not self.env.user.email:
            raise UserError(
                self.env._(
                    "Your user has no email address to send from: add one in your "
                    "preferences."
                )
            )
        # sudo: counting mail servers needs no more than knowing one exists
        if not self.env["ir.mail_server"].sudo().search_count(
            [], limit=1
        ) and not tools.config.get("smtp_server"):
            raise UserError(
                self.env._(
                    "No outgoing mail server is configured: add one in Settings > "
                    "Technical > Outgoing Mail Servers."
                )
            )

    @api.model
    def _open_for(self, partners):
        self._check_sender()
        partners = partners.filtered("id")
        if not partners:
            raise UserError(self.env._("Save the contact first."))
        # record rules: a manager acts only on contacts of their allowed companies
        partners.check_access("write")
        refusals = self.env["partner.login.eligibility"]._refusals(partners)
        if len(partners) == 1:
            if refusals:
                raise UserError(refusals[partners.id])
            wizard = self.create(self._single_values(partners))
        else:
            wizard = self.create(
                {
                    "partner_ids": partners.ids,
                    "recipient_ids": (partners - partners.browse(refusals)).ids,
                    "skipped_summary": "\n".join(
                        f"{partner.display_name}: {refusals[partner.id]}"
                        for partner in partners.browse(refusals)
                    ),
                    "is_single": False,
                }
            )
        if website_setting(self.env, "send_without_review") and wizard.is_single:
            return wizard.action_send()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Random Password Mail"),
            "res_model": self._name,
            "res_id": wizard.id,
            "view_mode": "form",
            "target": "new",
        }

    @api.model
    def _single_values(self, partner):
        mail = self.env["partner.login.mail"]
        mode = self.env["partner.login.credential"]._credential_mode()
        values = mail._values(partner, mail._template(TEMPLATE), mode)[partner.id]
        return {
            "partner_ids": partner.ids,
            "recipient_ids": partner.ids,
            "email_from": values["email_from"],
            "email_to": mail._recipient(partner),
            "subject": values["subject"],
            "body": values["body_html"],
            "credential_mode": mode,
            "turns_on_login": not partner.allow_login,
            "is_single": True,
        }

    # ------------------------------------------------------------------ sending

    def action_send(self):
        self.ensure_one()
        self._check_sender()
        self.recipient_ids.check_access("write")
        refusals = self.env["partner.login.eligibility"]._refusals(self.recipient_ids)
        partners = self.recipient_ids - self.recipient_ids.browse(refusals)
        if self.is_single and refusals:
            raise UserError(refusals[self.recipient_ids.id])
        reviewed = None
        if self.is_single:
            placeholder = CREDENTIAL_PLACEHOLDERS[self.credential_mode]
            if placeholder not in (self.body or ""):
                raise UserError(
                    self.env._(
                        "Keep %(placeholder)s in the message: the password or link "
                        "takes its place when the mail is sent.",
                        placeholder=placeholder,
                    )
                )
            # only what the window lets the operator edit: sender and recipient are
            # the template's and the contact's, whatever the record says
            reviewed = {"subject": self.subject, "body_html": self.body}
        # one contact: both or neither, the error undoes the password and the rest
        with self.env.cr.savepoint():
            outcome = self.env["partner.login.mailer"]._deliver(
                partners,
                self.env["partner.login.mail"]._template(TEMPLATE),
                self.credential_mode,
                reviewed=reviewed,
            )
            if self.is_single and outcome.failed:
                _logger.info("Password mail to partner %s not delivered", partners.id)
                raise UserError(
                    self.env._(
                        "The mail server did not deliver the password mail; no "
                        "password was issued. The server said: %(error)s",
                        error=next(iter(outcome.failed.values()))[1],
                    )
                )
        failures = [
            f"{partners.browse(partner_id).display_name}: {reason}"
            for partner_id, (_type, reason) in outcome.failed.items()
        ]
        if self.is_single:
            return self._notification(
                self.env._("Password mail sent to %(email)s.", email=partners.email),
                "success",
            )
        message = self.env._(
            "%(sent)s password mails sent, %(skipped)s contacts skipped.",
            sent=len(outcome.sent),
            skipped=len(self.partner_ids) - len(partners),
        )
        if failures:
            # no exception: it would roll back the passwords of mails delivered
            return self._notification(
                "\n".join([message, *failures]), "warning", sticky=True
            )
        return self._notification(message, "success")

    def _notification(self, message, kind, sticky=False):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Random Password Mail"),
                "message": message,
                "type": kind,
                "sticky": sticky,
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
