# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Compile-once for the addon's batch rendering on Odoo 19.0 (mail_render_mixin.py).

Odoo renders a mail template's body for each record from a freshly parsed fragment,
which QWeb compiles again every time (``ir.qweb._generate_code_uncached``: only
templates given by id or name are cached). Inside ``memoised_compilation()`` the
compiled functions of one fragment are kept for the next records, and every record
is still rendered by Odoo's own ``ir.qweb._render``, with its checks.
"""

import contextlib
import contextvars

from lxml import etree

from odoo import models

from .. import compat

# {(fragment's source, language): what QWeb compiled}, in a batch rendering only
_COMPILED = contextvars.ContextVar("website_login_compiled_fragments", default=None)


@contextlib.contextmanager
def memoised_compilation():
    token = _COMPILED.set({})
    try:
        yield
    finally:
        _COMPILED.reset(token)


class IrQweb(models.AbstractModel):
    _inherit = "ir.qweb"

    def _website_login_compiled(self, template, compile_template):
        compiled = _COMPILED.get()
        if compiled is None or not isinstance(template, etree._Element):
            return compile_template()
        key = (etree.tostring(template), self.env.context.get("lang"))
        if key not in compiled:
            compiled[key] = compile_template()
        return compiled[key]

    if compat.QWEB_COMPILES_ELEMENT == "_generate_code_uncached":  # 19.0

        def _generate_code_uncached(self, template):
            return self._website_login_compiled(
                template, lambda: super(IrQweb, self)._generate_code_uncached(template)
            )
