from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..carrier_json import JsonCarrierClient
from ..exceptions import CarrierConfigError, CarrierError, CarrierRejected


class DeliveryCarrier(models.Model):
    """Shipping methods booked through Logistics Sync.

    Each carrier protocol is a ``delivery_type`` with Odoo's provider method set
    (``<type>_rate_shipment``, ``<type>_send_shipping``, ``<type>_get_tracking_link``,
    ``<type>_cancel_shipment``, ``<type>_get_return_label``) plus three of ours, for what
    the booking and cancellation runs do one shipment at a time:
    ``<type>_fetch_label(shipment, package)`` (PDF bytes), ``<type>_cancel_booking(shipment)``
    and ``<type>_get_tracking(shipment)`` (events and proof of delivery, for polling). Add a
    protocol by adding the type to ``delivery_type`` and to
    :meth:`_logistics_sync_delivery_types`, and writing that method set; nothing else
    changes. ``ls_json`` is the generic JSON protocol of ``carrier_json.py``.

    ``send_shipping`` is never called while a user validates a transfer: validation starts
    the booking saga (``logistics.sync.shipment``), whose first job calls it.
    """

    _inherit = "delivery.carrier"

    delivery_type = fields.Selection(
        selection_add=[("ls_json", "Logistics Sync: JSON carrier API")],
        ondelete={"ls_json": lambda carriers: carriers.write({"delivery_type": "fixed"})},
    )
    logistics_sync_system_id = fields.Many2one(
        "logistics.sync.system",
        string="Carrier system",
        domain=[("kind", "=", "carrier")],
        ondelete="restrict",
        help="The carrier as an external system of Logistics Sync: its API address, timeout "
        "and encrypted API key, its code maps (services, tracking codes) and its inbound "
        "webhooks.",
    )
    logistics_sync_service = fields.Char(
        string="Service",
        help="Canonical service booked with this method (e.g. 'express'); the carrier's own "
        "code comes from the system's code map of domain 'Carrier service'.",
    )
    logistics_sync_fallback_ids = fields.Many2many(
        "delivery.carrier",
        "logistics_sync_carrier_fallback_rel",
        "carrier_id",
        "fallback_id",
        string="Fallback carriers",
        domain=[("delivery_type", "=like", "ls\\_%")],
        help="When this carrier rejects a booking, these are tried in turn (in the order of "
        "their sequence), each once.",
    )

    @api.model
    def _logistics_sync_delivery_types(self):
        """The delivery types booked through Logistics Sync, one per carrier protocol."""
        return ["ls_json"]

    def _logistics_sync_is_ours(self):
        self.ensure_one()
        return self.delivery_type in self._logistics_sync_delivery_types()

    @api.constrains("delivery_type", "logistics_sync_system_id")
    def _check_logistics_sync_system(self):
        for carrier in self:
            if (
                carrier._logistics_sync_is_ours()
                and carrier.logistics_sync_system_id.kind != "carrier"
            ):
                raise ValidationError(
                    _(
                        "%s is booked through Logistics Sync: choose its carrier system.",
                        carrier.name,
                    )
                )

    @api.depends("delivery_type")
    def _compute_can_generate_return(self):
        result = super()._compute_can_generate_return()
        for carrier in self.filtered(lambda c: c.delivery_type == "ls_json"):
            carrier.can_generate_return = True
        return result

    def _logistics_sync_call(self, operation, *args):
        """Call this carrier's protocol method ``<delivery_type>_<operation>``."""
        self.ensure_one()
        return getattr(self, f"{self.delivery_type}_{operation}")(*args)

    def _logistics_sync_next_fallback(self, tried):
        """The first fallback carrier not in ``tried`` (a recordset), or an empty one."""
        self.ensure_one()
        candidates = self.logistics_sync_fallback_ids.sorted(lambda c: (c.sequence, c.id))
        return (candidates - tried - self)[:1]

    # ------------------------------------------------------------------ ls_json protocol
    def _ls_json_client(self):
        self.ensure_one()
        system = self.logistics_sync_system_id.sudo()
        return JsonCarrierClient(
            system._http_session(),
            system.carrier_base_url,
            system._carrier_api_key(),
            system.carrier_timeout,
        )

    def _logistics_sync_service_code(self):
        """The carrier's code of this method's service (code map), or None without one."""
        self.ensure_one()
        if not self.logistics_sync_service:
            return None
        system = self.logistics_sync_system_id
        code = (
            self.env["logistics.sync.code.map"]
            .sudo()
            ._to_external(system, "carrier_service", self.logistics_sync_service)
        )
        if not code:
            raise CarrierConfigError(
                _(
                    "%(system)s has no code for the service '%(service)s': add it under "
                    "Configuration > Code Maps (domain Carrier service).",
                    system=system.name,
                    service=self.logistics_sync_service,
                )
            )
        return code

    def ls_json_rate_shipment(self, order):
        """Ask the carrier for a price (Odoo's rate on the sale order; bounded by the
        system's timeout)."""
        self.ensure_one()
        shipment_model = self.env["logistics.sync.shipment"]
        payload = {
            "service": None,
            "ship_from": shipment_model._address(order.warehouse_id.partner_id),
            "ship_to": shipment_model._address(order.partner_shipping_id),
            "packages": [{"weight": order._get_estimated_weight() or 1.0}],
        }
        try:
            payload["service"] = self._logistics_sync_service_code()
            answer = self._ls_json_client().rate(payload)
        except CarrierError as exc:
            return {
                "success": False,
                "price": 0.0,
                "error_message": exc.reason,
                "warning_message": False,
            }
        price = float(answer.get("price") or 0.0)
        currency = self.env["res.currency"].search([("name", "=", answer.get("currency"))], limit=1)
        if currency and currency != order.currency_id:
            price = currency._convert(price, order.currency_id, order.company_id, order.date_order)
        return {"success": True, "price": price, "error_message": False, "warning_message": False}

    def ls_json_send_shipping(self, pickings):
        """Book the open shipment of each transfer; called by the booking saga's first job,
        never while a user validates. Return Odoo's ``[{exact_price, tracking_number}]``."""
        self.ensure_one()
        client = self._ls_json_client()
        results = []
        for picking in pickings:
            shipment = picking._logistics_sync_open_shipment()
            answer = client.book(shipment.reference, shipment._carrier_payload())
            shipment._set_booking(answer)
            results.append(
                {"exact_price": shipment.price, "tracking_number": shipment.tracking_number}
            )
        return results

    def ls_json_fetch_label(self, shipment, package):
        """The PDF label of one package of a booked shipment."""
        self.ensure_one()
        return self._ls_json_client().label(shipment.carrier_ref, package.reference)

    def ls_json_get_tracking(self, shipment):
        """``{"events": [...], "pod": {...} or None}`` as the carrier reports them."""
        self.ensure_one()
        return self._ls_json_client().tracking(shipment.carrier_ref or shipment.reference)

    def ls_json_get_tracking_link(self, picking):
        self.ensure_one()
        tracking = (picking.carrier_tracking_ref or "").split(",")[0].strip()
        if self.tracking_url and tracking:
            return self.tracking_url.replace("<shipmenttrackingnumber>", tracking)
        return False

    def ls_json_cancel_shipment(self, pickings):
        """Cancel the open bookings of these transfers at the carrier, now."""
        self.ensure_one()
        for shipment in pickings.logistics_sync_shipment_ids.filtered(
            lambda s: s.state in ("booked", "cancelling", "cancel_failed") and s.carrier_id == self
        ):
            self.ls_json_cancel_booking(shipment)

    def ls_json_cancel_booking(self, shipment):
        """Cancel one booking at the carrier (its id, or our reference for a booking whose
        answer was lost). A booking the carrier does not know is nothing to cancel."""
        self.ensure_one()
        try:
            self._ls_json_client().cancel(shipment.carrier_ref or shipment.reference)
        except CarrierRejected as exc:
            if exc.status != 404:
                raise

    def ls_json_get_return_label(self, pickings, tracking_number=None, origin_date=None):
        """A return label for each return transfer, attached to it with Odoo's return label
        prefix (so *Print Return Label* and the customer portal find it)."""
        self.ensure_one()
        client = self._ls_json_client()
        for picking in pickings:
            original = picking._logistics_sync_returned_shipment()
            if not original:
                raise CarrierConfigError(
                    _(
                        "%s returns goods of no shipment booked through Logistics Sync.",
                        picking.name,
                    )
                )
            answer = client.return_label(
                original.carrier_ref,
                {"reference": original.reference, "origin_date": str(origin_date or "")},
            )
            self.env["ir.attachment"].create(
                {
                    "name": f"{self.get_return_label_prefix()}-{answer['tracking_number']}.pdf",
                    "datas": answer["label"],
                    "res_model": "stock.picking",
                    "res_id": picking.id,
                    "mimetype": "application/pdf",
                }
            )
            picking.message_post(
                body=_("Return label %s from the carrier.", answer["tracking_number"])
            )
        return True
