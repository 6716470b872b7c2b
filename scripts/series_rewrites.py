# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The rewrites that turn the repository's addon (Odoo 18.0, the root) into the
addon of another series, applied by scripts/make_series.py.

Only for what cannot be written the same way for both series (the manifest's
version, data fields Odoo renamed); Python code runs unchanged on both through
compat.py. Each rewrite names its files, the exact text it replaces (``old`` is
found at least once in every file it lists, or make_series.py fails: a rewrite
can never silently stop applying) and, in one line, why.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Rewrite:
    why: str
    files: tuple
    old: str
    new: str


PRIVILEGE = """    <record id="privilege_website_login" model="res.groups.privilege">
        <field name="name">Website Login</field>
        <field name="category_id" ref="module_category_website_login" />
    </record>
    <record id="group_website_login_manager" model="res.groups">"""

REWRITES = {
    "19.0": [
        Rewrite(
            why="a manifest's version starts with its series, or Odoo 19.0 marks "
            "the addon not installable",
            files=("__manifest__.py",),
            old='"version": "18.0.',
            new='"version": "19.0.',
        ),
        Rewrite(
            why="19.0 renamed the groups of actions and users groups_id to group_ids",
            files=("data/ir_actions_server_data.xml", "demo/res_partner_demo.xml"),
            old='name="groups_id"',
            new='name="group_ids"',
        ),
        Rewrite(
            why="19.0 groups no longer have category_id: a res.groups.privilege "
            "(name, category) holds the group",
            files=("security/partner_website_login_security.xml",),
            old='    <record id="group_website_login_manager" model="res.groups">',
            new=PRIVILEGE,
        ),
        Rewrite(
            why="the group points at its privilege instead of the category",
            files=("security/partner_website_login_security.xml",),
            old='<field name="category_id" ref="module_category_website_login" />\n'
            '        <field name="implied_ids"',
            new='<field name="privilege_id" ref="privilege_website_login" />\n'
            '        <field name="implied_ids"',
        ),
        Rewrite(
            why="19.0 moved the sign-up's login field from auth_signup.fields into "
            "auth_signup.signup",
            files=("views/auth_signup_templates.xml",),
            old='inherit_id="auth_signup.fields"',
            new='inherit_id="auth_signup.signup"',
        ),
    ],
}
