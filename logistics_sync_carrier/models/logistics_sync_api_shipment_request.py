from odoo import fields, models

from odoo.addons.logistics_sync_webhook import inbound


class LogisticsSyncApiShipmentRequest(models.Model):
    _inherit = "logistics.sync.api.shipment.request"

    shipment_id = fields.Many2one(
        "logistics.sync.shipment", string="Carrier booking", readonly=True
    )

    def _process(self):
        """Book through the same saga as a validated transfer when the transfer's shipping
        method (or the one offering the requested service) is one of ours."""
        carrier = self._logistics_sync_carrier()
        if not carrier:
            return super()._process()
        shipment = self.env["logistics.sync.shipment"]._book(
            self.picking_id, carrier, source="api", system=self.system_id
        )
        self.write({"state": "done", "shipment_id": shipment.id})
        return 202, {
            "id": self.uid,
            "status": shipment.state,
            "shipment_id": self.env["logistics.sync.record"]._canonical_id(self.picking_id),
            "booking_id": shipment.reference,
        }

    def _logistics_sync_carrier(self):
        """The shipping method to book with: the transfer's, or the one of ours offering
        the requested service. 422 when the transfer's carrier does not offer that service;
        nothing (recorded only) when no method of ours is concerned."""
        self.ensure_one()
        current = self.picking_id.carrier_id
        ours = current if current and current._logistics_sync_is_ours() else current.browse()
        if not self.service or (ours and ours.logistics_sync_service == self.service):
            return ours
        domain = [
            ("delivery_type", "in", self.env["delivery.carrier"]._logistics_sync_delivery_types()),
            ("logistics_sync_service", "=", self.service),
            ("company_id", "in", [False, self.picking_id.company_id.id]),
        ]
        if ours:
            domain.append(("logistics_sync_system_id", "=", ours.logistics_sync_system_id.id))
        carrier = self.env["delivery.carrier"].search(domain, order="sequence, id", limit=1)
        if not carrier and ours:
            raise inbound.InboundError(
                422,
                "unprocessable",
                f"No shipping method offers the service {self.service!r} for this transfer.",
                path="$.service",
            )
        return carrier
