# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models
from odoo.exceptions import AccessError

from .website_login_settings import MANAGER_GROUP


class MailTemplate(models.Model):
    _inherit = "mail.template"

    website_login_template = fields.Boolean(
        string="Carries Website Login Passwords",
        readonly=True,
        copy=False,
        help="One of the templates that carry temporary passwords and links: only "
        "Website Login managers may change it.",
    )

    def _check_credential_template_edit(self):
        """Odoo lets Mail Template Editors edit every template (and employees the
        ones assigned to them); whoever edits these two could carry each password
        away (an image whose address holds it, another outgoing server). Only
        Website Login managers may (who, for a template with placeholders, Odoo
        also requires to be Mail Template Editors: administrators are both)."""
        if self.env.su or self.env.user.has_group(MANAGER_GROUP):
            return
        # sudo: the flag decides, whoever may read the template
        if self.sudo().filtered("website_login_template"):
            raise AccessError(
                self.env._(
                    "Only Website Login managers may change the website login mail "
                    "templates: they carry passwords."
                )
            )

    def write(self, vals):
        self._check_credential_template_edit()
        if "website_login_template" in vals and not self.env.su:
            raise AccessError(
                self.env._("Only the addon marks its own mail templates.")
            )
        return super().write(vals)

    def unlink(self):
        self._check_credential_template_edit()
        return super().unlink()

    def update_field_translations(self, field_name, translations, *args, **kwargs):
        # *args, **kwargs: Odoo's own arguments (source_lang), whatever the series
        self._check_credential_template_edit()
        return super().update_field_translations(
            field_name, translations, *args, **kwargs
        )
