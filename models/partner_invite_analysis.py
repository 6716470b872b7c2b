# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools import SQL

from .partner_invite_run import RUN_ORIGINS
from .partner_invite_run_line import STAGES

# the funnel's figures, each a column of the analysis summed by run
FUNNEL_COUNTS = {
    "delivered": "delivered_count",
    "bounced": "bounced_count",
    "logged_in": "logged_in_count",
    "login_only": "login_only_count",
    "active": "active_count",
    "unanswered": "unanswered_count",
}


class PartnerInviteAnalysis(models.Model):
    """The invite funnel: one row per delivered invite (a run line whose mail the
    server accepted), with its stages as counts that add up in Odoo's graph and
    pivot, by run, company, salesperson, stage and week, and the run form's funnel
    (``_funnels``). The one place a stage is defined: the lines are the record,
    this query reads them (not a table: nothing to create or keep in step)."""

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
    origin = fields.Selection(RUN_ORIGINS, readonly=True)
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
    login_only_count = fields.Integer(string="Logged In Only", readonly=True)
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
                       (line.first_login_at IS NOT NULL
                        AND line.password_set_at IS NULL)::int AS login_only_count,
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

    @api.model
    def _funnels(self, run_ids):
        """{run id: {delivered, bounced, logged_in, login_only, active, unanswered,
        median_hours}} of the runs ``run_ids``, summed over this query's rows (one
        query)."""
        if not run_ids:
            return {}
        self.env["partner.invite.run.line"].flush_model()
        sums = SQL(", ").join(
            SQL("sum(%s)", SQL.identifier(column)) for column in FUNNEL_COUNTS.values()
        )
        self.env.cr.execute(
            SQL(
                """SELECT run_id, %s,
                          percentile_cont(0.5) WITHIN GROUP (ORDER BY
                              hours_to_first_login)
                     FROM (%s) analysis
                    WHERE run_id IN %s
                 GROUP BY run_id""",
                sums,
                self._table_query,
                tuple(run_ids),
            )
        )
        return {
            run_id: {
                **dict(zip(FUNNEL_COUNTS, map(int, figures[:-1]), strict=True)),
                "median_hours": figures[-1],
            }
            for run_id, *figures in self.env.cr.fetchall()
        }

    @api.model
    def _funnel_bar(self, funnel):
        """A stacked bar of a run's sent mails: own password set, logged in only
        (with what the mail carried), neither, bounced.

        :param funnel: a run's figures, as ``_funnels`` gives them
        """
        delivered, bounced, logged_in, active, unanswered, login_only = (
            funnel.get(name, 0)
            for name in (
                "delivered",
                "bounced",
                "logged_in",
                "active",
                "unanswered",
                "login_only",
            )
        )
        sent = delivered + bounced
        if not sent:
            return False
        _ = self.env._
        parts = [
            (active, "bg-success", _("Own password set")),
            (login_only, "bg-info", _("Logged in only")),
            (delivered - active - login_only, "bg-secondary", _("Not logged in")),
            (bounced, "bg-danger", _("Bounced")),
        ]
        bars = Markup().join(
            Markup(
                '<div class="progress-bar %s" role="progressbar" style="width: %s%%"'
                ' title="%s">%s</div>'
            )
            % (css, round(100.0 * count / sent, 2), f"{label}: {count}", count)
            for count, css, label in parts
            if count > 0
        )
        legend = _(
            "%(delivered)s delivered, %(logged_in)s logged in, %(active)s set their "
            "own password, %(bounced)s bounced, %(unanswered)s expired unanswered",
            delivered=delivered,
            logged_in=logged_in,
            active=active,
            bounced=bounced,
            unanswered=unanswered,
        )
        return Markup(
            '<div class="o_partner_invite_funnel"><div class="progress" '
            'style="height: 1.5rem">%s</div><small class="text-muted">%s</small>'
            "</div>"
        ) % (bars, legend)
