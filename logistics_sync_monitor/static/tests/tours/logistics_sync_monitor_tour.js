/** @odoo-module **/
import { registry } from "@web/core/registry";

// Opens the warehouse dashboard, clicks the open-exceptions tile, assigns an exception to
// oneself and resolves it (the test checks the result in the database).
registry.category("web_tour.tours").add("logistics_sync_monitor_desk", {
    steps: () => [
        {
            content: "The dashboard shows the open exceptions",
            trigger: ".o_logistics_sync_dashboard .o_ls_tile[data-key='exceptions'] .o_ls_value:contains('1')",
        },
        {
            content: "Click the tile",
            trigger: ".o_logistics_sync_dashboard .o_ls_tile[data-key='exceptions'] .o_ls_tile_open",
            run: "click",
        },
        {
            content: "Open the exception",
            trigger: ".o_kanban_record:contains('S-TOUR did not reach')",
            run: "click",
        },
        {
            content: "Assign it to me",
            trigger: ".o_form_view button[name='action_assign_to_me']",
            run: "click",
        },
        {
            content: "It is assigned",
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains('Assigned')",
        },
        {
            content: "Resolve it",
            trigger: ".o_form_view button[name='action_resolve']",
            run: "click",
        },
        {
            content: "It is resolved",
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains('Resolved')",
        },
    ],
});
