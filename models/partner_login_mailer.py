# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Delivery of temporary passwords and set-password links, straight over SMTP.

Odoo's mail queue would keep each mail, with its secret in clear, in mail.mail until
its hourly job (about 40 mails/s, beyond the cron time limit above ~4,800 mails) sent
it. Here a secret lives only in memory between rendering and SMTP: the messages are
built by ``ir.mail_server.build_email`` and sent on one SMTP session per mail server,
as the queue would, and only the outcome is written down.
"""

import logging
import smtplib
import time
from collections import defaultdict

from markupsafe import escape

from odoo import api, models, tools

from .. import compat
from .partner_login_mail import CREDENTIAL_PLACEHOLDERS
from .res_partner import NOTE_PORTAL_ACCESS_LATER

_logger = logging.getLogger(__name__)


class DeliveryOutcome:
    """What came of one delivery: contacts whose mail the SMTP server accepted,
    contacts whose mail failed ({partner id: reason}) and contacts not tried before
    the deadline (their credentials revoked, to be invited again)."""

    def __init__(self, partners):
        self.sent = partners.browse()
        self.failed = {}
        self.unsent = partners.browse()


class PartnerLoginMailer(models.AbstractModel):
    _name = "partner.login.mailer"
    _description = "Delivery of temporary website credentials over SMTP"

    @api.model
    def _deliver(
        self,
        partners,
        template,
        kind,
        run=None,
        deadline=None,
        sessions=None,
        auto_commit=False,
        reviewed=None,
    ):
        """Issue a password (or link) to each contact and mail it at once.

        Order: the credentials are written (and, with ``auto_commit``, committed,
        marked "sending"), then the mails go out, then the outcome is written. A
        crash while sending leaves "sending" credentials, which the next step of the
        run revokes and issues again: nobody keeps a password nobody sent them for
        long, a contact may get a second mail, nobody is lost.

        :param run: the bulk run the mails belong to (chatter notes name it)
        :param deadline: ``time.monotonic()`` after which no more mail is started
        :param sessions: {server key: SMTP session} kept open by the caller across
            calls (one connection per step and server); closed by the caller
        :param reviewed: {"subject", "body_html"} edited by an operator, with the
            placeholder in place of the secret (Random Password Mail on one contact)
        :returns: a DeliveryOutcome
        """
        outcome = DeliveryOutcome(partners)
        if not partners:
            return outcome
        granted = set(
            partners.filtered(lambda partner: not partner.website_user_id).ids
        )
        credentials = self.env["partner.login.credential"]
        mail = self.env["partner.login.mail"]
        secrets_by_partner, expires_at = credentials.with_context(
            **{NOTE_PORTAL_ACCESS_LATER: True}
        )._issue(partners, kind)
        credentials._set_sending(partners, True, run)
        mails = mail._values(partners, template, kind, expires_at)
        if reviewed:
            for values in mails.values():
                values.update(reviewed)
        if auto_commit:
            # the credentials must be committed before any mail holding them goes
            # out, so that a crash can be recovered from (see the docstring)
            self.env.cr.commit()  # pylint: disable=invalid-commit

        own_sessions = sessions is None
        sessions = {} if own_sessions else sessions
        try:
            self._send_all(
                partners, mails, secrets_by_partner, kind, outcome, deadline, sessions
            )
        finally:
            secrets_by_partner.clear()  # the clear secrets end here
            if own_sessions:
                self._close_sessions(sessions)

        credentials._set_sending(outcome.sent, False)
        outcome.sent._count_website_invites(by_run=bool(run))
        credentials._revoke_for(partners.browse(outcome.failed) | outcome.unsent)
        self._keep_failed_mails(partners, mails, outcome.failed)
        mail._post_notes(outcome.sent, expires_at, kind, run, granted)
        if granted_unsent := partners.browse(granted) - outcome.sent:
            # their portal user stays: Odoo's own note says so
            granted_unsent.sudo()._message_log_batch(
                dict.fromkeys(
                    granted_unsent.ids,
                    self.env["res.users"]._get_portal_access_update_body(True),
                )
            )
        return outcome

    # ------------------------------------------------------------------ SMTP

    @api.model
    def _send_all(
        self, partners, mails, secrets_by_partner, kind, outcome, deadline, sessions
    ):
        mail_server_model = self.env["ir.mail_server"].sudo()  # servers are config
        # a handful of configured servers, as mail.mail reads them (users' personal
        # servers left out, as Odoo does when it picks the server)
        servers = mail_server_model.search(
            compat.shared_mail_servers_domain(mail_server_model), order="sequence, id"
        )
        by_route = defaultdict(list)
        for partner in partners:
            values = mails[partner.id]
            by_route[self._route(mail_server_model, values, servers)].append(partner)
        for (server_id, smtp_from, alias_domain_id), members in by_route.items():
            sender = self._sender(mail_server_model, alias_domain_id)
            key = (server_id, smtp_from, alias_domain_id)
            pending = list(members)
            while pending:
                # past the deadline, no new mail; but one at least per call, so
                # that every step moves forward however slow the server
                tried = outcome.sent or outcome.failed
                if deadline is not None and tried and time.monotonic() >= deadline:
                    break
                try:
                    session = sessions.get(key)
                    if session is None:
                        session = sessions[key] = compat.smtp_connect(
                            sender, mail_server_id=server_id, smtp_from=smtp_from
                        )
                except Exception as error:  # noqa: BLE001 - any failure to connect
                    reason = self.env._(
                        "Unable to connect to the SMTP server: %(error)s",
                        error=tools.exception_to_unicode(error),
                    )
                    for partner in pending:
                        outcome.failed[partner.id] = ("mail_smtp", reason)
                    pending = []
                    break
                partner = pending.pop(0)
                values = mails[partner.id]
                sock = getattr(getattr(session, "__obj__", session), "sock", None)
                if deadline is not None and sock:
                    # a slow server may not hold the step past its deadline
                    sock.settimeout(max(deadline - time.monotonic(), 1.0))
                body = self.env["partner.login.mail"]._fill_secret(
                    values["body_html"], kind, secrets_by_partner[partner.id]
                )
                try:
                    message = self._build(
                        sender,
                        values,
                        body,
                        [self.env["partner.login.mail"]._recipient(partner)],
                    )
                    sender.send_email(
                        message, mail_server_id=server_id, smtp_session=session
                    )
                    outcome.sent |= partner
                    if values.get("email_cc"):
                        self._send_cc_copy(sender, values, partner, session, server_id)
                except (smtplib.SMTPServerDisconnected, OSError) as error:
                    # the session is gone: this mail failed (the server may or may
                    # not have taken it: its password is revoked to be sure), the
                    # others wait for a new session
                    sessions.pop(key, None)
                    outcome.failed[partner.id] = (
                        "mail_smtp",
                        tools.exception_to_unicode(error),
                    )
                except AssertionError as error:
                    # ir.mail_server's word for a recipient or sender it cannot use
                    outcome.failed[partner.id] = ("mail_email_invalid", str(error))
                except Exception as error:  # noqa: BLE001 - refused by the server
                    outcome.failed[partner.id] = (
                        "mail_smtp",
                        self._failure_reason(error),
                    )
            outcome.unsent |= partners.browse([p.id for p in pending])
        tried = outcome.sent.ids + list(outcome.failed) + outcome.unsent.ids
        outcome.unsent |= partners.filtered(lambda partner: partner.id not in tried)

    @api.model
    def _build(self, sender, values, body, email_to):
        return compat.build_email(
            sender,
            email_from=values["email_from"],
            email_to=email_to,
            subject=values["subject"],
            body=body,
            body_alternative=tools.html2plaintext(body),
            reply_to=values.get("reply_to"),
            attachments=values.get("attachments") or None,
            subtype="html",
            subtype_alternative="plain",
            headers=self._headers(values.get("record_alias_domain_id")),
        )

    @api.model
    def _send_cc_copy(self, sender, values, partner, session, server_id):
        """The template's CC gets its own copy of the mail, with a notice where the
        password or link was: a secret goes to its owner only (a template is
        editable by more people than may read passwords)."""
        notice = self.env._("[sent to %(contact)s only]", contact=partner.name)
        body = values["body_html"]
        for placeholder in CREDENTIAL_PLACEHOLDERS.values():
            body = body.replace(placeholder, str(escape(notice)))
        copy_to = tools.mail.email_split_and_format_normalize(values["email_cc"])
        try:
            sender.send_email(
                self._build(sender, values, body, copy_to),
                mail_server_id=server_id,
                smtp_session=session,
            )
        except Exception as error:  # noqa: BLE001 - the contact's own mail went out
            _logger.info(
                "CC copy of the website login mail to contact %s failed: %s",
                partner.id,
                tools.exception_to_unicode(error),
            )

    @api.model
    def _route(self, mail_server_model, values, servers):
        """(server id, SMTP sender, alias domain id): the way Odoo's queue picks the
        outgoing server for a mail (mail.mail._split_by_mail_configuration)."""
        alias_domain_id = values.get("record_alias_domain_id") or False
        sender = self._sender(mail_server_model, alias_domain_id)
        emails_from = tools.mail.email_split_and_format_normalize(values["email_from"])
        email_from = emails_from[0] if emails_from else values["email_from"]
        if values.get("mail_server_id"):  # the template names its server
            return (values["mail_server_id"], email_from, alias_domain_id)
        server, smtp_from = sender._find_mail_server(email_from, servers)
        return (server.id if server else False, smtp_from, alias_domain_id)

    @api.model
    def _sender(self, mail_server_model, alias_domain_id):
        if not alias_domain_id:
            return mail_server_model
        alias_domain = self.env["mail.alias.domain"].sudo().browse(alias_domain_id)
        return mail_server_model.with_context(
            domain_notifications_email=alias_domain.default_from_email,
            domain_bounce_address=alias_domain.bounce_email,
        )

    @api.model
    def _headers(self, alias_domain_id):
        alias_domain = self.env["mail.alias.domain"].sudo().browse(alias_domain_id)
        bounce = alias_domain.bounce_email or self.env.company.bounce_email
        return {"Return-Path": bounce} if bounce else {}

    @api.model
    def _failure_reason(self, error):
        # MailDeliveryException carries ("Mail Delivery Failed", the server's words)
        if len(getattr(error, "args", ())) > 1:
            return str(error.args[1])
        return tools.exception_to_unicode(error)

    @api.model
    def _close_sessions(self, sessions):
        for session in sessions.values():
            if session is None:
                continue
            try:
                session.quit()
            except (smtplib.SMTPException, OSError):
                _logger.info("SMTP session already closed")
        sessions.clear()

    # ------------------------------------------------------------------ failures

    @api.model
    def _keep_failed_mails(self, partners, mails, failures):
        """A failed invite shows as a failed mail in Odoo's usual place, with the
        server's reason and without the secret."""
        if not failures:
            return
        # the failed mail kept in Odoo's usual place, without the secret it carried
        body = escape(
            self.env._(
                "This mail carried a temporary password or a set-password link. It "
                "could not be delivered, so the password or link was revoked and is "
                "not kept here."
            )
        )
        self.env["mail.mail"].sudo().create(  # managers have no rights on mail.mail
            [
                {
                    "subject": mails[partner_id]["subject"],
                    "email_from": mails[partner_id]["email_from"],
                    "email_to": self.env["partner.login.mail"]._recipient(
                        partners.browse(partner_id)
                    ),
                    "body_html": f"<p>{body}</p>",
                    "message_type": "user_notification",
                    "state": "exception",
                    "failure_type": failure_type,
                    "failure_reason": reason,
                    "auto_delete": False,
                    "record_company_id": mails[partner_id].get("record_company_id"),
                    "record_alias_domain_id": mails[partner_id].get(
                        "record_alias_domain_id"
                    ),
                }
                for partner_id, (failure_type, reason) in failures.items()
            ]
        )
        _logger.info("Website credential mails failed for %s contacts", len(failures))
