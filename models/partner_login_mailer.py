# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The SMTP transport of mails that carry passwords and links: which outgoing mail
server a mail takes (as Odoo's queue picks it), one SMTP session per server and
step, and what the server answered, sorted the way the invite protocol acts on it
(partner_login_delivery.py): accepted, try again later, slow down, or never.

Odoo's mail queue would keep each mail, with its secret in clear, in mail.mail until
its hourly job sent it: here the message is built by ``ir.mail_server.build_email``
and sent at once; the secret lives only in memory.
"""

import logging
import smtplib

from odoo import api, models, tools

from odoo.addons.base.models.ir_mail_server import MailDeliveryException

from .. import compat

_logger = logging.getLogger(__name__)

ACCEPTED = "accepted"
DEFERRED = "deferred"  # try again later: a 4xx, or the connection lost
THROTTLED = "throttled"  # the server takes no more now: slow it down, try again
REFUSED = "refused"  # a 5xx: never
INVALID = "invalid"  # an address ir.mail_server cannot send to: never
# answers that speak of the server's pace rather than of one recipient
THROTTLING_CODES = {421, 454}
THROTTLING_WORDS = ("throttl", "rate", "too many", "slow down")


class SendResult:
    """What the server made of one mail."""

    def __init__(self, kind, reason="", message_id=None):
        self.kind = kind
        self.reason = reason
        self.message_id = message_id

    @property
    def session_lost(self):
        return self.kind in (DEFERRED, THROTTLED)


def _answer(code, text):
    text = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    reason = f"{code} {text}".strip()
    if 400 <= code < 500:
        lowered = text.lower()
        if code in THROTTLING_CODES or any(
            word in lowered for word in THROTTLING_WORDS
        ):
            return SendResult(THROTTLED, reason)
        return SendResult(DEFERRED, reason)
    return SendResult(REFUSED, reason)


def classify(error):
    """The SendResult of an exception raised while sending one mail."""
    cause = error
    if isinstance(error, MailDeliveryException):  # Odoo wraps smtplib's error
        cause = error.__context__ or error
    if isinstance(cause, smtplib.SMTPRecipientsRefused) and cause.recipients:
        code, text = next(iter(cause.recipients.values()))
        return _answer(code, text)
    if isinstance(cause, smtplib.SMTPResponseException):
        return _answer(cause.smtp_code, cause.smtp_error)
    # after the answers: smtplib's errors are OSErrors too
    if isinstance(cause, smtplib.SMTPServerDisconnected | ConnectionError | OSError):
        return SendResult(
            DEFERRED,
            tools.exception_to_unicode(cause) or "the connection was lost",
        )
    if isinstance(cause, AssertionError):  # ir.mail_server's word for an address
        return SendResult(INVALID, str(cause))
    if len(getattr(error, "args", ())) > 1:  # ("Mail Delivery Failed", the words)
        return SendResult(REFUSED, str(error.args[1]))
    return SendResult(REFUSED, tools.exception_to_unicode(error))


class PartnerLoginMailer(models.AbstractModel):
    _name = "partner.login.mailer"
    _description = "SMTP transport of website login mails"

    @api.model
    def _servers(self):
        """The outgoing mail servers Odoo's queue chooses from."""
        # sudo: servers are configuration; a handful, as mail.mail reads them (no
        # user's personal server on 19.0)
        servers = self.env["ir.mail_server"].sudo()
        return servers.search(
            compat.shared_mail_servers_domain(servers), order="sequence, id"
        )

    @api.model
    def _route(self, values, servers):
        """(server id, SMTP sender, alias domain id): the way Odoo's queue picks the
        outgoing server for a mail (mail.mail._split_by_mail_configuration)."""
        alias_domain_id = values.get("record_alias_domain_id") or False
        sender = self._sender(alias_domain_id)
        emails_from = tools.mail.email_split_and_format_normalize(values["email_from"])
        email_from = emails_from[0] if emails_from else values["email_from"]
        if values.get("mail_server_id"):  # the template names its server
            return (values["mail_server_id"], email_from, alias_domain_id)
        server, smtp_from = sender._find_mail_server(email_from, servers)
        return (server.id if server else False, smtp_from, alias_domain_id)

    @api.model
    def _sender(self, alias_domain_id):
        """ir.mail_server as mail.mail uses it for the mail's company."""
        mail_server_model = self.env["ir.mail_server"].sudo()  # servers are config
        if not alias_domain_id:
            return mail_server_model
        alias_domain = self.env["mail.alias.domain"].sudo().browse(alias_domain_id)
        return mail_server_model.with_context(
            domain_notifications_email=alias_domain.default_from_email,
            domain_bounce_address=alias_domain.bounce_email,
        )

    @api.model
    def _session(self, sessions, route):
        """The step's SMTP session for ``route``, opened on first use.

        :returns: (session, None), or (None, SendResult) when the server cannot be
            reached (a connection refused is a temporary failure)
        """
        if sessions.get(route) is None:
            server_id, smtp_from, alias_domain_id = route
            try:
                sessions[route] = compat.smtp_connect(
                    self._sender(alias_domain_id),
                    mail_server_id=server_id,
                    smtp_from=smtp_from,
                )
            except Exception as error:  # noqa: BLE001 - any failure to connect
                result = classify(error)
                cause = getattr(error, "__context__", None) or error
                if not isinstance(cause, smtplib.SMTPResponseException):
                    result.kind = DEFERRED  # unreachable now: it may come back
                result.reason = self.env._(
                    "Unable to connect to the SMTP server: %(error)s",
                    error=tools.exception_to_unicode(error),
                )
                return None, result
        return sessions[route], None

    @api.model
    def _build(self, route, values, body, email_to):
        return compat.build_email(
            self._sender(route[2]),
            email_from=values["email_from"],
            email_to=email_to,
            subject=values["subject"],
            body=body,
            body_alternative=tools.html2plaintext(body),
            reply_to=values.get("reply_to"),
            # Odoo's tracking Message-Id, as its queue's mails have: without it
            # build_email's make_msgid() asks the resolver for the host's full name
            # on every mail (slow where reverse lookups are)
            object_id="website-login",
            attachments=values.get("attachments") or None,
            subtype="html",
            subtype_alternative="plain",
            headers=self._headers(values.get("record_alias_domain_id")),
        )

    @api.model
    def _headers(self, alias_domain_id):
        alias_domain = self.env["mail.alias.domain"].sudo().browse(alias_domain_id)
        bounce = alias_domain.bounce_email or self.env.company.bounce_email
        return {"Return-Path": bounce} if bounce else {}

    @api.model
    def _send(self, sessions, route, message, timeout=None):
        """Send one message on the route's session.

        :param timeout: seconds the server may take to answer (a step's time left)
        :returns: SendResult (its message_id once accepted)
        """
        session, failure = self._session(sessions, route)
        if failure:
            return failure
        sock = getattr(getattr(session, "__obj__", session), "sock", None)
        if timeout is not None and sock:
            sock.settimeout(max(timeout, 1.0))  # a slow server may not hold a step
        try:
            message_id = self._sender(route[2]).send_email(
                message, mail_server_id=route[0], smtp_session=session
            )
        except Exception as error:  # noqa: BLE001 - whatever the server did
            result = classify(error)
            if result.session_lost:
                self._close_session(sessions.pop(route, None))
            return result
        return SendResult(ACCEPTED, message_id=message_id)

    @api.model
    def _close_session(self, session):
        if session is None:
            return
        try:
            session.quit()
        except (smtplib.SMTPException, OSError):
            _logger.info("SMTP session already closed")

    @api.model
    def _close_sessions(self, sessions):
        for session in sessions.values():
            self._close_session(session)
        sessions.clear()
