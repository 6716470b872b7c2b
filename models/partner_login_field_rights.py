# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models
from odoo.exceptions import AccessError

from .website_login_settings import MANAGER_GROUP

# Fields only a Website Login manager may change.
MANAGED_FIELDS = {"website_enabled", "username", "allow_login", "website_admin"}
# Fields only this addon's code writes (in sudo, partner_login_access.py), whatever
# the caller's rights, with the values a new contact may carry (res.users creates
# its partner with them).
SYSTEM_FIELD_DEFAULTS = {
    "website_access_state": "none",
    "website_password_expires": False,
    "website_invite_count": 0,
    "website_email_held": False,
    "website_access_ended_by_manager": False,
    "website_login_email": False,
    # written by partner_login_delegation.py (a key user's colleagues)
    "website_added_by_id": False,
    "website_awaiting_approval": False,
}
SYSTEM_FIELDS = set(SYSTEM_FIELD_DEFAULTS)


class PartnerLoginFieldRights(models.AbstractModel):
    """Who may write the website fields of contacts, whatever writes them (a
    screen, an import, RPC): the managed ones a Website Login manager only, the
    system ones the addon's own code only (in sudo). res.partner checks them in
    create and write."""

    _name = "partner.login.field.rights"
    _description = "Who may write the website fields of contacts"

    @api.model
    def _add_defaults(self, vals_list):
        """Put the defaults of the website fields (``default_*`` context keys, user
        defaults) into each of ``vals_list`` that lacks them: Odoo adds them only
        after ``create`` has run its checks, so they would otherwise land
        unchecked."""
        names = MANAGED_FIELDS | SYSTEM_FIELDS
        missing = set().union(*(names - vals.keys() for vals in vals_list))
        defaults = self.env["res.partner"].default_get(list(missing)) if missing else {}
        for vals in vals_list:
            for name, value in defaults.items():
                vals.setdefault(name, value)

    @api.model
    def _changed(self, partners, vals, names):
        """The fields of ``names`` that ``vals`` would change on ``partners`` (on
        create, ``partners`` is empty and the change is against a new contact's
        values)."""
        changed = set()
        for name in names & vals.keys():
            field = partners._fields[name]
            new = field.convert_to_cache(vals[name], partners)
            if partners:
                current = [field.convert_to_cache(p[name], p) for p in partners]
            else:
                current = [
                    field.convert_to_cache(SYSTEM_FIELD_DEFAULTS.get(name), partners)
                ]
            if any(value != new for value in current):
                changed.add(name)
        return changed

    @api.model
    def _check(self, partners, vals_list):
        """Refuse ``vals_list`` on ``partners`` (empty on create) where it changes
        a website field its writer may not change."""
        if self.env.su:
            return
        for vals in vals_list:
            if self._changed(partners, vals, SYSTEM_FIELDS):
                raise AccessError(
                    self.env._(
                        "The website access state is set by the addon, not by hand."
                    )
                )
            changed = self._changed(partners, vals, MANAGED_FIELDS)
            if changed and not self.env.user.has_group(MANAGER_GROUP):
                raise AccessError(
                    self.env._(
                        "Only Website Login managers may change the website access of "
                        "contacts (%(fields)s).",
                        fields=", ".join(sorted(changed)),
                    )
                )
