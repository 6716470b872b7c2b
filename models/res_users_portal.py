# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command, api, models
from odoo.exceptions import UserError

from .. import compat
from .website_login_settings import MANAGER_GROUP, decides_logins

# Context key: Allow Login is being written to follow the portal user, or the
# portal user to follow Allow Login, not the other way round.
SYNCING_PORTAL_ACCESS = "website_login_syncing_portal_access"
# Context key: the caller writes Odoo's "Portal Access Granted" into its own note
# (one chatter message per contact instead of two).
NOTE_PORTAL_ACCESS_LATER = "website_login_note_portal_access_later"


class ResUsersPortal(models.AbstractModel):
    """The portal users of contacts, kept in step with Allow Login: made (without
    Odoo's signup mail), given back their access or revoked the way Odoo's portal
    wizard does it; Allow Login follows what Odoo's portal wizard and user form do
    to a portal user, and the portal user follows Allow Login written by hand.
    Hooked into res.users' create and write and res.partner's write; a password
    mail gets its contacts' users from ``_users_for``."""

    _name = "res.users.portal"
    _description = "Portal users of contacts"

    @api.model
    def _has_access(self, user):
        """What Odoo's portal wizard shows as a portal user: active, in the portal
        group."""
        user.ensure_one()
        # the groups field, not has_group(): read for a whole batch in one query;
        # the group's id from the cached xmlid (env.ref() would query it each time)
        portal_id = self.env["ir.model.data"]._xmlid_to_res_id("base.group_portal")
        return user.active and portal_id in user[compat.GROUPS_FIELD].ids

    @api.model
    def _revoke(self, users):
        """Portal access ends the way Odoo's portal wizard revokes it (archived, moved
        to the public group), with the sessions and any temporary credential."""
        users = users.sudo().filtered("share")  # a manager's decision, checked before
        if users:
            self._set_portal(users, granted=False)
            users.partner_id.signup_type = False  # as Odoo's revoke
            self._access_ended(users)

    @api.model
    def _set_portal(self, users, granted):
        """Active in the portal group, or archived in the public group: the two
        states Odoo's portal wizard moves users between (Allow Login is the caller's
        to write)."""
        portal = self.env.ref("base.group_portal").id
        public = self.env.ref("base.group_public").id
        new, old = (portal, public) if granted else (public, portal)
        users.with_context(**{SYNCING_PORTAL_ACCESS: True}).write(
            {
                "active": granted,
                compat.GROUPS_FIELD: [Command.unlink(old), Command.link(new)],
            }
        )

    @api.model
    def _access_ended(self, users):
        """Whatever ended the access: sessions end, no temporary password or link
        works any more, the contact shows "No access"."""
        users._end_website_sessions()
        self.env["partner.login.credential"]._revoke_for(users.partner_id)
        self.env["partner.login.access"]._ended(users.partner_id)

    @api.model
    def _access_restored(self, users):
        """A contact with a password of its own is "Active" again."""
        own = users.filtered(lambda user: user._website_has_own_password())
        self.env["partner.login.access"]._active(own.partner_id)

    @api.model
    def _restore(self, users):
        """Portal access given back in full (active, portal group instead of public),
        for a manager's explicit act: ticking Allow Login, a password mail."""
        users = users.sudo().filtered(  # a manager's decision, checked by the callers
            lambda user: user.share and not self._has_access(user)
        )
        users -= self._visitor_users(users)
        if users:
            self._set_portal(users, granted=True)
            self._access_restored(users)

    @api.model
    def _visitor_users(self, users):
        """Those of ``users`` that anonymous visitors browse as: Odoo's public
        user and each website's. They stay public, whoever ticks Allow Login on
        their contact."""
        public = self.env.ref("base.public_user", raise_if_not_found=False)
        visitor_ids = set(public.ids) if public else set()
        if users and "website" in self.env:
            websites = self.env["website"].sudo()  # whose visitors: any website
            visitor_ids.update(
                websites.search([("user_id", "in", users.ids)]).user_id.ids
            )
        return users.filtered(lambda user: user.id in visitor_ids)

    @api.model
    def _portal_access_changed(self, users, before):
        """Odoo's portal wizard or user form gave or took the portal access of
        ``users``: Allow Login follows the portal user.

        :param before: {user id: whether it had portal access before the write}
        """
        lost = users.sudo().filtered(
            lambda user: before[user.id] and not self._has_access(user)
        )
        gained = users.sudo().filtered(
            lambda user: not before[user.id] and user.share and self._has_access(user)
        )
        partners = (
            self.env["res.partner"].sudo().with_context(**{SYNCING_PORTAL_ACCESS: True})
        )
        # the seller's staff decides (a portal user archiving its own account
        # does not: that leaves its key user free to invite it again)
        by_staff = not self.env.user.share
        access = self.env["partner.login.access"]
        if lost:
            partners.browse(lost.partner_id.ids).write({"allow_login": False})
            self._access_ended(lost)
            if by_staff:
                access._ended_by_manager(lost.partner_id)
        if gained:
            partners.browse(gained.partner_id.ids).write({"allow_login": True})
            self._access_restored(gained)
            if by_staff:
                access._given_back_by_manager(gained.partner_id)

    @api.model
    def _allow_login_changed(self, partners, allowed):
        """Allow Login was written on ``partners`` (not to follow their portal
        users): their portal users follow."""
        access = self.env["partner.login.access"]
        if not allowed:
            if decides_logins(self.env):
                # a manager's decision, which a key user's own Remove login is not
                access._ended_by_manager(partners)
            # no login means no portal access, as Odoo's portal wizard shows it (a
            # company's contacts were switched off by res.partner.write, each with
            # its own user)
            self._revoke(partners.sudo().website_user_id)
        elif decides_logins(self.env):
            access._given_back_by_manager(partners)
            # a manager let the contacts in: their portal users get access back
            # (whatever else turns the flag on, a sign-up say, restores nobody)
            self._restore(partners.sudo().website_user_id)

    @api.model
    def _users_created(self, users):
        """A portal user made by a Website Login manager (the portal wizard, the
        user form, this addon) may log in; one made by anybody else waits for a
        manager (signup ticks the flag itself, see res.users._signup_create_user).
        A public user (a website's visitor) or one without a group is no portal
        user: untouched."""
        if self.env.user._is_superuser() or self.env.user.has_group(MANAGER_GROUP):
            portal_users = users.sudo().filtered(  # the groups, read to decide only
                lambda user: user.share and self._has_access(user)
            )
            portal_partners = portal_users.partner_id
            portal_partners.filtered(lambda partner: not partner.allow_login).write(
                {"allow_login": True}
            )

    @api.model
    def _users_for(self, partners):
        """The portal user of each of ``partners``, created (without Odoo's signup
        mail) or given back its access where needed. Refuses a login another user
        already has."""
        # sudo: a Website Login manager may give portal access without the right to
        # manage users in general, as the portal wizard does.
        users_sudo = self.env["res.users"].sudo().with_context(active_test=False)
        existing = users_sudo.search(
            [("partner_id", "in", partners.ids), ("share", "=", True)], order="id"
        )
        user_by_partner = {}
        for user in existing:
            user_by_partner.setdefault(user.partner_id.id, user)
        users = users_sudo.browse([user.id for user in user_by_partner.values()])
        # the callers are a manager's explicit acts: access comes back in full
        self._restore(users)

        new_partners = partners.filtered(
            lambda partner: partner.id not in user_by_partner
        )
        if not new_partners:
            return users
        identifier = self.env["res.users.login.identifier"]
        if collisions := identifier._collisions(new_partners):
            raise UserError(
                self.env._(
                    "The login %(login)s already belongs to another user: give the "
                    "contact a username.",
                    login=next(iter(collisions.values())),
                )
            )
        template_values = self._template_values()
        # mail_create_nolog: Odoo would post its "Portal Access Granted" note one
        # message_post at a time; it is logged below in one batch, which is cheaper.
        new_users = users_sudo.with_context(
            no_reset_password=True, mail_create_nolog=True
        ).create(
            [
                {
                    **template_values,
                    "partner_id": partner.id,
                    "login": partner._website_default_login(),
                    "company_id": (partner.company_id or self.env.company).id,
                    "company_ids": [
                        Command.set([(partner.company_id or self.env.company).id])
                    ],
                }
                for partner in new_partners
            ]
        )
        if not all(new_users.mapped("share")):
            raise UserError(
                self.env._(
                    "Odoo's portal template user is not a portal user: fix its groups "
                    "before giving contacts a website login."
                )
            )
        if not self.env.context.get(NOTE_PORTAL_ACCESS_LATER):
            new_partners._message_log_batch(
                {
                    user.partner_id.id: user._get_portal_access_update_body(True)
                    for user in new_users
                }
            )
        return users | new_users

    @api.model
    def _template(self):
        """Odoo's portal template user (sudo), or none if its setting names none."""
        template_id = (
            self.env["ir.config_parameter"]
            .sudo()  # a system parameter: the template is read, not shown
            .get_param("base.template_portal_user_id", "")
        )
        ids = [int(template_id)] if template_id.isdigit() else []
        return self.env["res.users"].sudo().browse(ids).exists()

    @api.model
    def _template_values(self):
        """What a new portal user takes from Odoo's portal template user, as signup
        and the portal wizard give it (groups, language, notifications...): read
        once per batch, where their copy() of the template costs a copy per user."""
        template = self._template()
        if not template:
            portal = self.env.ref("base.group_portal")
            return {compat.GROUPS_FIELD: [Command.set([portal.id])]}
        values = template.copy_data({"partner_id": False, "login": False})[0]
        values["active"] = True  # the template itself is archived
        return values
