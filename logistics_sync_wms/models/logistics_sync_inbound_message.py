from odoo import models


class LogisticsSyncInboundMessage(models.Model):
    _inherit = "logistics.sync.inbound.message"

    def _get_inbound_handlers(self):
        handlers = super()._get_inbound_handlers()
        for kind in ("wms", "3pl"):
            handlers[(kind, "fulfilment.confirmation")] = f"_inbound_{kind}_fulfilment_confirmation"
            handlers[(kind, "fulfilment.reservation")] = f"_inbound_{kind}_fulfilment_reservation"
        return handlers

    def _inbound_wms_fulfilment_confirmation(self, data):
        """A pick/pack/ship confirmation: recorded and applied once per confirmation id;
        one that cannot apply is kept as a confirmation in error (the message is done)."""
        confirmation = self.env["logistics.sync.wms.confirmation"]._receive_confirmation(
            self.system_id, data, source="webhook", reference=self.message_id
        )
        return confirmation, "done"

    def _inbound_wms_fulfilment_reservation(self, data):
        """A reservation or shortage report, recorded and applied once per reservation id."""
        reservation = self.env["logistics.sync.wms.confirmation"]._receive_reservation(
            self.system_id, data, source="webhook", reference=self.message_id
        )
        return reservation, "done"

    _inbound_3pl_fulfilment_confirmation = _inbound_wms_fulfilment_confirmation
    _inbound_3pl_fulfilment_reservation = _inbound_wms_fulfilment_reservation
