/** @odoo-module */
// The invite funnel's graph: each bar named in full (Odoo's graph cuts a label at
// 30 characters, and a run's name is longer), the axis counting whole invites.
import { registry } from "@web/core/registry";
import { GraphRenderer } from "@web/views/graph/graph_renderer";
import { graphView } from "@web/views/graph/graph_view";

const LINE_LENGTH = 30;

function inLines(label) {
    const lines = [];
    for (const word of String(label).split(" ")) {
        const last = lines.length - 1;
        if (last >= 0 && (lines[last] + " " + word).length <= LINE_LENGTH) {
            lines[last] += " " + word;
        } else {
            lines.push(word);
        }
    }
    return lines;
}

export class InviteFunnelGraphRenderer extends GraphRenderer {
    getScaleOptions() {
        const scales = super.getScaleOptions();
        if (scales.x && scales.y) {
            const { labels } = this.model.data;
            scales.x.ticks.callback = (value, index) => inLines(labels[index]);
            const { measure, measures } = this.model.metaData;
            if (measure === "__count" || measures[measure]?.type === "integer") {
                scales.y.ticks.precision = 0;
                scales.y.ticks.callback = (value) => this.formatValue(value, true);
            }
        }
        return scales;
    }
}

registry.category("views").add("partner_invite_funnel_graph", {
    ...graphView,
    Renderer: InviteFunnelGraphRenderer,
});
