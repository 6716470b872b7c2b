# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The eligibility rules as one table, ``RULES``: who may receive a temporary
password or link on which mail path, and to which address a customer's key user may
send one. partner_login_eligibility.py applies it.

Each row: its key (stored on a run's skipped lines, counted by the funnel), the
mail paths whose contacts must meet its condition, the condition (a domain, or the
name of a method of partner.login.eligibility returning one), the check of a typed
address for a key user, and its message to the seller's staff and to the customer.
A new rule is one row."""

from collections import namedtuple

from odoo.tools.translate import LazyTranslate

_lt = LazyTranslate(__name__)

# The mail paths: a Website Login manager's Random Password Mail (the button, the
# Action menu, an approval), the bulk invite, a customer's key user (its portal page)
MANAGER, BULK, KEY_USER = "manager", "bulk", "key_user"
EVERY_PATH = frozenset((MANAGER, BULK, KEY_USER))
NO_CONTACT_PATH = frozenset()  # a rule on a key user's typed address only

# Contacts to which a mail that sets a password or logs in may go now: not while a
# new email awaits a Website Login manager (partner_login_access.py,
# _email_changed). The gate (_credential_mail_held) and the rule "email_held" ask it.
CREDENTIAL_MAIL_ALLOWED = [("website_email_held", "=", False)]

# What the key user reads for every refused address: the page must not tell whether
# an address is somebody's login, a contact's, bounced or blacklisted
ADDRESS_REFUSED = _lt(
    "This address cannot be invited from here: check it, or ask us to help."
)

Rule = namedtuple(
    "Rule",
    [
        "key",
        "paths",  # the mail paths whose contacts must meet ``condition``
        "condition",  # a domain, or a method of the model returning one
        "message",  # to the seller's staff
        "address",  # a method checking a typed address for a key user, or None
        "customer_message",  # to the key user; None: the staff's message
        "values",  # a method giving the messages' placeholders, or None
    ],
    defaults=[None, None, None],
)

# Checked in this order: a contact is named with the first rule it fails.
RULES = (
    Rule(
        "ended_by_manager",
        frozenset((KEY_USER,)),
        [
            "|",
            ("website_access_ended_by_manager", "=", False),
            ("allow_login", "=", True),
        ],
        message=_lt("A Website Login manager removed this login."),
        customer_message=_lt(
            "We removed this login: ask us if it should be given back."
        ),
    ),
    Rule(
        "contact_archived",
        EVERY_PATH,
        [("active", "=", True)],
        message=_lt("The contact is archived."),
    ),
    Rule(
        "company_archived",
        EVERY_PATH,
        [("commercial_partner_id.active", "=", True)],
        message=_lt("The contact's company is archived."),
    ),
    Rule(
        "is_company",
        EVERY_PATH,
        [("is_company", "=", False)],
        message=_lt("The contact is a company: invite the people who work there."),
    ),
    Rule(
        "invalid_email",
        EVERY_PATH,
        [("website_email_valid", "=", True)],
        message=_lt("The contact has no valid email address: enter exactly one."),
        customer_message=_lt(
            "No valid email address: ask us to correct it, then invite."
        ),
    ),
    Rule(
        "reserved_user",
        EVERY_PATH,
        "_not_reserved_domain",
        message=_lt(
            "The contact belongs to one of Odoo's own users (the public user or the "
            "portal template user)."
        ),
    ),
    Rule(
        "internal_user",
        EVERY_PATH,
        # archived users too: an archived employee's contact is no customer
        [
            (
                "user_ids",
                "not any",
                [("share", "=", False), ("active", "in", [True, False])],
            )
        ],
        message=_lt("The contact is an internal user: they log in the Odoo way."),
    ),
    Rule(
        "awaiting_approval",
        EVERY_PATH,
        [("website_awaiting_approval", "=", False)],
        message=_lt(
            "Added by the company's Website Administrator: it waits for a Website "
            "Login manager's approval (Contacts > Website Invites > Awaiting "
            "Approval)."
        ),
        customer_message=_lt(
            "Waits for our approval: the invite goes out once it is given."
        ),
    ),
    # the bulk invite's population: the contacts left out by it get no line
    Rule(
        "website_disabled",
        frozenset((BULK,)),
        [("website_enabled", "=", True)],
        message=_lt("Website Enabled is off."),
    ),
    Rule(
        "no_username",
        frozenset((BULK,)),
        [("username", "!=", False)],
        message=_lt("No username is set."),
    ),
    Rule(
        "login_disabled",
        frozenset((BULK,)),
        [("allow_login", "=", True)],
        message=_lt("Allow Login is off."),
    ),
    Rule(
        "bounced",
        frozenset((BULK, KEY_USER)),
        [("website_access_state", "!=", "bounced")],
        address="_address_bounced",
        message=_lt(
            "An invite to this address bounced: correct the email to invite the "
            "contact again."
        ),
        customer_message=ADDRESS_REFUSED,
    ),
    Rule(
        "blacklisted",
        frozenset((BULK, KEY_USER)),
        [("is_blacklisted", "=", False)],
        address="_address_blacklisted",
        message=_lt(
            "The address is in Odoo's blacklist (Email Marketing > Blacklisted Email "
            "Addresses)."
        ),
        customer_message=ADDRESS_REFUSED,
    ),
    Rule(
        "bouncing",
        frozenset((BULK, KEY_USER)),
        "_not_bouncing_domain",
        address="_address_bouncing",
        message=_lt("Login mails to this contact bounced %(count)s times or more."),
        customer_message=ADDRESS_REFUSED,
        values="_bounce_limit_values",
    ),
    Rule(
        "email_held",
        frozenset((BULK, KEY_USER)),
        CREDENTIAL_MAIL_ALLOWED,
        message=_lt(
            "Its email was changed by somebody who is not a Website Login manager: "
            "a manager sends the first mail to the new address with Random Password "
            "Mail."
        ),
        customer_message=ADDRESS_REFUSED,
    ),
    # a new colleague's address may be nobody's elsewhere: were only logins
    # refused, the answer would tell a login from a mere contact's address
    Rule(
        "address_known",
        NO_CONTACT_PATH,
        [],
        address="_address_known",
        message=ADDRESS_REFUSED,
    ),
    # somebody else's login (a user's login, the address of its login mails, the
    # email of a contact that logs in) would pass to the colleague with the invite
    Rule(
        "address_is_a_login",
        NO_CONTACT_PATH,
        [],
        address="_address_is_a_login",
        message=ADDRESS_REFUSED,
    ),
    # another user's login: the staff's paths check it on the contacts that pass
    # the other rules (_refusals); a key user's, as "address_is_a_login"
    Rule(
        "login_taken",
        NO_CONTACT_PATH,
        [],
        message=_lt(
            "The login %(login)s already belongs to another user: give the contact "
            "a username."
        ),
    ),
    # a new password would end one of their own: Reset Password is theirs
    Rule(
        "already_active",
        frozenset((BULK, KEY_USER)),
        ["|", ("website_access_state", "!=", "active"), ("allow_login", "=", False)],
        message=_lt("The contact already uses a password of their own."),
        customer_message=_lt(
            "Uses a password of their own: if they forgot it, they choose a new one "
            "with Reset Password on the login page."
        ),
    ),
    # a re-invite only once the last one expired: no mail after mail
    Rule(
        "invite_pending",
        frozenset((BULK, KEY_USER)),
        "_invite_expired_domain",
        message=_lt("An earlier invite has not expired yet."),
        customer_message=_lt(
            "Can be invited again once this invite expires, %(when)s."
        ),
        values="_invite_expiry_values",
    ),
    Rule(
        "invites_unanswered",
        frozenset((BULK,)),
        "_invites_left_domain",
        message=_lt(
            "Its invites went unanswered: a manager invites it again with Random "
            "Password Mail."
        ),
    ),
)

# Rules that leave a contact out for a reason that needs nobody (it logs in
# already, its invite is under way): a run counts them and lists no line for them.
ROUTINE_RULES = {"already_active", "invite_pending"}
# The bulk rule that picks the run's population instead of leaving contacts out.
POPULATION_RULE = "website_disabled"

# A bulk batch's rules are checked on this many ids of the primary key at a time
# (times the batch size, at least the minimum): see _next_invitees
CANDIDATE_SLICE_FACTOR = 10
MIN_CANDIDATE_SLICE = 2000
