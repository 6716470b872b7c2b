# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from markupsafe import Markup, escape

from odoo import Command, api, fields, models, tools
from odoo.exceptions import AccessError, UserError

from ..models.partner_login_credential import CREDENTIAL_KINDS
from ..models.website_login_settings import MANAGER_GROUP, website_setting

_logger = logging.getLogger(__name__)

TEMPLATE = "partner_website_login.mail_template_random_password"


class RandomPasswordMail(models.TransientModel):
    """The "Random Password Mail" window, shaped like Odoo's portal.wizard: a line per
    selected contact (it receives a mail, or why not) and, when exactly one contact
    receives it, its mail to read and edit before any password exists."""

    _name = "random.password.mail"
    _description = "Random Password Mail"

    line_ids = fields.One2many(
        "random.password.mail.line", "wizard_id", string="Contacts"
    )
    recipient_count = fields.Integer(compute="_compute_recipients")
    # exactly one recipient when the window opened: it shows its mail, sent as
    # edited or not at all (unticking lines later does not make a review of it)
    reviewable = fields.Boolean(readonly=True)
    replaces_count = fields.Integer(compute="_compute_recipients")
    turns_on_login = fields.Boolean(compute="_compute_recipients")
    several_contacts = fields.Boolean(compute="_compute_recipients")
    # fixed when the window opens: the mail under review is the one that goes out
    credential_mode = fields.Selection(
        CREDENTIAL_KINDS,
        string="The mail carries",
        default=lambda self: self.env["partner.login.credential"]._credential_mode(),
        readonly=True,
    )
    email_from = fields.Char(string="From", readonly=True)
    email_to = fields.Char(string="To", compute="_compute_recipients")
    subject = fields.Char()
    body = fields.Html(sanitize_style=True)
    # what stands for the secret in the mail (partner_login_mail.py), and what the
    # operator reads in its place: words, where they were nowhere in the mail
    placeholder = fields.Char(readonly=True)
    placeholder_text = fields.Char(string="In Its Place", readonly=True)

    @api.depends(
        "line_ids.refusal",
        "line_ids.turns_on_login",
        "line_ids.email_to",
        "line_ids.send",
        "line_ids.replaces_own_password",
    )
    def _compute_recipients(self):
        for wizard in self:
            recipients = wizard.line_ids.filtered(
                lambda line: line.send and not line.refusal
            )
            wizard.recipient_count = len(recipients)
            wizard.turns_on_login = any(recipients.mapped("turns_on_login"))
            wizard.replaces_count = len(recipients.filtered("replaces_own_password"))
            wizard.several_contacts = len(wizard.line_ids) > 1
            wizard.email_to = (
                recipients.email_to if wizard.reviewable and recipients else False
            )

    @api.model
    def _open_for(self, partners):
        """The window for ``partners`` (the button, the Action menu)."""
        self._check_sender()
        partners = partners.filtered("id")
        if not partners:
            raise UserError(self.env._("Save the contact first."))
        # record rules: a manager acts only on contacts of their allowed companies
        partners.check_access("write")
        refusals = self.env["partner.login.eligibility"]._refusals(partners)
        if len(partners) == 1 and refusals:
            raise UserError(refusals[partners.id][1])
        reviewable = len(partners) - len(refusals) == 1
        wizard = self.create(
            {
                "line_ids": self._line_commands(partners, refusals, reviewable),
                "reviewable": reviewable,
            }
        )
        if wizard.reviewable:
            wizard.write(wizard._mail_under_review())
            if (
                len(partners) == 1
                and website_setting(self.env, "send_without_review")
                and partners.website_access_state
                != "active"  # never a chosen one silently
            ):
                return wizard.action_send()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Random Password Mail"),
            "res_model": self._name,
            "res_id": wizard.id,
            "view_mode": "form",
            "target": "new",
            # room for each contact's whole name beside its access and last login
            "context": {"dialog_size": "extra-large"} if len(partners) > 1 else {},
        }

    def action_send(self):
        """The "Send" button."""
        self.ensure_one()
        self._check_sender()
        if self.reviewable:
            return self._send_reviewed_mail()
        return self._send_mails()

    # ------------------------------------------------------------------ helpers

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
    def _line_commands(self, partners, refusals, reviewable):
        """A line per contact; among several, a contact with a password of its own
        is ticked only by the operator (the mail would replace that password)."""
        mail = self.env["partner.login.mail"]
        messages = {
            partner_id: message for partner_id, (_rule, message) in refusals.items()
        }
        return [
            Command.create(
                {
                    "partner_id": partner.id,
                    "email_to": partner.email
                    if partner.id in refusals
                    else mail._recipient(partner),
                    "refusal": messages.get(partner.id),
                    "send": partner.id not in refusals
                    and (reviewable or partner.website_access_state != "active"),
                    "turns_on_login": not partner.allow_login,
                }
            )
            for partner in partners
        ]

    def _mail_under_review(self):
        partner = self.line_ids.filtered(
            lambda line: line.send and not line.refusal
        ).partner_id
        mail = self.env["partner.login.mail"]
        values = mail._values(partner, mail._template(TEMPLATE), self.credential_mode)
        body = str(values[partner.id]["body_html"])
        placeholder = values[partner.id]["placeholder"]
        shown = placeholder
        # a link's stand-in is an address nobody reads; a password's is in the text
        words = str(escape(self._placeholder_words()))
        if self.credential_mode == "password" and words not in body:
            body, shown = body.replace(placeholder, words), words
        return {
            "email_from": values[partner.id]["email_from"],
            "subject": values[partner.id]["subject"],
            "body": body,
            "placeholder": placeholder,
            "placeholder_text": shown,
        }

    def _placeholder_words(self):
        return self.env._("[temporary password, made when the mail goes out]")

    def _body_to_send(self):
        """The reviewed body with the placeholder back where the operator left the
        words that stand for it, or None unless they are there exactly once (the
        words were nowhere else in the mail: any second place is the operator's)."""
        body = str(self.body or "")
        shown = self.placeholder_text or self.placeholder
        if shown == self.placeholder:
            return body
        if body.count(shown) != 1 or self.placeholder in body:
            return None
        return body.replace(shown, self.placeholder)

    def _recipients(self):
        """The contacts the window sends to, checked again: it may have stayed open
        while somebody changed them."""
        partners = self.line_ids.filtered(
            lambda line: line.send and not line.refusal
        ).partner_id
        if not partners:
            raise UserError(self.env._("Tick at least one contact to send to."))
        partners.check_access("write")
        refusals = self.env["partner.login.eligibility"]._refusals(partners)
        if self.reviewable and refusals:
            raise UserError(refusals[partners.id][1])
        return partners - partners.browse(refusals)

    def _deliver(self, partners, reviewed=None):
        """The mails to ``partners`` (the window's ``_recipients``), as a run of
        their own (partner.invite.worker, ``_send_now``), which lists the window's
        other contacts as skipped."""
        return self.env["partner.invite.worker"]._send_now(
            partners,
            reviewed=reviewed,
            credential_mode=self.credential_mode,
            left_out=self._left_out(partners),
            checked=True,  # by _recipients, in this request
        )

    def _left_out(self, partners):
        """{(rule, why): contact ids} of the window's other contacts (refused, or
        unticked by the operator): the run's Skipped count is the "left out" of
        the window's notification."""
        left_out = self.line_ids.partner_id - partners
        if not left_out:
            return {}
        refusals = self.env["partner.login.eligibility"]._refusals(left_out)
        unticked = (False, self.env._("Unticked in the Random Password Mail window"))
        grouped = {}
        for partner in left_out:
            grouped.setdefault(refusals.get(partner.id, unticked), []).append(
                partner.id
            )
        return grouped

    def _retry_text(self, run):
        """When the worker job tries again, in the operator's time zone."""
        run = run.sudo()  # the run's progress, read for this notification
        return tools.format_datetime(
            self.env, run.next_attempt_at, tz=self.env.user.tz, dt_format="short"
        )

    def _send_reviewed_mail(self):
        """The one mail as the operator left it, or nothing at all: a refused mail
        undoes its password; one the server asks to try again later goes out by
        itself shortly."""
        mail = self.env["partner.login.mail"]
        body = self._body_to_send()
        if body is None or not mail._secret_in_one_place(
            body, self.credential_mode, self.placeholder
        ):
            raise UserError(
                self.env._(
                    "Keep %(placeholder)s once in the message, as it was: the "
                    "password or link takes its place when the mail is sent, and "
                    "only there (never in an image or a second link, and a link "
                    "with no other attribute than style, class, title, target and "
                    "rel).",
                    placeholder=self.placeholder_text or self.placeholder,
                )
            )
        partner = self._recipients()
        with self.env.cr.savepoint():
            # only what the window lets the operator edit: sender and recipient are
            # the template's and the contact's, whatever the record says
            run, outcome = self._deliver(
                partner,
                reviewed={
                    "subject": self.subject,
                    "body_html": Markup(body),  # the operator's, sanitized on write
                    "placeholder": self.placeholder,
                },
            )
            errors = list(outcome.failed.values()) + [
                reason for name, reason in outcome.refused.values() if name == "failed"
            ]
            if errors:
                _logger.info("Password mail to partner %s not delivered", partner.id)
                raise UserError(
                    self.env._(
                        "The mail server did not deliver the password mail; no "
                        "password was issued. The server said: %(error)s",
                        error=errors[0],
                    )
                )
        if not outcome.sent:
            return self._notification(
                self.env._(
                    "The mail server asked to send the mail to %(email)s later: it "
                    "goes out again by itself at %(when)s (no password works until "
                    "then). Its run is in Contacts > Website Invites.",
                    email=partner.email,
                    when=self._retry_text(run),
                ),
                "warning",
                sticky=True,
            )
        return self._notification(
            self.env._("Set-password link sent to %(email)s.", email=partner.email)
            if self.credential_mode == "link"
            else self.env._("Password mail sent to %(email)s.", email=partner.email),
            "success",
        )

    def _send_mails(self):
        """A mail to each recipient; a refused one leaves the others delivered."""
        partners = self._recipients()
        run, outcome = self._deliver(partners)
        waiting = len(outcome.deferred) + len(outcome.untried)
        message = self._sent_text(len(outcome.sent), len(self.line_ids) - len(partners))
        lines = [message]
        if waiting:
            lines.append(
                self.env._(
                    "%(count)s to send again at %(when)s: the mail server asked to "
                    "try later.",
                    count=waiting,
                    when=self._retry_text(run),
                )
            )
        failures = dict(outcome.failed)
        failures.update(
            (line_id, reason)
            for line_id, (name, reason) in outcome.refused.items()
            if name == "failed"
        )
        run_lines = self.env["partner.invite.run.line"].sudo()  # this run's lines
        lines += [
            f"{run_lines.browse(line_id).partner_id.display_name}: {reason}"
            for line_id, reason in failures.items()
        ]
        if failures or waiting:
            # no exception: it would roll back the passwords of mails delivered
            return self._notification("\n".join(lines), "warning", sticky=True)
        return self._notification(message, "success")

    def _sent_text(self, sent, skipped):
        """ "3 mails sent, 1 contact left out." in words that fit the numbers."""
        if self.credential_mode == "link":
            sent_text = (
                self.env._("1 set-password link sent")
                if sent == 1
                else self.env._("%(count)s set-password links sent", count=sent)
            )
        else:
            sent_text = (
                self.env._("1 password mail sent")
                if sent == 1
                else self.env._("%(count)s password mails sent", count=sent)
            )
        if not skipped:
            return self.env._("%(sent)s.", sent=sent_text)
        skipped_text = (
            self.env._("1 contact left out")
            if skipped == 1
            else self.env._("%(count)s contacts left out", count=skipped)
        )
        return self.env._(
            "%(sent)s, %(skipped)s.", sent=sent_text, skipped=skipped_text
        )

    def _notification(self, message, kind, sticky=False):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Random Password Mail"),
                "message": message,
                "type": kind,
                "sticky": sticky,
                "className": "o_website_login_lines",  # one line per contact
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
