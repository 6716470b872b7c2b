# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models
from odoo.tools import SQL

from .partner_invite_run_line import STAGES


class PartnerInviteAnalysis(models.Model):
    """The invite funnel: one row per delivered invite (a run line whose mail the
    server accepted), with its stages as counts that add up in Odoo's graph and
    pivot, by run, company, salesperson, stage and week. A view in PostgreSQL: the
    lines are the record, this only reads them (a query, not a table: nothing to
    create or keep in step)."""

    _name = "partner.invite.analysis"
    _description = "Website invite funnel"
    _auto = False
    _order = "invited_at desc, id desc"
    _rec_name = "partner_id"
    # what the query reads, flushed before each search
    _depends = {
        "partner.invite.run.line": [
            "run_id",
            "partner_id",
            "outcome",
            "accepted_at",
            "first_login_at",
            "password_set_at",
            "expired_at",
        ],
        "partner.invite.run": ["origin"],
        "res.partner": ["commercial_partner_id", "user_id"],
    }

    line_id = fields.Many2one("partner.invite.run.line", string="Invite", readonly=True)
    run_id = fields.Many2one("partner.invite.run", readonly=True)
    origin = fields.Selection(
        [("bulk", "Bulk invite"), ("manual", "Random Password Mail")], readonly=True
    )
    partner_id = fields.Many2one("res.partner", string="Contact", readonly=True)
    commercial_partner_id = fields.Many2one(
        "res.partner", string="Company", readonly=True
    )
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    stage = fields.Selection(STAGES, readonly=True)
    invited_at = fields.Datetime(string="Invited", readonly=True)
    first_login_at = fields.Datetime(string="First Login", readonly=True)
    password_set_at = fields.Datetime(string="Own Password Set", readonly=True)
    expired_at = fields.Datetime(string="Expired Unanswered", readonly=True)
    sent_count = fields.Integer(string="Sent", readonly=True)
    delivered_count = fields.Integer(string="Delivered", readonly=True)
    bounced_count = fields.Integer(string="Bounced", readonly=True)
    logged_in_count = fields.Integer(string="Logged In", readonly=True)
    active_count = fields.Integer(string="Active", readonly=True)
    unanswered_count = fields.Integer(string="Unanswered", readonly=True)
    # 100 for an answered delivered invite, 0 for another delivered one, empty
    # for a bounce: its average is the activation rate (active / delivered)
    activation_rate = fields.Float(
        string="Activation Rate (%)", aggregator="avg", readonly=True
    )
    hours_to_first_login = fields.Float(
        string="Hours to First Login", aggregator="avg", readonly=True
    )

    @property
    def _table_query(self):
        return SQL(
            """SELECT line.id AS id,
                       line.id AS line_id,
                       line.run_id,
                       run.origin,
                       line.partner_id,
                       partner.commercial_partner_id,
                       partner.user_id,
                       CASE WHEN line.outcome = 'bounced' THEN 'bounced'
                            WHEN line.password_set_at IS NOT NULL THEN 'active'
                            WHEN line.expired_at IS NOT NULL THEN 'expired'
                            WHEN line.first_login_at IS NOT NULL THEN 'logged_in'
                            ELSE 'sent' END AS stage,
                       line.accepted_at AS invited_at,
                       line.first_login_at,
                       line.password_set_at,
                       line.expired_at,
                       1 AS sent_count,
                       (line.outcome != 'bounced')::int AS delivered_count,
                       (line.outcome = 'bounced')::int AS bounced_count,
                       (line.first_login_at IS NOT NULL)::int AS logged_in_count,
                       (line.password_set_at IS NOT NULL)::int AS active_count,
                       (line.expired_at IS NOT NULL)::int AS unanswered_count,
                       CASE WHEN line.outcome != 'bounced' THEN
                            CASE WHEN line.password_set_at IS NOT NULL
                                 THEN 100.0 ELSE 0.0 END
                       END AS activation_rate,
                       EXTRACT(EPOCH FROM line.first_login_at - line.accepted_at)
                           / 3600.0 AS hours_to_first_login
                  FROM partner_invite_run_line line
                  JOIN partner_invite_run run ON run.id = line.run_id
                  JOIN res_partner partner ON partner.id = line.partner_id
                 WHERE line.accepted_at IS NOT NULL"""
        )
