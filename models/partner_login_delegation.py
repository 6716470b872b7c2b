# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What a customer's Website Administrator (its "key user") may do for the
colleagues of its company, from the portal (controllers/portal.py).

Every method is given the key user's own environment (a portal user's) and checks,
before anything else, that the contact asked for is a colleague it may manage:
same commercial entity, a person, not itself, not another Website Administrator,
not one of Odoo's internal or reserved users. Only then does it act, in sudo: a
portal user has no right on contacts, and gets none; what it may do is exactly
what this model does for it. Invites go through Random Password Mail's own path
(a run of their own, the same template, credential, rules, pacing and retries).
"""

from markupsafe import escape

from odoo import api, models, tools
from odoo.exceptions import AccessError, UserError

from .partner_login_delegation_refusal import CountedRefusal
from .partner_login_eligibility_rules import KEY_USER
from .website_login_settings import MANAGER_GROUP, website_setting

COLLEAGUES_PER_PAGE = 20
# States of a colleague whose invite went out before
INVITED_BEFORE = ("invited", "expired", "unanswered")
# Reasons not to invite that the Colleagues page's Access column shows already
SAID_BY_ACCESS = ("already_active", "awaiting_approval")


class PartnerLoginDelegation(models.AbstractModel):
    _name = "partner.login.delegation"
    _description = "Website logins managed by a customer's key user"

    # ------------------------------------------------------------------ who

    @api.model
    def _key_user(self):
        """The logged-in portal user's contact, when it is its company's Website
        Administrator and may log in; otherwise AccessError."""
        user = self.env.user
        # sudo: one's own contact's website flags, which portal users cannot read
        partner = user.partner_id.sudo()
        if not (
            user.share
            and user._is_portal()
            and partner.active
            and partner.website_admin
            and partner.allow_login
            and partner.commercial_partner_id != partner
            # an archived customer's colleagues are no one's to add or invite
            and partner.commercial_partner_id.active
        ):
            raise AccessError(
                self.env._(
                    "Only your company's Website Administrator manages the website "
                    "logins of its colleagues."
                )
            )
        return partner

    @api.model
    def _colleague_domain(self, key_user):
        """The contacts of the key user's company it sees (itself and the other
        administrators included, though it may change neither)."""
        eligibility = self.env["partner.login.eligibility"]
        company = key_user.commercial_partner_id
        return [
            ("commercial_partner_id", "=", company.id),
            # the company's own record, even with "Is a Company" off, is no colleague
            ("id", "!=", company.id),
            ("parent_id", "!=", False),
            ("is_company", "=", False),
            ("type", "=", "contact"),  # delivery and invoice addresses are no people
            ("id", "not in", eligibility._reserved_partner_ids()),
            (
                "user_ids",
                "not any",
                [("share", "=", False), ("active", "in", [True, False])],
            ),
        ]

    @api.model
    def _colleagues(self, key_user, search="", page=1):
        """:returns: (contacts of the page, in sudo, to be shown; total count)"""
        domain = self._colleague_domain(key_user)
        if search := (search or "").strip():
            domain += [
                "|",
                "|",
                ("name", "ilike", search),
                ("email", "ilike", search),
                ("username", "ilike", search),
            ]
        # sudo: what the page shows is limited by the domain above
        partners = self.env["res.partner"].sudo()
        count = partners.search_count(domain)
        shown = partners.search(
            domain,
            order="name, id",
            limit=COLLEAGUES_PER_PAGE,
            offset=max(page - 1, 0) * COLLEAGUES_PER_PAGE,
        )
        return shown, count

    @api.model
    def _manageable(self, key_user, partner_ids):
        """The contacts of ``partner_ids`` (sudo), if the key user may change every
        one of them; otherwise AccessError, and nothing is changed."""
        wanted = {int(partner_id) for partner_id in partner_ids}
        found = (
            self.env["res.partner"]
            .sudo()
            .search(
                self._colleague_domain(key_user)
                + [
                    ("id", "in", list(wanted)),
                    ("id", "!=", key_user.id),
                    ("website_admin", "=", False),
                ]
            )
        )
        if not wanted or set(found.ids) != wanted:
            # the same answer for another company's contact, an internal user, a
            # missing id, oneself or another administrator: nothing to learn
            raise AccessError(
                self.env._("This contact is not one of the colleagues you manage.")
            )
        return found

    # ------------------------------------------------------------------ acts

    @api.model
    def _add(self, key_user, name, email, username="", invite=True):
        """A new colleague under the key user's company, Website Enabled, and its
        invite unless a manager must approve it first. A refused username or
        address is counted against the daily limit (the caller commits it).

        :returns: (the new contact in sudo, message for the key user)
        :raises UserError: nothing added (a CountedRefusal, with a suggestion for
            a refused username)
        """
        try:
            with self.env.cr.savepoint():
                return self._add_colleague(key_user, name, email, username, invite)
        except CountedRefusal:
            self.env["partner.login.delegation.refusal"]._count(key_user)
            raise

    @api.model
    def _add_colleague(self, key_user, name, email, username, invite):
        name = " ".join((name or "").split())
        normalized = tools.email_normalize(email or "", strict=True)
        if not name:
            raise UserError(self.env._("Enter your colleague's name."))
        if not normalized:
            raise UserError(self.env._("Enter one valid email address."))
        self.env["partner.login.delegation.refusal"]._check_daily_limit(key_user, new=1)
        company = key_user.commercial_partner_id
        same = (
            self.env["res.partner"]
            .sudo()
            .search(
                self._colleague_domain(key_user)
                + [("email_normalized", "=", normalized)],
                limit=1,
            )
        )
        if same:
            raise UserError(
                self.env._(
                    "%(colleague)s already has this address: invite them from the "
                    "list.",
                    colleague=same.name,
                )
            )
        eligibility = self.env["partner.login.eligibility"]
        if rule := eligibility._address_rule(normalized):
            raise CountedRefusal(eligibility._message(rule, key_user=key_user))
        username = self.env["partner.login.username"]._for_new_colleague(
            username, normalized
        )
        approval = website_setting(self.env, "key_user_approval")
        partners = self.env["res.partner"].sudo()
        values = {
            "name": name,
            "email": normalized,
            "parent_id": company.id,
            "type": "contact",
            "company_id": company.company_id.id,
            "lang": key_user.lang,
            "tz": key_user.tz,
            "website_enabled": True,
            "username": username,
            "website_added_by_id": key_user.id,
            "website_awaiting_approval": approval,
        }
        if "website_id" in partners._fields:
            # with Odoo's website: the key user's shop is the colleague's (its
            # invite links there, and its login works there only)
            values["website_id"] = key_user.website_id.id
        # sudo: the checks above are the key user's rights; it has none on contacts
        colleague = partners.create(values)
        note = self.env._(
            "Added from the portal by %(key_user)s, Website Administrator of "
            "%(company)s.",
            key_user=key_user.name,
            company=company.name,
        )
        if approval:
            note += " " + self.env._("It waits for a manager's approval.")
        colleague._message_log_batch({colleague.id: escape(note)})
        if approval:
            return colleague, self.env._(
                "%(colleague)s added. Their invite goes out once %(seller)s "
                "approves them.",
                colleague=name,
                seller=colleague._website_mail_company().name,
            )
        if not invite:
            return colleague, self.env._("%(colleague)s added.", colleague=name)
        return colleague, self._invite(key_user, colleague)

    @api.model
    def _invite(self, key_user, partners):
        """The invite (or a new one) to each of ``partners``, as Random Password
        Mail sends it, from the company's address.

        :returns: the message for the key user
        """
        partners = self._manageable(key_user, partners.ids)
        if refusals := self._invite_refusals(key_user, partners):
            raise UserError(
                "\n".join(
                    f"{partners.browse(partner_id).name}: {message}"
                    for partner_id, (_rule, message) in refusals.items()
                )
            )
        self.env["partner.login.delegation.refusal"]._check_daily_limit(
            key_user, partners
        )
        return self._deliver(key_user, partners)

    @api.model
    def _invite_refusals(self, key_user, partners):
        """Why the key user may not invite each of ``partners`` (colleagues it
        manages, in sudo) now: the one gate of its Invite, which its page asks
        before offering the button.

        :returns: {partner id: (rule, message in the customer's words)}
        """
        return self.env["partner.login.eligibility"]._refusals(
            partners, KEY_USER, key_user=key_user
        )

    @api.model
    def _moment_for(self, key_user, moment):
        """``moment`` as the key user's page writes its dates (its language's
        format, its time zone, named)."""
        tz = key_user.tz or "UTC"
        when = tools.format_datetime(
            self.env, moment, tz=tz, dt_format=False, lang_code=key_user.lang
        )
        return f"{when} ({tz})"

    @api.model
    def _row_actions(self, key_user, colleagues):
        """What the Colleagues page offers on each row: only what the key user may
        do, and why not where it may not.

        :returns: {partner id: {"invite": "invite", "invite_again", "allow_login"
            or None, "remove": bool, "reason": text or None}}
        """
        manageable = colleagues.filtered(
            lambda colleague: colleague != key_user and not colleague.website_admin
        )
        refusals = self._invite_refusals(key_user, manageable)
        actions = {}
        for colleague in manageable:
            rule, message = refusals.get(colleague.id, (None, None))
            invite = None
            if not rule:
                if not colleague.allow_login and colleague.website_user_id:
                    invite = "allow_login"  # its login was removed
                elif colleague.website_access_state in INVITED_BEFORE:
                    invite = "invite_again"
                else:
                    invite = "invite"
            actions[colleague.id] = {
                "invite": invite,
                "remove": bool(
                    colleague.allow_login
                    and (
                        colleague.website_access_state != "none"
                        or colleague.website_user_id.active
                    )
                ),
                # for these the Access column says it already
                "reason": None if rule in SAID_BY_ACCESS else message,
            }
        return actions

    @api.model
    def _deliver(self, key_user, partners):
        # sudo: a portal user has no right on runs; the callers checked its rights,
        # and asked _invite_refusals or _refusals just before (hence ``checked``)
        worker = self.env["partner.invite.worker"].sudo()
        _run, outcome = worker._send_now(partners, key_user=key_user, checked=True)
        names = ", ".join(partners.mapped("name"))
        if outcome.sent and len(outcome.sent) == len(partners):
            return self.env._("Invite sent to %(colleague)s.", colleague=names)
        if outcome.deferred or outcome.untried:
            return self.env._(
                "The mail server asked us to wait: the invite to %(colleague)s goes "
                "out by itself shortly.",
                colleague=names,
            )
        # the server's own words stay with the seller's staff (the run's line)
        return self.env._(
            "The invite to %(colleague)s could not be sent: check the address, or "
            "ask us to help.",
            colleague=names,
        )

    @api.model
    def _revoke(self, key_user, partners):
        """Allow Login off: the colleague's sessions end and no password works."""
        partners = self._manageable(key_user, partners.ids)
        partners.write({"allow_login": False})  # in sudo, checked above
        note = escape(
            self.env._(
                "Website access revoked from the portal by %(key_user)s, Website "
                "Administrator of %(company)s.",
                key_user=key_user.name,
                company=key_user.commercial_partner_id.name,
            )
        )
        partners._message_log_batch(dict.fromkeys(partners.ids, note))
        return self.env._(
            "%(colleague)s can no longer log in.",
            colleague=", ".join(partners.mapped("name")),
        )

    # ------------------------------------------------------------------ managers

    @api.model
    def _approve(self, partners):
        """A manager approves the colleagues key users added: the flag goes, their
        invite goes out (one run per key user)."""
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(
                self.env._("Only Website Login managers may approve colleagues.")
            )
        partners.check_access("write")
        waiting = partners.sudo().filtered("website_awaiting_approval")
        waiting.write({"website_awaiting_approval": False})
        note = escape(self.env._("Approved by %(user)s.", user=self.env.user.name))
        waiting._message_log_batch(dict.fromkeys(waiting.ids, note))
        messages, refused = [], False
        for key_user in waiting.website_added_by_id:
            added = waiting.filtered(
                lambda partner, key_user=key_user: (
                    partner.website_added_by_id == key_user
                )
            )
            refusals = self.env["partner.login.eligibility"]._refusals(added, KEY_USER)
            refused = refused or bool(refusals)
            messages += [
                f"{added.browse(partner_id).name}: {message}"
                for partner_id, (_rule, message) in refusals.items()
            ]
            if sendable := added - added.browse(list(refusals)):
                messages.append(self._deliver(key_user, sendable))
        return partners._website_notification(
            self.env._("Approve"),
            "\n".join(messages)
            or self.env._("Nobody of the selection awaited approval."),
            "warning" if refused else "success",  # a warning stays until read
        )
