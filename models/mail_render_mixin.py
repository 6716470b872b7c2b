# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from lxml import html
from markupsafe import Markup

from odoo import api, models
from odoo.tools import safe_eval

from .. import compat
from .ir_qweb import memoised_compilation

# Context key set by the addon's batch mail rendering of its own two templates.
COMPILE_ONCE = "website_login_compile_once"


class MailRenderMixin(models.AbstractModel):
    _inherit = "mail.render.mixin"

    @api.model
    def _render_template_qweb(
        self, template_src, model, res_ids, add_context=None, options=None
    ):
        """Odoo compiles a QWeb template again for every record; the bulk invite
        renders thousands, so it compiles once and renders each record with the
        same function: compiling is most of a rendering's cost
        (benchmarks/qweb_compile_once.py compares both ways).

        Only for the addon's own rendering: in sudo (which Odoo renders without
        restriction anyway) of its two templates, which only Website Login managers
        may edit (mail_template.py). Everything else, errors included, goes the
        Odoo way: no rendering rule of Odoo's is copied here.

        On 19.0, whose QWeb is another engine, Odoo's own loop renders each record
        (ir.qweb._render, with its checks) and only the compilation of the
        fragment is kept for the next records (ir_qweb.py)."""
        if not (
            self.env.context.get(COMPILE_ONCE)
            and self.env.su
            and len(res_ids) > 1
            and template_src
        ):
            return super()._render_template_qweb(
                template_src, model, res_ids, add_context, options
            )
        if compat.ODOO_MAJOR >= 19:
            with memoised_compilation():
                return super()._render_template_qweb(
                    template_src, model, res_ids, add_context, options
                )
        variables = self._render_eval_context()
        variables.update(add_context or {})
        qweb = (
            self.env["ir.qweb"]
            .with_context(**(options or {}))
            ._prepare_environment(variables)
        )
        safe_eval.check_values(variables)
        try:
            functions, def_name = qweb._compile(
                html.fragment_fromstring(template_src, create_parent="div")
            )
            render = functions[def_name]
            results = {}
            for record in self.env[model].browse(res_ids):
                rendered = "".join(render(qweb, dict(variables, object=record)))
                # [5:-6]: the <div> wrapping the fragment, which Odoo removes too
                results[record.id] = Markup(rendered)[5:-6]
            return results
        except compat.QWebError:
            return super()._render_template_qweb(
                template_src, model, res_ids, add_context, options
            )
