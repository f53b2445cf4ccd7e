import json
import uuid

from odoo import api, models
from odoo.exceptions import UserError

from odoo.addons.logistics_sync_core.models.logistics_sync_event import (
    CONTEXT_CAUSATION,
    CONTEXT_CORRELATION,
    CONTEXT_ORIGIN,
)

from .. import api as api_tools
from .. import inbound, openapi

_SHIPMENT_REQUEST_SCHEMA = json.dumps(
    {
        "type": "object",
        "required": ["picking_id"],
        "properties": {
            "picking_id": {"type": "string", "minLength": 1, "maxLength": 200},
            "service": {"type": ["string", "null"], "maxLength": 100},
            "reference": {"type": ["string", "null"], "maxLength": 200},
        },
        "additionalProperties": True,
    }
)


def _iso(value):
    return value.isoformat() + "Z" if value else None


class LogisticsSyncApi(models.AbstractModel):
    """The partner REST API v1 behind ``controllers/api.py``: one ``_api_<operation>`` method
    per route, called with the authenticated key (as superuser, in the key's company).

    Each returns ``(status, body)`` or raises :class:`~..inbound.InboundError`. A key only
    reaches records of its own system: records it has a cross-reference for, that events
    were routed to it about, or the transfers of such orders.
    """

    _name = "logistics.sync.api"
    _description = "Logistics Sync Partner API"

    # ------------------------------------------------------------ helpers

    @api.model
    def _openapi_document(self):
        """The OpenAPI document served at ``openapi.json``; addons that add or change
        routes extend it (see the ``openapi`` module's builders)."""
        return openapi.document()

    @api.model
    def _parse_json(self, body):
        value = inbound.load_json(body)
        if not isinstance(value, dict):
            raise inbound.InboundError(
                422, "schema_violation", "The body must be a JSON object.", path="$"
            )
        inbound.check_text(value, "$")
        return value

    @api.model
    def _visible(self, system, record):
        """Whether ``system`` may see ``record`` (else: 404, as if it did not exist)."""
        if system.company_id and "company_id" in record._fields:
            if record.company_id and record.company_id != system.company_id:
                return False
        Xref = self.env["logistics.sync.xref"]
        if Xref.search_count(Xref._domain(system, record._name, res_id=record.id), limit=1):
            return True
        routed = self.env["logistics.sync.message"].search_count(
            [
                ("system_id", "=", system.id),
                ("event_id.aggregate_model", "=", record._name),
                ("event_id.aggregate_id", "=", record.id),
            ],
            limit=1,
        )
        if routed:
            return True
        if record._name == "stock.picking" and record.sale_id:
            return self._visible(system, record.sale_id)
        return False

    @api.model
    def _resolve(self, key, res_model, reference, what):
        """The ``res_model`` record ``reference`` names for the key's system: the system's
        own id (cross-reference) or the canonical id; 404 when unknown or not visible."""
        system = key.system_id
        if not inbound.ID_RE.fullmatch(reference or ""):
            raise api_tools.not_found(what)
        record = self.env["logistics.sync.xref"]._resolve_reference(system, res_model, reference)
        if not record or not self._visible(system, record):
            raise api_tools.not_found(what)
        return record

    @api.model
    def _id_fields(self, system, record):
        return {
            "id": self.env["logistics.sync.record"]._canonical_id(record),
            "external_id": self.env["logistics.sync.xref"]._external_id(system, record) or None,
        }

    @api.model
    def _order_json(self, system, order):
        return {
            **self._id_fields(system, order),
            "name": order.name,
            "state": order.state,
            "client_order_ref": order.client_order_ref or None,
            "date_order": _iso(order.date_order),
            "currency": order.currency_id.name,
            "amount_total": order.amount_total,
            "warehouse": order.warehouse_id.code or None,
            "lines": [
                {
                    "sku": line.product_id.default_code or None,
                    "quantity": line.product_uom_qty,
                    "uom": line.product_uom.name,
                    "delivered": line.qty_delivered,
                    "price_unit": line.price_unit,
                }
                for line in order.order_line.filtered(lambda ln: not ln.display_type)
            ],
            "shipments": [
                {
                    "id": self.env["logistics.sync.record"]._canonical_id(picking),
                    "name": picking.name,
                    "state": picking.state,
                }
                for picking in order.picking_ids.sorted("id")
            ],
        }

    # ------------------------------------------------------------ orders

    @api.model
    def _api_order_create(self, key, body):
        """``POST /orders``: 201 with the order, 200 when the system's ``external_id`` is
        already an order."""
        system = key.system_id
        data = self._parse_json(body)
        schema = self.env["logistics.sync.event.type"]._get("order.created").json_schema
        inbound.check_schema(schema, data, "$")
        if not inbound.ID_RE.fullmatch(data["external_id"]):
            raise api_tools.invalid(
                "external_id must be 1-200 printable characters.", path="$.external_id"
            )
        for index, line in enumerate(data["lines"]):
            error = api_tools.line_amount_error(line, index)
            if error:
                raise api_tools.invalid(error[0], path=error[1])
        existing = self.env["logistics.sync.xref"]._resolve(
            system, "sale.order", data["external_id"]
        )
        if existing:
            return 200, self._order_json(system, existing)
        handler = (
            self.env["logistics.sync.inbound.message"]
            .with_context(
                **{
                    CONTEXT_ORIGIN: system.id,
                    CONTEXT_CORRELATION: f"api:{uuid.uuid4()}",
                    CONTEXT_CAUSATION: False,
                }
            )
            .new({"system_id": system.id})
        )
        try:
            with self.env.cr.savepoint():
                order, _state = handler._inbound_marketplace_order_created(data)
        except UserError as exc:
            raise inbound.InboundError(
                422, "unprocessable", exc.args[0] if exc.args else str(exc)
            ) from None
        return 201, self._order_json(system, order)

    @api.model
    def _api_order_get(self, key, reference):
        order = self._resolve(key, "sale.order", reference, "order")
        return 200, self._order_json(key.system_id, order)

    # ------------------------------------------------------------ stock

    @api.model
    def _api_stock(self, key, sku, warehouse_code=None):
        """``GET /stock``: on hand, available (not reserved) and forecast quantities of the
        product ``sku`` (internal reference) per warehouse of the system's company."""
        if not sku:
            raise api_tools.invalid("The query parameter sku is required.", path="sku")
        api_tools.check_query_text(sku, "sku")
        api_tools.check_query_text(warehouse_code, "warehouse")
        company = self.env.company
        product = self.env["product.product"].search(
            [("default_code", "=", sku), ("company_id", "in", [False, company.id])], limit=1
        )
        if not product:
            raise api_tools.not_found("product")
        domain = [("company_id", "=", company.id)]
        if warehouse_code:
            domain.append(("code", "=", warehouse_code))
        warehouses = self.env["stock.warehouse"].search(domain, order="id")
        if not warehouses:
            raise api_tools.not_found("warehouse")
        lines = []
        for warehouse in warehouses:
            in_warehouse = product.with_context(warehouse_id=warehouse.id)
            lines.append(
                {
                    "warehouse": warehouse.code,
                    "on_hand": in_warehouse.qty_available,
                    "available": in_warehouse.free_qty,
                    "forecast": in_warehouse.virtual_available,
                }
            )
        return 200, {"sku": sku, "uom": product.uom_id.name, "warehouses": lines}

    # ------------------------------------------------------------ shipments

    @api.model
    def _api_shipment_request(self, key, body):
        """``POST /shipments``: a booking request for a transfer (202), recorded and handed
        to :meth:`logistics.sync.api.shipment.request._process` (which books it when a
        carrier addon is installed)."""
        data = self._parse_json(body)
        inbound.check_schema(_SHIPMENT_REQUEST_SCHEMA, data, "$")
        picking = self._resolve(key, "stock.picking", data["picking_id"], "shipment")
        request = self.env["logistics.sync.api.shipment.request"].create(
            {
                "uid": str(uuid.uuid4()),
                "system_id": key.system_id.id,
                "key_id": key.id,
                "picking_id": picking.id,
                "service": data.get("service") or False,
                "reference": data.get("reference") or False,
                "payload": data,
            }
        )
        return request._process()

    @api.model
    def _api_shipment_get(self, key, reference):
        """``GET /shipments/{id}``: the transfer's state, tracking reference, last external
        status and the milestones reported by ``shipment.status`` webhooks."""
        system = key.system_id
        picking = self._resolve(key, "stock.picking", reference, "shipment")
        messages = self.env["logistics.sync.inbound.message"].search(
            [
                ("res_model", "=", "stock.picking"),
                ("res_id", "=", picking.id),
                ("type_code", "=", "shipment.status"),
                ("state", "=", "done"),
            ],
            order="id",
        )
        milestones = []
        for message in messages:
            data = json.loads(message.body).get("data") or {}
            milestones.append(
                {
                    "status": data.get("status"),
                    "occurred_at": data.get("occurred_at"),
                    "location": data.get("location"),
                    "tracking_number": data.get("tracking_number"),
                    "received_at": _iso(message.create_date),
                }
            )
        requests = self.env["logistics.sync.api.shipment.request"].search(
            [("picking_id", "=", picking.id), ("system_id", "=", system.id)], order="id"
        )
        return 200, {
            **self._id_fields(system, picking),
            "name": picking.name,
            "state": picking.state,
            "order_id": self.env["logistics.sync.record"]._canonical_id(picking.sale_id)
            if picking.sale_id
            else None,
            "carrier_tracking_ref": picking.carrier_tracking_ref or None
            if "carrier_tracking_ref" in picking._fields
            else None,
            "scheduled_date": _iso(picking.scheduled_date),
            "date_done": _iso(picking.date_done),
            "status": picking.logistics_sync_status or None,
            "status_date": _iso(picking.logistics_sync_status_date),
            "milestones": milestones,
            "booking_requests": [{"id": r.uid, "status": r.state} for r in requests],
        }

    # ------------------------------------------------------------ events

    @api.model
    def _api_events(self, key, cursor=None, limit=None):
        """``GET /events``: the events routed to the key's system (by its flows), oldest
        first, after ``cursor``; ``data`` is the payload after the flow's policy."""
        after = api_tools.decode_cursor(cursor)
        limit = api_tools.parse_limit(limit)
        self.env.cr.execute(
            """
            SELECT DISTINCT ON (event_id) id FROM logistics_sync_message
             WHERE system_id = %s AND event_id > %s
             ORDER BY event_id, id
             LIMIT %s
            """,
            (key.system_id.id, after, limit + 1),
        )
        messages = self.env["logistics.sync.message"].browse([r[0] for r in self.env.cr.fetchall()])
        has_more = len(messages) > limit
        messages = messages[:limit]
        items = [
            {
                "id": message.event_id.uid,
                "type": message.event_id.type_code,
                "aggregate_id": message.event_id.aggregate_canonical_id,
                "sequence": message.event_id.sequence,
                "occurred_at": _iso(message.event_id.create_date),
                "correlation_id": message.event_id.correlation_id or None,
                "data": message.payload,
            }
            for message in messages
        ]
        last = messages[-1:].event_id.id if messages else after
        return 200, {
            "data": items,
            "next_cursor": api_tools.encode_cursor(last),
            "has_more": has_more,
        }
