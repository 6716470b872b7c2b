# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The one place that decides which contacts may receive a temporary password or
link, and to which address a customer's key user may send one, by the table of
partner_login_eligibility_rules.py. The bulk invite counts and lists the contacts
each rule leaves out by its key without further code. Checking is free of side
effects: expiring invites or creating activities is the callers'."""

from collections import defaultdict

from odoo import api, fields, models
from odoo.tools import SQL

from .. import compat
from .partner_login_eligibility_rules import (
    BULK,
    CANDIDATE_SLICE_FACTOR,
    CREDENTIAL_MAIL_ALLOWED,
    KEY_USER,
    MANAGER,
    MIN_CANDIDATE_SLICE,
    POPULATION_RULE,
    ROUTINE_RULES,
    RULES,
)
from .website_login_settings import website_setting


class PartnerLoginEligibility(models.AbstractModel):
    _name = "partner.login.eligibility"
    _description = "Who may receive a website login"

    # ------------------------------------------------------------------ the table

    @api.model
    def _rules(self, path=MANAGER):
        """The rows of ``RULES`` that apply to the contacts of ``path``."""
        return [rule for rule in RULES if path in rule.paths]

    @api.model
    def _rule(self, key):
        return next(rule for rule in RULES if rule.key == key)

    @api.model
    def _condition(self, rule):
        """The domain a contact must match to pass ``rule``."""
        if isinstance(rule.condition, str):
            return getattr(self, rule.condition)()
        return rule.condition

    @api.model
    def _message(self, rule, partner=None, key_user=None, values=None):
        """``rule``'s message, with its placeholders: to the staff, or in the
        customer's words to ``key_user``."""
        text = self.env._((key_user and rule.customer_message) or rule.message)
        if rule.values:
            values = getattr(self, rule.values)(partner, key_user)
        return text if values is None else text % values

    @api.model
    def _email_held_message(self):
        """What Odoo's own mail paths say when the gate holds a mail back."""
        return self._message(self._rule("email_held"))

    @api.model
    def _rule_labels(self):
        """[(key, staff message)] of every rule, for a run line's "Left out by"
        (a placeholder of a contact's own shown as "...")."""
        return [
            (rule.key, self._message(rule, values=defaultdict(lambda: "...")))
            for rule in RULES
        ]

    # ------------------------------------------------------------------ conditions

    @api.model
    def _not_reserved_domain(self):
        return [("id", "not in", self._reserved_partner_ids())]

    @api.model
    def _not_bouncing_domain(self):
        return [("id", "not in", self._bounced_often_ids())]

    @api.model
    def _invite_expired_domain(self):
        return [
            "|",
            ("website_access_state", "!=", "invited"),
            ("website_password_expires", "<=", fields.Datetime.now()),
        ]

    @api.model
    def _invites_left_domain(self):
        return [
            ("website_invite_count", "<", website_setting(self.env, "invite_attempts"))
        ]

    @api.model
    def _bounce_limit_values(self, partner, key_user):
        return {"count": website_setting(self.env, "bounce_limit")}

    @api.model
    def _invite_expiry_values(self, partner, key_user):
        if not (partner and key_user):
            return {"when": ""}
        return {
            "when": self.env["partner.login.delegation"]._moment_for(
                key_user, partner.website_password_expires
            )
        }

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
        reserved = self.env["res.users.portal"]._template()  # in sudo
        if public := self.env.ref("base.public_user", raise_if_not_found=False):
            reserved |= public.sudo()  # read for the rule, not shown
        return reserved.partner_id.ids

    # ------------------------------------------------------------------ addresses
    # Each: whether a key user may not mail ``email`` (normalized), to a new
    # colleague (``colleague`` None) or to ``colleague``. In sudo: they read the
    # blacklist, bounces and logins of all companies, and answer only yes or no.

    @api.model
    def _all_partners(self):
        return self.env["res.partner"].sudo().with_context(active_test=False)

    @api.model
    def _address_blacklisted(self, email, colleague):
        return bool(
            self.env["mail.blacklist"]
            .sudo()
            .search_count([("email", "=", email)], limit=1)
        )

    @api.model
    def _address_bounced(self, email, colleague):
        return bool(
            self._all_partners().search_count(
                [
                    ("email_normalized", "=", email),
                    ("website_access_state", "=", "bounced"),
                ],
                limit=1,
            )
        )

    @api.model
    def _address_bouncing(self, email, colleague):
        return bool(
            self._all_partners().search_count(
                [
                    ("email_normalized", "=", email),
                    ("id", "in", self._bounced_often_ids()),
                ],
                limit=1,
            )
        )

    @api.model
    def _address_known(self, email, colleague):
        if colleague:
            return False
        return bool(
            self._all_partners().search_count(
                [("email_normalized", "=", email)], limit=1
            )
        )

    @api.model
    def _address_is_a_login(self, email, colleague):
        users = self.env["res.users"].sudo().with_context(active_test=False)
        return bool(
            users.search_count(
                [("login", "=ilike", email)]
                + ([("partner_id", "!=", colleague.id)] if colleague else []),
                limit=1,
            )
            or self._all_partners().search_count(
                ([("id", "!=", colleague.id)] if colleague else [])
                + [
                    "|",
                    ("website_login_email", "=", email),
                    "&",
                    ("email_normalized", "=", email),
                    "|",
                    ("allow_login", "=", True),
                    ("user_ids", "!=", False),
                ],
                limit=1,
            )
        )

    @api.model
    def _address_rule(self, email, colleague=None):
        """The first rule that forbids a key user to mail ``email`` (to a new
        colleague, or to ``colleague``), or None. Its customer message is one for
        every rule (ADDRESS_REFUSED)."""
        for rule in RULES:
            if rule.address and getattr(self, rule.address)(email, colleague):
                return rule
        return None

    # ------------------------------------------------------------------ checks

    @api.model
    def _credential_mail_held(self, partners):
        """The one answer to "may a mail that sets a password or logs in go to
        these contacts' address now?", asked on every path that sends one: Odoo's
        reset and signup mails (res_users.py), the portal wizard's welcome
        (wizards/portal_wizard_user.py), signup tokens in Odoo's notifications
        (res_partner.py) and any token's use (res_users_website_signup.py), the
        key user's invites and bulk runs (the rule "email_held"). A Website Login
        manager's Random Password Mail is the act that confirms a held address.

        :returns: the contacts of ``partners`` to which none may go now
        """
        # sudo: the flag is read to decide, for visitors and employees alike
        allowed = partners.sudo().filtered_domain(CREDENTIAL_MAIL_ALLOWED)
        return partners - allowed

    @api.model
    def _refusals(self, partners, path=MANAGER, key_user=None):
        """Which contacts of ``partners`` may not receive a mail of ``path`` now.

        :param key_user: the key user who is told (path KEY_USER): the messages
            are in the customer's words; without it, the staff's
        :returns: {partner id: (rule key, message)}, each with the first rule it
            fails, in the order of ``partners``
        """
        refusals = {}
        candidates = partners.with_context(active_test=False)
        rules = self._rules(path)
        conditions = [self._condition(rule) for rule in rules]
        # all the rules in one query first: as a rule everyone passes (a bulk batch
        # was just chosen by them); the rules one by one only for the others, to
        # name the first each fails (a query per rule for every batch costs a run)
        passing_all = candidates.search(
            [("id", "in", candidates.ids), *compat.domain_and(conditions)]
        )
        candidates -= passing_all
        for rule, condition in zip(rules, conditions, strict=True):
            if not candidates:
                break
            passing = candidates.search([("id", "in", candidates.ids), *condition])
            for partner in candidates - passing:
                refusals[partner.id] = (
                    rule.key,
                    self._message(rule, partner, key_user),
                )
            candidates = passing
        passing = passing_all | candidates
        if path == KEY_USER:
            for partner in passing:
                if rule := self._address_rule(partner.email_normalized, partner):
                    refusals[partner.id] = (
                        rule.key,
                        self._message(rule, partner, key_user),
                    )
        else:
            # named before any mail or password, not as the mail server's failure
            # (the key user's pages keep their own answer: it names no login)
            collisions = self.env["res.users.login.identifier"]._collisions(passing)
            login_taken = self._rule("login_taken")
            for partner_id, login in collisions.items():
                refusals[partner_id] = (
                    login_taken.key,
                    self._message(login_taken, values={"login": login}),
                )
        return {
            partner.id: refusals[partner.id]
            for partner in partners
            if partner.id in refusals
        }

    # ------------------------------------------------------------------ bulk

    @api.model
    def _invite_domain(self):
        """Contacts the bulk invite sends to now."""
        return compat.domain_and([self._condition(rule) for rule in self._rules(BULK)])

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
        for rule in self._rules(BULK):
            condition = self._condition(rule)
            failing = population + ["!"] + condition
            if rule.key in ROUTINE_RULES:
                if count := partners.search_count(failing):
                    routine[rule.key] = count
            elif rule.key != POPULATION_RULE:
                if ids := partners.search(failing).ids:
                    left_out[rule.key, self._message(rule)] = ids
            population = population + condition
        return partners.search_count(population), left_out, routine

    @api.model
    def _next_invitees(self, company_domain, cursor, size):
        """The next ``size`` contacts a bulk run invites after the contact id
        ``cursor``, in id order.

        The rules are checked on a slice of ids of the primary key at a time: in
        one query PostgreSQL misjudges how many contacts pass the (correlated)
        rules and sorts every eligible contact left, so that a run's batches would
        cost its size squared.

        :returns: (contacts, the new cursor, whether no contact is left after it)
        """
        domain = [*self._invite_domain(), *company_domain]
        # active_test off: the rules' own "active" conditions decide, and their
        # subqueries see archived users too (an archived employee's contact)
        partners = self.env["res.partner"].with_context(active_test=False)
        found = partners.browse()
        slice_size = max(size * CANDIDATE_SLICE_FACTOR, MIN_CANDIDATE_SLICE)
        while len(found) < size:
            slice_ids = partners.search(
                [("id", ">", cursor)], order="id", limit=slice_size
            ).ids
            if not slice_ids:
                return found, cursor, True
            wanted = size - len(found)
            passing = partners.search(
                [("id", "in", slice_ids), *domain], order="id", limit=wanted
            )
            found |= passing
            if len(passing) == wanted:  # the slice's later ids stay for next time
                return found, passing.ids[-1], False
            cursor = slice_ids[-1]
            if len(slice_ids) < slice_size:
                return found, cursor, True
        return found, cursor, False
