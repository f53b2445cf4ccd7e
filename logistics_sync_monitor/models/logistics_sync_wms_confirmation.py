from odoo import _, models


class LogisticsSyncWmsConfirmation(models.Model):
    """WMS confirmations that cannot apply feed the desk: one exception per confirmation,
    counting each failed attempt (a Retry failing again); applying it resolves it, as does
    dismissing it on the confirmation. Quarantined ones are left to the unknown code's own
    exception (mapping the code and retrying applies them)."""

    _name = "logistics.sync.wms.confirmation"
    _inherit = ["logistics.sync.wms.confirmation", "logistics.sync.exception.source"]

    def _exception_kind(self):
        return "wms_confirmation"

    def _exception_needed(self):
        if self.state == "error":
            return True
        return False if self.state in ("applied", "dismissed") else None

    def _exception_values(self):
        fulfilment = self.fulfilment_id
        values = {
            "name": _(
                "%(picking)s: %(kind)s %(id)s from %(system)s could not be applied",
                picking=fulfilment.picking_id.name or self.fulfilment_ref or "?",
                kind=dict(self._fields["kind"].selection).get(self.kind, self.kind),
                id=self.external_id,
                system=self.system_id.name,
            ),
            "detail": self.error or False,
            "system_id": self.system_id.id,
            **self._exception_links(fulfilment.picking_id, severity="high"),
        }
        if not values.get("warehouse_id") and fulfilment.warehouse_id:
            values["warehouse_id"] = fulfilment.warehouse_id.id
        return values

    def _exception_resolution_note(self):
        return _("The confirmation was applied or dismissed.")
