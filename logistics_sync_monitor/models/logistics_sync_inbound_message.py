from odoo import _, models


class LogisticsSyncInboundMessage(models.Model):
    """Inbound messages that could not be applied feed the desk, one exception each."""

    _name = "logistics.sync.inbound.message"
    _inherit = ["logistics.sync.inbound.message", "logistics.sync.exception.source"]

    def _exception_kind(self):
        return "inbound_error"

    def _exception_needed(self):
        if self.state == "error":
            return True
        return False if self.state in ("done", "parked") else None

    def _exception_values(self):
        record = self._exception_record(self.res_model, self.res_id)
        return {
            "name": _(
                "%(type)s %(id)s from %(system)s could not be applied",
                type=self.type_code or _("Message"),
                id=self.message_id,
                system=self.system_id.name,
            ),
            "system_id": self.system_id.id,
            "detail": self.error or False,
            **self._exception_links(record, severity="high"),
        }

    def _exception_resolution_note(self):
        return _("The message was applied.")
