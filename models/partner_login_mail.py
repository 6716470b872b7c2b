# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What the mails carrying a temporary password or link hold: rendered from their
mail.template in batch, with a placeholder where the secret goes until the moment
of sending (partner_login_mailer.py), and the chatter note each invite leaves."""

import base64

from markupsafe import escape

from odoo import api, fields, models, tools

from .mail_render_mixin import COMPILE_ONCE

# Stand for the password, or the set-password link, in a rendered mail until it
# exists: the operator reviews the mail with it, and it is replaced only when the
# mail goes out. The template receives it under the key of TEMPLATE_CREDENTIAL_KEYS.
CREDENTIAL_PLACEHOLDERS = {
    "password": "[[temporary-password]]",
    # a link's placeholder sits in an href, which the HTML sanitizer would URL-quote
    # unless it is a URL; ".invalid" (RFC 2606) leads nowhere should it ever leak
    "link": "https://set-password-link.invalid",
}
TEMPLATE_CREDENTIAL_KEYS = {
    "password": "website_password",
    "link": "website_set_password_url",
}


class PartnerLoginMail(models.AbstractModel):
    _name = "partner.login.mail"
    _description = "Mails that carry website login credentials"

    @api.model
    def _template(self, xmlid):
        return self.env.ref(xmlid).sudo()  # rendering: managers need no template rights

    @api.model
    def _values(self, partners, template, kind="password", expires_at=None):
        """Render ``template`` for each of ``partners``, in its language, in batch,
        with the placeholder where the password or link goes (filled in only at
        sending).
        Everything the template sets is used: sender, reply-to, CC, outgoing mail
        server, attachments (static and reports) and the notification layout.

        :param expires_at: the expiry the mail announces (default: if issued now)
        :param kind: what the mails carry, "password" or "link"
        :returns: {partner id: {subject, body_html, email_from, reply_to, email_cc,
            mail_server_id, attachments [(name, content, mimetype)], routing}}
        """
        if expires_at is None:
            expires_at = (
                fields.Datetime.now() + self.env["partner.login.credential"]._validity()
            )
        rendered = template.with_context(
            **{TEMPLATE_CREDENTIAL_KEYS[kind]: CREDENTIAL_PLACEHOLDERS[kind]},
            website_password_expires=expires_at,
            **{COMPILE_ONCE: True},
        )._generate_template(
            partners.ids,
            (
                "subject",
                "body_html",
                "email_from",
                "reply_to",
                "email_cc",
                "mail_server_id",
                "attachment_ids",
                "report_template_ids",
            ),
        )
        static_attachments = [
            (attachment.name, attachment.raw, attachment.mimetype)
            for attachment in template.attachment_ids
        ]
        mails = {}
        for partner in partners:
            values = rendered[partner.id]
            body = values.get("body_html") or ""
            if template.email_layout_xmlid:
                body = self._in_layout(partner, template, body)
            mails[partner.id] = {
                "subject": values.get("subject"),
                "body_html": body,
                "email_from": values.get("email_from"),
                "reply_to": values.get("reply_to"),
                "email_cc": values.get("email_cc") or False,
                "mail_server_id": values.get("mail_server_id") or False,
                "attachments": static_attachments
                + [
                    (name, base64.b64decode(content), None)
                    for name, content in values.get("attachments") or ()
                ],
                **self._routing(partner),
            }
        return mails

    @api.model
    def _in_layout(self, partner, template, body):
        """The body inside the template's notification layout, rendered as
        ``mail.template.send_mail`` renders it (this path builds no mail.mail)."""
        lang = (
            template._render_lang(partner.ids)[partner.id] if template.lang else False
        )
        model = self.env["ir.model"]._get(partner._name)
        model = model.with_context(lang=lang) if lang else model
        company = partner._website_mail_company()
        layout_values = {
            "message": self.env["mail.message"]
            .sudo()
            .new({"body": body, "record_name": partner.display_name}),
            "subtype": self.env["mail.message.subtype"].sudo(),
            "model_description": model.display_name,
            "record": partner,
            "record_name": False,
            "subtitles": False,
            "company": company,
            "email_add_signature": False,
            "signature": "",
            "website_url": "",
            "is_html_empty": tools.is_html_empty,
        }
        wrapped = model.env["ir.qweb"]._render(
            template.email_layout_xmlid,
            layout_values,
            minimal_qcontext=True,
            raise_if_not_found=False,
        )
        if not wrapped:
            return body
        return self.env["mail.render.mixin"]._replace_local_links(wrapped)

    @api.model
    def _routing(self, partner):
        """Send through the mail configuration of the contact's company: Odoo picks
        its outgoing server, bounce address and, when the sender's own address
        cannot be sent from there, its notification address."""
        company = partner._website_mail_company()
        return {
            "record_company_id": company.id,
            "record_alias_domain_id": company.alias_domain_id.id,
        }

    @api.model
    def _recipient(self, partner):
        """The one address a password mail goes to: the contact's own, whatever a
        template or a caller says, with a name that cannot break the header."""
        name = " ".join((partner.name or "").split())  # no line break in To:
        return tools.formataddr((name, partner.email_normalized))

    @api.model
    def _fill_secret(self, body, kind, secret):
        """The mail body with the password or link in place of its placeholder."""
        # escape() gives Markup, which a Markup body does not escape a second time
        return body.replace(CREDENTIAL_PLACEHOLDERS[kind], escape(secret))

    @api.model
    def _post_notes(self, partners, expires_at, kind="password", run=None, granted=()):
        """A note on each of ``partners`` that its mail went out: when, by whom or which
        run, valid until, password or link; never the secret. One insert.

        :param granted: ids of the contacts whose portal user was just made: their
            note starts with Odoo's "Portal Access Granted"
        """
        if not partners:
            return
        expiry = tools.format_datetime(self.env, expires_at, tz=self.env.user.tz)
        sender = run.display_name if run else self.env.user.name
        granted_text = self.env["res.users"]._get_portal_access_update_body(True)
        bodies = {}
        for partner in partners:
            if kind == "link":
                body = self.env._(
                    "Set-password link sent to %(email)s by %(user)s, valid until "
                    "%(expiry)s.",
                    email=partner.email_normalized,
                    user=sender,
                    expiry=expiry,
                )
            else:
                body = self.env._(
                    "Password mail sent to %(email)s by %(user)s, valid until "
                    "%(expiry)s.",
                    email=partner.email_normalized,
                    user=sender,
                    expiry=expiry,
                )
            if partner.id in granted:
                body = f"{granted_text}. {body}"
            bodies[partner.id] = escape(body)  # plain text, as message_post escapes
        # sudo: the notes are the addon's record of what it did (rights checked by
        # the callers: a manager, or the scheduler)
        partners.sudo()._message_log_batch(bodies)
