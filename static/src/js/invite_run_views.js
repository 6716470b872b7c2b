/** @odoo-module */
// The runs' list and form follow a run live: the server tells every Website Login
// manager after each batch (partner.invite.run._notify_managers), and the views
// reload at most once a second, unless the user is editing.
import { onWillUnmount } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { FormController } from "@web/views/form/form_controller";
import { formView } from "@web/views/form/form_view";
import { ListController } from "@web/views/list/list_controller";
import { listView } from "@web/views/list/list_view";

const NOTIFICATION = "partner_website_login/run_progress";

function useRunProgress(reload) {
    const busService = useService("bus_service");
    let timer = null;
    const onProgress = (payload) => {
        if (timer === null) {
            timer = setTimeout(() => {
                timer = null;
                reload(payload);
            }, 1000);
        }
    };
    busService.subscribe(NOTIFICATION, onProgress);
    onWillUnmount(() => {
        busService.unsubscribe(NOTIFICATION, onProgress);
        clearTimeout(timer);
    });
}

export class InviteRunFormController extends FormController {
    setup() {
        super.setup();
        useRunProgress(async () => {
            const record = this.model.root;
            if (record.resId && !(await record.isDirty())) {
                await record.load();
            }
        });
    }
}

export class InviteRunListController extends ListController {
    setup() {
        super.setup();
        useRunProgress(() => this.model.load());
    }
}

registry.category("views").add("partner_invite_run_form", {
    ...formView,
    Controller: InviteRunFormController,
});
registry.category("views").add("partner_invite_run_list", {
    ...listView,
    Controller: InviteRunListController,
});
