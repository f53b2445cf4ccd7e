from odoo import _, models
from odoo.exceptions import UserError

from odoo.addons.logistics_sync_core.exceptions import UnknownCodeError


class LogisticsSyncInboundMessage(models.Model):
    _inherit = "logistics.sync.inbound.message"

    def _get_inbound_handlers(self):
        handlers = super()._get_inbound_handlers()
        handlers[("carrier", "shipment.tracking")] = "_inbound_carrier_shipment_tracking"
        handlers[("carrier", "shipment.pod")] = "_inbound_carrier_shipment_pod"
        return handlers

    def _inbound_carrier_shipment(self, data):
        """The shipment the carrier names: its shipment id, our reference, or a tracking
        number."""
        system = self.system_id
        Shipment = self.env["logistics.sync.shipment"]
        for reference in (data.get("shipment_id"), data.get("tracking_number")):
            if not reference:
                continue
            shipment = self.env["logistics.sync.xref"]._resolve_reference(
                system, Shipment._name, reference
            )
            if not shipment:
                shipment = Shipment.search(
                    [("system_id", "=", system.id), ("tracking_number", "=", reference)],
                    order="id desc",
                    limit=1,
                )
            if shipment and shipment.system_id == system:
                return shipment
        raise UserError(
            _(
                "%(system)s reports on shipment '%(ref)s', which Odoo does not know.",
                system=system.name,
                ref=data.get("shipment_id") or data.get("tracking_number"),
            )
        )

    def _inbound_carrier_shipment_tracking(self, data):
        """A tracking event pushed by the carrier: a milestone (code mapped through the
        system's status code map; an unknown code is quarantined, never guessed)."""
        shipment = self._inbound_carrier_shipment(data)
        try:
            event = shipment._tracking_event(self.system_id, data)
        except UnknownCodeError as exc:
            exc.logistics_sync_codes = [("status", data["code"])]
            raise
        shipment._record_milestones([event], self.transport)
        return shipment, "done"

    def _inbound_carrier_shipment_pod(self, data):
        """A proof of delivery pushed by the carrier."""
        shipment = self._inbound_carrier_shipment(data)
        shipment._receive_pod(data, "carrier")
        return shipment, "done"
