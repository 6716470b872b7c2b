# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models

OUTCOMES = [("invited", "Invited"), ("skipped", "Skipped"), ("failed", "Failed")]


class PartnerInviteRunLine(models.Model):
    """What a bulk invite run did with one contact: invited it, skipped it (and
    why) or failed to (and the error). Written in batches by the run."""

    _name = "partner.invite.run.line"
    _description = "Contact of a bulk website invite run"
    _order = "run_id desc, id"
    _rec_name = "partner_id"

    run_id = fields.Many2one(
        "partner.invite.run", required=True, ondelete="cascade", index=True
    )
    partner_id = fields.Many2one(
        "res.partner", string="Contact", ondelete="cascade", index=True
    )
    outcome = fields.Selection(OUTCOMES, required=True, index=True)
    # the eligibility rule that skipped the contact (partner_login_eligibility.py)
    rule = fields.Char(readonly=True)
    reason = fields.Char(help="Why the contact was skipped, or the mail's error.")
