from odoo import _, models


class LogisticsSyncParkedChange(models.Model):
    """Changes parked by ownership rules feed the desk until accepted or discarded."""

    _name = "logistics.sync.parked.change"
    _inherit = ["logistics.sync.parked.change", "logistics.sync.exception.source"]

    def _exception_kind(self):
        return "parked_change"

    def _exception_needed(self):
        return self.state == "pending"

    def _exception_values(self):
        record = self._exception_record(self.res_model, self.res_id)
        return {
            "name": _(
                "%(system)s wants to change %(record)s",
                system=self.system_id.name,
                record=record.sudo().display_name if record else self.res_model,
            ),
            "system_id": self.system_id.id,
            "detail": self.reason or False,
            **self._exception_links(record),
        }

    def _exception_resolution_note(self):
        return _("The parked change was applied or discarded.")
