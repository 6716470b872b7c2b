# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The one place that decides which contacts may receive a temporary password or
link: a list of named rules, each a domain. A new rule is one entry in ``_rules``;
the bulk invite counts and lists the contacts each rule leaves out by its name
(``reason``) without further code (a ``skipped_<reason>`` count on the run)."""

from odoo import api, fields, models
from odoo.tools import SQL

from .. import compat
from .website_login_settings import website_setting

# Contacts to which a mail that sets a password or logs in may go now: not while a
# new email awaits a Website Login manager (partner_login_access.py,
# _email_changed). The gate (_credential_mail_held) and the rule "email_held" ask it.
CREDENTIAL_MAIL_ALLOWED = [("website_email_held", "=", False)]

# Rules that leave a contact out for a reason that needs nobody (it logs in
# already, its invite is under way): a run counts them and lists no line for them.
ROUTINE_RULES = {"already_active", "invite_pending"}
# The bulk rule that picks the run's population instead of leaving contacts out.
POPULATION_RULE = "website_disabled"


class PartnerLoginEligibility(models.AbstractModel):
    _name = "partner.login.eligibility"
    _description = "Who may receive a website login"

    @api.model
    def _rules(self, bulk=False, key_user=False):
        """Who may receive a temporary password or link, rule by rule.

        :returns: a list of (reason, message, domain a contact must match); the
            rules of the bulk invite (``bulk=True``) and of a customer's key user
            (``key_user=True``, partner_login_delegation.py) add to those of the
            button: a key user may not mail the addresses a manager would think
            twice about.
        """
        rules = [
            (
                "contact_archived",
                self.env._("The contact is archived."),
                [("active", "=", True)],
            ),
            (
                "company_archived",
                self.env._("The contact's company is archived."),
                [("commercial_partner_id.active", "=", True)],
            ),
            (
                "is_company",
                self.env._(
                    "The contact is a company: invite the people who work there."
                ),
                [("is_company", "=", False)],
            ),
            (
                "invalid_email",
                self.env._(
                    "The contact has no valid email address: enter exactly one."
                ),
                [("website_email_valid", "=", True)],
            ),
            (
                "reserved_user",
                self.env._(
                    "The contact belongs to one of Odoo's own users (the public user "
                    "or the portal template user)."
                ),
                [("id", "not in", self._reserved_partner_ids())],
            ),
            (
                "internal_user",
                self.env._(
                    "The contact is an internal user: they log in the Odoo way."
                ),
                # archived users too: an archived employee's contact is no customer
                [
                    (
                        "user_ids",
                        "not any",
                        [("share", "=", False), ("active", "in", [True, False])],
                    )
                ],
            ),
            (
                "awaiting_approval",
                self.env._(
                    "Added by the company's Website Administrator: it waits for a "
                    "Website Login manager's approval (Contacts > Website Invites > "
                    "Awaiting Approval)."
                ),
                [("website_awaiting_approval", "=", False)],
            ),
        ]
        address_rules = [
            (
                "bounced",
                self.env._(
                    "An invite to this address bounced: correct the email to "
                    "invite the contact again."
                ),
                [("website_access_state", "!=", "bounced")],
            ),
            (
                "blacklisted",
                self.env._(
                    "The address is in Odoo's blacklist (Email Marketing > "
                    "Blacklisted Email Addresses)."
                ),
                [("is_blacklisted", "=", False)],
            ),
            (
                "bouncing",
                self.env._(
                    "Login mails to this contact bounced %(count)s times or more.",
                    count=website_setting(self.env, "bounce_limit"),
                ),
                [
                    (
                        "id",
                        "not in",
                        self._bounced_often_ids(),
                    )
                ],
            ),
            ("email_held", self._email_held_message(), CREDENTIAL_MAIL_ALLOWED),
        ]
        now = fields.Datetime.now()
        # a re-invite only once the last one expired: no mail after mail
        invite_pending = [
            (
                "invite_pending",
                self.env._("An earlier invite has not expired yet."),
                [
                    "|",
                    ("website_access_state", "!=", "invited"),
                    ("website_password_expires", "<=", now),
                ],
            ),
        ]
        if key_user:
            rules += address_rules + invite_pending
        if bulk:
            rules += [
                (
                    "website_disabled",
                    self.env._("Website Enabled is off."),
                    [("website_enabled", "=", True)],
                ),
                (
                    "no_username",
                    self.env._("No username is set."),
                    [("username", "!=", False)],
                ),
                (
                    "login_disabled",
                    self.env._("Allow Login is off."),
                    [("allow_login", "=", True)],
                ),
            ]
            rules += address_rules
            rules += [
                (
                    "already_active",
                    self.env._("The contact already uses a password of their own."),
                    [("website_access_state", "!=", "active")],
                ),
            ]
            rules += invite_pending
            rules += [
                (
                    "invites_unanswered",
                    self.env._(
                        "Its invites went unanswered: a manager invites it again "
                        "with Random Password Mail."
                    ),
                    [
                        (
                            "website_invite_count",
                            "<",
                            website_setting(self.env, "invite_attempts"),
                        )
                    ],
                ),
            ]
        return rules

    @api.model
    def _email_held_message(self):
        return self.env._(
            "Its email was changed by somebody who is not a Website Login "
            "manager: a manager sends the first mail to the new address "
            "with Random Password Mail."
        )

    @api.model
    def _credential_mail_held(self, partners):
        """The one answer to "may a mail that sets a password or logs in go to
        these contacts' address now?", asked on every path that sends one: Odoo's
        reset and signup mails (res_users.py), the portal wizard's welcome
        (wizards/portal_wizard_user.py), signup tokens in Odoo's notifications
        and any token's use (res_partner.py), the key user's invites and bulk
        runs (the rule "email_held"). A Website Login manager's Random Password
        Mail is the act that confirms a held address.

        :returns: the contacts of ``partners`` to which none may go now
        """
        # sudo: the flag is read to decide, for visitors and employees alike
        allowed = partners.sudo().filtered_domain(CREDENTIAL_MAIL_ALLOWED)
        return partners - allowed

    @api.model
    def _bounced_often_ids(self):
        """Contacts whose login mails bounced the addon's limit of times or more,
        in all companies' runs. Only bounces that named one of its mails count
        (partner_invite_outcome.py, ``_bounced``): Odoo's own ``message_bounce``
        also counts any bounce anybody mails in."""
        self.env.cr.execute(
            SQL(
                """SELECT partner_id FROM partner_invite_run_line
                    WHERE outcome = 'bounced' AND partner_id IS NOT NULL
                    GROUP BY partner_id HAVING count(*) >= %s""",
                website_setting(self.env, "bounce_limit"),
            )
        )
        return [row[0] for row in self.env.cr.fetchall()]

    @api.model
    def _reserved_partner_ids(self):
        """Contacts of the users Odoo keeps for itself: never given a login."""
        reserved = self.env["res.users"]._website_portal_template()  # in sudo
        if public := self.env.ref("base.public_user", raise_if_not_found=False):
            reserved |= public.sudo()  # read for the rule, not shown
        return reserved.partner_id.ids

    @api.model
    def _invite_domain(self):
        """Contacts the bulk invite sends to now."""
        return compat.domain_and(
            [domain for _reason, _message, domain in self._rules(True)]
        )

    @api.model
    def _bulk_population(self, company_domain):
        """Who a bulk run of these companies invites, and whom it leaves out.

        :returns: (how many it invites, {(rule, message): ids of the Website
            Enabled contacts that rule leaves out first}, {rule: count} of the
            routine rules, whose contacts get no line)
        """
        # sudo: counted as the run will see them, whatever the starter may read
        partners = self.env["res.partner"].sudo().with_context(active_test=False)
        population = [("website_enabled", "=", True), *company_domain]
        left_out, routine = {}, {}
        for rule, message, domain in self._rules(bulk=True):
            failing = population + ["!"] + domain
            if rule in ROUTINE_RULES:
                if count := partners.search_count(failing):
                    routine[rule] = count
            elif rule != POPULATION_RULE:
                if ids := partners.search(failing).ids:
                    left_out[rule, message] = ids
            population = population + domain
        return partners.search_count(population), left_out, routine

    @api.model
    def _refusals(self, partners, bulk=False, key_user=False):
        """:returns: {partner id: message} for the contacts of ``partners`` refused,
        each with the first rule it fails, then those whose new login would be
        another user's (res.users._website_login_collisions)."""
        refusals = {}
        candidates = partners.with_context(active_test=False)
        rules = self._rules(bulk, key_user)
        # all the rules in one query first: as a rule everyone passes (a bulk batch
        # was just chosen by them); the rules one by one only for the others, to
        # name the first each fails (a query per rule for every batch costs a run)
        passing_all = candidates.search(
            [
                ("id", "in", candidates.ids),
                *compat.domain_and([domain for _reason, _message, domain in rules]),
            ]
        )
        candidates -= passing_all
        for _reason, message, domain in rules:
            if not candidates:
                break
            passing = candidates.search([("id", "in", candidates.ids)] + domain)
            for partner in candidates - passing:
                refusals[partner.id] = message
            candidates = passing
        if not key_user:
            # named before any mail or password, not as the mail server's failure
            # (the key user's pages keep their own answer: it names no login)
            collisions = self.env["res.users"]._website_login_collisions(
                passing_all | candidates
            )
            for partner_id, login in collisions.items():
                refusals[partner_id] = self.env._(
                    "The login %(login)s already belongs to another user: give the "
                    "contact a username.",
                    login=login,
                )
        return refusals
