# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What the mails carrying a temporary password or link hold: rendered from their
mail.template in batch, with a placeholder where the secret goes until the moment
of sending (partner_login_mailer.py), and the chatter note each invite leaves."""

import base64
import re
import secrets
import textwrap

from lxml import etree, html
from markupsafe import Markup, escape

from odoo import api, fields, models, tools

from .mail_render_mixin import COMPILE_ONCE

TEMPLATE_CREDENTIAL_KEYS = {
    "password": "website_password",
    "link": "website_set_password_url",
}


# What the link that carries the set-password address may hold besides it.
LINK_ATTRIBUTES = {"href", "style", "class", "title", "target", "rel"}


def one_line(text):
    """A mail header's text on one line: Python's mail library refuses a header
    with a line break (a company's name, which any employee may write, could hold
    one), and that would stop every login mail of that company."""
    return " ".join(text.split()) if text else text


def new_placeholder(kind):
    """What stands for the password, or the set-password link, in a rendered mail
    until the mail goes out: the operator reviews the mail with it, and the secret
    takes its place when the mail is sent (``_fill_secret``). Its random part means
    that nothing written before the rendering (a company's website, a contact's
    name, a layout) can hold it, so the secret lands only where the template puts
    it. A link's stand-in is a URL (the HTML sanitizer would quote anything else in
    an href) under ".invalid" (RFC 2606), which leads nowhere should it leak."""
    nonce = secrets.token_hex(8)
    if kind == "link":
        return f"https://set-password-{nonce}.invalid"
    return f"[[temporary-password-{nonce}]]"


class PartnerLoginMail(models.AbstractModel):
    _name = "partner.login.mail"
    _description = "Mails that carry website login credentials"

    @api.model
    def _template(self, xmlid):
        return self.env.ref(xmlid).sudo()  # rendering: managers need no template rights

    @api.model
    def _values(
        self, partners, template, kind="password", expires_at=None, layouts=None
    ):
        """Render ``template`` for each of ``partners``, in its language, in batch,
        with the placeholder where the password or link goes (filled in only at
        sending).
        Everything the template sets is used: sender, reply-to, CC, outgoing mail
        server, attachments (static and reports) and the notification layout.

        :param expires_at: the expiry the mail announces (default: if issued now)
        :param kind: what the mails carry, "password" or "link"
        :param layouts: a dict the caller keeps across the batches of a run's step
            (see ``_in_layout``): creating portal users clears Odoo's cache of
            compiled templates, so each batch would compile the layout again
        :returns: {partner id: {subject, body_html, email_from, reply_to, email_cc,
            mail_server_id, attachments [(name, content, mimetype)], placeholder,
            routing}}
        """
        placeholder = new_placeholder(kind)
        if expires_at is None:
            expires_at = (
                fields.Datetime.now() + self.env["partner.login.credential"]._validity()
            )
        rendered = template.with_context(
            **{TEMPLATE_CREDENTIAL_KEYS[kind]: placeholder},
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
        # {(template, layout, company id, language): the layout, rendered once},
        # unless it reads the contact
        layouts = {} if layouts is None else layouts
        if template.email_layout_xmlid:
            per_contact_key = ("per contact", template.email_layout_xmlid)
            if per_contact_key not in layouts:
                layouts[per_contact_key] = self._layout_is_per_contact(
                    template.email_layout_xmlid
                )
            if layouts[per_contact_key]:
                layouts = None
        # the languages as Odoo renders them, in one pass over the batch
        langs = template._render_lang(partners.ids) if template.lang else {}
        for partner in partners:
            values = rendered[partner.id]
            body = values.get("body_html") or ""
            if template.email_layout_xmlid:
                body = self._in_layout(
                    partner,
                    template,
                    body,
                    placeholder,
                    layouts,
                    lang=langs.get(partner.id, False),
                )
            mails[partner.id] = {
                # a line break (a company's name may hold one) would stop the mail
                "subject": one_line(values.get("subject")),
                "body_html": body,
                "email_from": one_line(values.get("email_from")),
                "reply_to": one_line(values.get("reply_to")),
                "email_cc": values.get("email_cc") or False,
                "mail_server_id": values.get("mail_server_id") or False,
                "attachments": static_attachments
                + [
                    (name, base64.b64decode(content), None)
                    for name, content in values.get("attachments") or ()
                ],
                "placeholder": placeholder,
                **self._routing(partner),
            }
        return mails

    @api.model
    def _in_layout(self, partner, template, body, placeholder, layouts=None, lang=None):
        """The body inside the template's notification layout, rendered as
        ``mail.template.send_mail`` renders it (this path builds no mail.mail). The
        layout's hidden preview text (what a mail program lists under the subject)
        never carries the secret.

        :param layouts: a dict the caller keeps across the contacts of a batch,
            or the batches of a step: the layout is rendered once per company and
            language, around stand-ins for what differs per contact (body, record
            name, preview), instead of once per contact (a QWeb rendering each,
            and a compilation after a batch has made portal users, which clears
            Odoo's cache of compiled templates)
        :param lang: the contact's language as the template renders it, when the
            caller rendered it for a batch
        """
        if lang is None:
            lang = (
                template._render_lang(partner.ids)[partner.id]
                if template.lang
                else False
            )
        company = partner._website_mail_company()
        key = (template.id, template.email_layout_xmlid, company.id, lang)
        if layouts is not None and key in layouts:
            layout = layouts[key]
        else:
            layout = self._layout_around_stand_ins(template, partner, company, lang)
            if layouts is not None:
                layouts[key] = layout
        if layout is None:
            return body
        wrapper, stand_ins = layout
        preview = tools.mail.html_to_inner_content(body)  # as mail.message's preview
        preview = textwrap.shorten(preview, 190).replace(placeholder, "…")
        # the person's own name under "Your website login", not "Company, Person"
        record_name = (partner.name or "").replace("/", "-")  # as the layout
        return type(wrapper)(
            str(wrapper)
            .replace(stand_ins["preview"], str(escape(preview)))
            .replace(stand_ins["record_name"], str(escape(record_name)))
            .replace(stand_ins["body"], str(body))
        )

    @api.model
    def _layout_around_stand_ins(self, template, partner, company, lang):
        """(the layout rendered for ``company`` in ``lang`` with random stand-ins
        for the body, the record name and the preview, {what: its stand-in}), or
        None when the layout does not exist."""
        stand_ins = {
            what: f"pwl{what.replace('_', '')}{secrets.token_hex(8)}"
            for what in ("body", "record_name", "preview")
        }
        model = self.env["ir.model"]._get(partner._name)
        model = model.with_context(lang=lang) if lang else model
        message = (
            self.env["mail.message"]
            .sudo()  # an unsaved message, only rendered
            .new(
                {
                    "body": Markup(stand_ins["body"]),
                    "record_name": stand_ins["record_name"],
                }
            )
        )
        message.preview = stand_ins["preview"]
        layout_values = {
            "message": message,
            "subtype": self.env["mail.message.subtype"].sudo(),
            # the layout's heading: "Your website login", not "Your Contact"
            "model_description": self.with_context(lang=lang).env._("website login")
            if lang
            else self.env._("website login"),
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
            return None
        return self.env["mail.render.mixin"]._replace_local_links(wrapped), stand_ins

    @api.model
    def _layout_is_per_contact(self, xmlid):
        """Whether the layout ``xmlid`` reads the contact itself (``record``), so
        that it cannot be rendered once for a batch: Odoo's light layout does not,
        a layout of one's own may."""
        view = self.env.ref(xmlid, raise_if_not_found=False)
        if not view or view._name != "ir.ui.view":
            return False
        arch = view.sudo()._get_combined_arch()  # reading a layout, not editing it
        text = etree.tostring(arch, encoding="unicode")
        return bool(re.search(r"\brecord\b(?!_name)", text))

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
        return tools.formataddr(
            (one_line(partner.name or ""), partner.email_normalized)
        )

    @api.model
    def _fill_secret(self, body, kind, placeholder, secret):
        """The mail body with the password or link in place of its placeholder, or
        None when the placeholder is not in exactly one place that fits the secret
        (a password in the text, a link as the whole address of a link that has
        only ``LINK_ATTRIBUTES``): a secret never goes into an image's address, a
        second link, a link's ``ping`` or a layout."""
        if not self._secret_in_one_place(body, kind, placeholder):
            return None
        # escape() gives Markup, which a Markup body does not escape a second time
        return body.replace(placeholder, escape(secret))

    @api.model
    def _secret_in_one_place(self, body, kind, placeholder):
        body = str(body or "")
        if body.count(placeholder) != 1:
            return False
        in_text, in_attributes, holders = 0, [], []
        for element in html.fragment_fromstring(body, create_parent="div").iter():
            for text in (element.text, element.tail):
                in_text += placeholder in (text or "")
            found = [
                (element.tag, name, value.strip())
                for name, value in element.attrib.items()
                if placeholder in value
            ]
            in_attributes += found
            holders += [element] if found else []
        if kind == "link":
            return (
                not in_text
                and in_attributes == [("a", "href", placeholder)]
                # the link carries its address and its looks, nothing that sends
                # it elsewhere (ping) or acts on it (event handlers, download)
                and set(holders[0].attrib) <= LINK_ATTRIBUTES
            )
        return in_text == 1 and not in_attributes

    @api.model
    def _without_secret(self, body, placeholder, notice):
        """The mail body with ``notice`` where the secret would go (a CC copy)."""
        return str(body or "").replace(placeholder, str(escape(notice)))

    @api.model
    def _run_values(self, run, partners, expires_at, layouts=None):
        """A run's mails to ``partners``: its template rendered as the person who
        started the run (a Random Password Mail is in their name), or the mail an
        operator reviewed, with its own placeholder.

        :param layouts: the step's rendered layouts (see ``_values``)
        """
        template = run.mail_template_id.with_user(run.started_by_id).sudo()
        mails = self._values(
            partners, template, run.credential_mode, expires_at, layouts
        )
        if run.origin == "key_user":
            # the template writes from the person who pressed the button: here a
            # customer, whose domain our server may not send for (SPF, DMARC)
            for partner in partners:
                company = partner._website_mail_company()
                mails[partner.id]["email_from"] = (
                    company.email_formatted
                    or self.env["ir.mail_server"].sudo()._get_default_from_address()
                )
        if run.reviewed_body:
            for values in mails.values():
                values.update(
                    subject=one_line(run.reviewed_subject),
                    body_html=run.reviewed_body,
                    placeholder=run.reviewed_placeholder,
                )
        return mails

    @api.model
    def _note_moment(self, moment):
        """A moment in a note: the user's time zone, named (notes are read by
        colleagues elsewhere, as the mail's expiry names its zone)."""
        tz = self.env.user.tz or "UTC"
        return f"{tools.format_datetime(self.env, moment, tz=tz)} ({tz})"

    @api.model
    def _note_sender(self, run):
        """Who sent a mail, in a note's "by ...": a person, or the bulk run."""
        if not run:
            return self.env.user.name
        if run.origin == "key_user":
            return self.env._(
                "%(key_user)s (Website Administrator of %(company)s)",
                key_user=run.key_user_id.name,
                company=run.key_user_id.commercial_partner_id.name,
            )
        if run.origin == "manual":
            return self.env._(
                "%(user)s (Random Password Mail)", user=run.started_by_id.name
            )
        return self.env._(
            "the bulk website invite of %(date)s",
            date=self._note_moment(run.started_at),
        )

    @api.model
    def _post_notes(self, partners, expires_at, kind="password", run=None, granted=()):
        """A note on each of ``partners`` that its mail went out: when, by whom or which
        run, valid until, password or link; never the secret. One insert.

        :param granted: ids of the contacts whose portal user was just made: their
            note starts with Odoo's "Portal Access Granted"
        """
        if not partners:
            return
        expiry = self._note_moment(expires_at)
        sender = self._note_sender(run)
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
