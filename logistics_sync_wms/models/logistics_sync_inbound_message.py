from odoo import models
from odoo.exceptions import UserError


class LogisticsSyncInboundMessage(models.Model):
    _inherit = "logistics.sync.inbound.message"

    def _get_inbound_handlers(self):
        handlers = super()._get_inbound_handlers()
        for kind in ("wms", "3pl"):
            handlers[(kind, "fulfilment.confirmation")] = f"_inbound_{kind}_fulfilment_confirmation"
            handlers[(kind, "fulfilment.reservation")] = f"_inbound_{kind}_fulfilment_reservation"
            handlers[(kind, "inventory.snapshot")] = f"_inbound_{kind}_inventory_snapshot"
        return handlers

    # The handlers serve every transport of inbound messages (webhook, RabbitMQ queue): the
    # records they make name it as their source.

    def _inbound_wms_fulfilment_confirmation(self, data):
        """A pick/pack/ship confirmation: recorded and applied once per confirmation id;
        one that cannot apply is kept as a confirmation in error (the message is done)."""
        confirmation = self.env["logistics.sync.wms.confirmation"]._receive_confirmation(
            self.system_id, data, source=self.transport, reference=self.message_id
        )
        return confirmation, "done"

    def _inbound_wms_fulfilment_reservation(self, data):
        """A reservation or shortage report, recorded and applied once per reservation id."""
        reservation = self.env["logistics.sync.wms.confirmation"]._receive_reservation(
            self.system_id, data, source=self.transport, reference=self.message_id
        )
        return reservation, "done"

    def _inbound_wms_inventory_snapshot(self, data):
        """Store an inventory snapshot (or one part of it) for reconciliation.

        ``data``: ``{"snapshot_id"?, "kind"?, "taken_at"?, "warehouse", "part"?,
        "last_part"?, "items": [{"sku", "location"?, "lot"?, "quantity"}]}``. Without
        ``snapshot_id`` the message id names the snapshot; without ``kind`` it is *partial*
        (only what it lists is compared); ``part`` numbers the parts of a large snapshot
        from 1 and ``last_part`` (default true) closes it.
        """
        header = {
            "snapshot_id": data.get("snapshot_id") or self.message_id,
            "kind": data.get("kind") or "partial",
            "taken_at": data.get("taken_at"),
            "warehouse": data.get("warehouse"),
        }
        part = data.get("part")
        if part is not None and (isinstance(part, bool) or not isinstance(part, int)):
            raise UserError(self.env._("part must be an integer from 1."))
        snapshot, _accepted = self.env["logistics.sync.inventory.snapshot"]._receive_snapshot_part(
            self.system_id,
            header,
            data.get("items") or [],
            part=part,
            last=data.get("last_part", True) is not False,
            source=self.transport,
            reference=self.message_id,
        )
        return snapshot, "done"

    _inbound_3pl_fulfilment_confirmation = _inbound_wms_fulfilment_confirmation
    _inbound_3pl_fulfilment_reservation = _inbound_wms_fulfilment_reservation
    _inbound_3pl_inventory_snapshot = _inbound_wms_inventory_snapshot
