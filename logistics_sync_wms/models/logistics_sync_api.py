import json

from odoo import api, models
from odoo.exceptions import UserError

from odoo.addons.logistics_sync_webhook import api as api_tools
from odoo.addons.logistics_sync_webhook import inbound, openapi

from .logistics_sync_wms_confirmation import _KINDS, CONTEXT_DUPLICATE

#: Lines one request may carry; larger snapshots come in parts.
MAX_PART_LINES = 10000

_LINE_SCHEMA = {
    "type": "object",
    "required": ["sku", "quantity"],
    "properties": {
        "sku": {"type": "string", "minLength": 1, "maxLength": 200},
        "location": {"type": ["string", "null"], "maxLength": 200},
        "lot": {"type": ["string", "null"], "maxLength": 200},
        "quantity": {
            "type": "number",
            "minimum": -api_tools.MAX_AMOUNT,
            "maximum": api_tools.MAX_AMOUNT,
        },
    },
    "additionalProperties": True,
}
_SNAPSHOT_SCHEMA = json.dumps(
    {
        "type": "object",
        "required": ["snapshot_id", "kind", "lines"],
        "properties": {
            "snapshot_id": {"type": "string", "pattern": r"^[\x21-\x7e]{1,200}$"},
            "kind": {"type": "string", "enum": ["full", "partial"]},
            "taken_at": {"type": ["string", "null"], "maxLength": 64},
            "warehouse": {"type": ["string", "null"], "minLength": 1, "maxLength": 200},
            "part": {"type": "integer", "minimum": 1, "maximum": 100000},
            "last_part": {"type": "boolean"},
            "lines": {"type": "array", "maxItems": MAX_PART_LINES, "items": _LINE_SCHEMA},
        },
        "additionalProperties": True,
    }
)


class LogisticsSyncApi(models.AbstractModel):
    _inherit = "logistics.sync.api"

    @api.model
    def _api_fulfilment_report(self, key, reference, body, kind):
        """``POST /fulfilments/{id}/confirmations`` and ``.../reservations``: the same
        records and rules as webhooks (applied once per id). 201 applied, 200 a repeat
        (the first outcome), 202 held in quarantine, 404 unknown fulfilment, 422 refused
        (over-pick...) — every outcome but a malformed body is kept as a record."""
        system = key.system_id
        data = self._parse_json(body)
        if data.get("fulfilment_id") not in (None, reference):
            raise api_tools.invalid(
                "fulfilment_id differs from the fulfilment in the path.", path="$.fulfilment_id"
            )
        data["fulfilment_id"] = reference
        type_code, id_key = _KINDS[kind]
        schema = self.env["logistics.sync.event.type"]._get(type_code).json_schema
        inbound.check_schema(schema, data, "$")
        if not inbound.ID_RE.fullmatch(data[id_key]):
            # the records refuse such an id too, as a server error: say it to the caller
            raise api_tools.invalid(
                f"{id_key} must be 1-200 printable characters.", path=f"$.{id_key}"
            )
        Confirmation = self.env["logistics.sync.wms.confirmation"]
        receive = (
            Confirmation._receive_confirmation
            if kind == "confirmation"
            else Confirmation._receive_reservation
        )
        record = receive(system, data, source="api", reference=f"api key {key.prefix}")
        body = self._confirmation_json(record)
        if record.env.context.get(CONTEXT_DUPLICATE):
            return 200, dict(body, duplicate=True)
        if record.state == "applied":
            return 201, body
        if record.state == "quarantined":
            return 202, body
        if not record.fulfilment_id:
            return 404, {**body, "error": "not_found", "message": record.error}
        return 422, {**body, "error": "unprocessable", "message": record.error}

    @api.model
    def _confirmation_json(self, record):
        return {
            "id": record.external_id,
            "fulfilment_id": record.fulfilment_id.uid or record.fulfilment_ref,
            "stage": record.stage,
            "state": record.state,
            "reason": record.error or None,
            "fulfilment_state": record.fulfilment_id.state or None,
            "duplicate": False,
        }

    @api.model
    def _openapi_document(self):
        document = super()._openapi_document()
        schemas = document["components"]["schemas"]
        string = openapi.NULLABLE_STRING
        number = {"type": "number", "nullable": True, "minimum": 0}
        schemas["FulfilmentConfirmation"] = {
            "type": "object",
            "required": ["confirmation_id", "stage"],
            "description": "Quantities are this confirmation's own (added to earlier ones), "
            "in the unit of the request line. Stage shipped validates the transfer: what "
            "was not picked goes to a backorder, or is cancelled when the operation type "
            "never creates backorders.",
            "properties": {
                "fulfilment_id": {
                    **string,
                    "description": "Optional; must equal the id in the path.",
                },
                "confirmation_id": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 200,
                    "description": "Your id of this confirmation: a repeat is applied once.",
                },
                "stage": {"type": "string", "enum": ["picked", "packed", "shipped"]},
                "lines": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["sku", "quantity"],
                        "properties": {
                            "sku": {"type": "string", "description": "Your SKU, or ours."},
                            "quantity": {"type": "number", "minimum": 0},
                            "lot": {**string, "description": "Lot or serial number."},
                            "location": {**string, "description": "Your location code."},
                            "package": {**string, "description": "Name of a package below."},
                            "uom": {
                                **string,
                                "description": "Your unit code of the quantity (mapped by "
                                "the uom code map); the requested line's unit when absent.",
                            },
                        },
                    },
                },
                "packages": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["name"],
                        "properties": {
                            "name": {"type": "string"},
                            "weight": {**number, "description": "kg"},
                            "length": number,
                            "width": number,
                            "height": number,
                        },
                    },
                },
                "carrier": string,
                "service": string,
                "tracking_numbers": {"type": "array", "items": {"type": "string"}},
                "complete": {"type": "boolean"},
            },
        }
        schemas["FulfilmentReservation"] = {
            "type": "object",
            "required": ["reservation_id", "status"],
            "properties": {
                "fulfilment_id": string,
                "reservation_id": {"type": "string", "minLength": 1, "maxLength": 200},
                "status": {"type": "string", "enum": ["reserved", "shortage"]},
                "lines": {
                    "type": "array",
                    "description": "For a shortage: what is missing.",
                    "items": {
                        "type": "object",
                        "required": ["sku", "quantity"],
                        "properties": {
                            "sku": {"type": "string"},
                            "quantity": {"type": "number", "minimum": 0},
                        },
                    },
                },
            },
        }
        schemas["ConfirmationResult"] = {
            "type": "object",
            "required": ["id", "state", "duplicate"],
            "properties": {
                "id": {"type": "string", "description": "Your confirmation or reservation id."},
                "fulfilment_id": {"type": "string"},
                "stage": string,
                "state": {
                    "type": "string",
                    "enum": ["applied", "quarantined", "error", "dismissed", "received"],
                },
                "reason": {**string, "description": "Why it is not applied."},
                "fulfilment_state": string,
                "duplicate": {"type": "boolean"},
            },
        }
        ok = {
            "201": openapi.json_response(openapi.ref("ConfirmationResult"), "Applied."),
            "200": openapi.json_response(
                openapi.ref("ConfirmationResult"),
                "This id was received before: nothing applied again; the first outcome.",
            ),
            "202": openapi.json_response(
                openapi.ref("ConfirmationResult"),
                "Held: a SKU, lot or location code is unknown to Odoo; applied once mapped.",
            ),
        }
        for path, op_id, summary, body in (
            (
                "/fulfilments/{id}/confirmations",
                "confirmFulfilment",
                "Report a fulfilment picked, packed or shipped",
                "FulfilmentConfirmation",
            ),
            (
                "/fulfilments/{id}/reservations",
                "reserveFulfilment",
                "Report a fulfilment's stock reserved, or a shortage",
                "FulfilmentReservation",
            ),
        ):
            operation = openapi.operation(
                op_id,
                summary,
                "fulfilments:write",
                ok,
                openapi.AUTH_ERRORS + openapi.POSTED_ERRORS + ["404"],
                parameters=[
                    dict(
                        openapi.ID_PARAM,
                        description="The fulfilment id of the request (or your own id of it).",
                    )
                ],
                body=body,
            )
            operation["responses"]["404"]["description"] = (
                "Unknown fulfilment (the report is kept as an error record)."
            )
            operation["responses"]["422"]["description"] = (
                "Invalid body, or the report cannot apply (over-pick, a product not in the "
                "transfer...): nothing applied, kept as an error record."
            )
            document["paths"][path] = {"post": operation}
        return self._openapi_inventory(document)

    # ------------------------------------------------------------ inventory snapshots

    @api.model
    def _snapshot_json(self, snapshot, accepted=True):
        return {
            "snapshot_id": snapshot.external_id,
            "state": snapshot.state,
            "kind": snapshot.kind,
            "warehouse": snapshot.warehouse_id.code,
            "taken_at": snapshot.taken_at.isoformat() + "Z",
            "parts_received": snapshot.part_count,
            "line_count": snapshot.line_count,
            "processed_count": snapshot.processed_count,
            "quarantined_count": snapshot.quarantined_count,
            "progress": round(snapshot.progress, 1),
            "reconciliation": snapshot.reconciliation_id.name or None,
            "accepted": accepted,
        }

    @api.model
    def _api_inventory_snapshot(self, key, body):
        """``POST /inventory/snapshots``: one part of an inventory snapshot (202). A part
        already received is answered 200 with ``accepted: false`` and stored once."""
        data = self._parse_json(body)
        inbound.check_schema(_SNAPSHOT_SCHEMA, data, "$")
        header = {name: data.get(name) for name in ("snapshot_id", "kind", "taken_at", "warehouse")}
        try:
            with self.env.cr.savepoint():
                snapshot, accepted = self.env[
                    "logistics.sync.inventory.snapshot"
                ]._receive_snapshot_part(
                    key.system_id,
                    header,
                    data["lines"],
                    part=data.get("part"),
                    last=data.get("last_part", True),
                    source="api",
                    reference=f"API key {key.prefix}",
                )
        except UserError as exc:
            raise inbound.InboundError(
                422, "unprocessable", exc.args[0] if exc.args else str(exc)
            ) from None
        return (202 if accepted else 200), self._snapshot_json(snapshot, accepted)

    @api.model
    def _api_inventory_snapshot_get(self, key, reference):
        """``GET /inventory/snapshots/{id}``: where the processing of a snapshot stands."""
        if not inbound.ID_RE.fullmatch(reference or ""):
            raise api_tools.not_found("snapshot")
        snapshot = self.env["logistics.sync.inventory.snapshot"].search(
            [("system_id", "=", key.system_id.id), ("external_id", "=", reference)], limit=1
        )
        if not snapshot:
            raise api_tools.not_found("snapshot")
        return 200, self._snapshot_json(snapshot)

    @api.model
    def _openapi_inventory(self, document):
        """Add the inventory snapshot routes to the OpenAPI ``document``."""
        schemas = document["components"]["schemas"]
        string = openapi.NULLABLE_STRING
        line = json.loads(json.dumps(_LINE_SCHEMA))
        for name in ("location", "lot"):
            line["properties"][name] = {**string, "maxLength": 200}
        line["properties"]["location"]["description"] = (
            "The system's location code (code map, else the location's barcode or full "
            "name); the warehouse's stock location when absent."
        )
        line["properties"]["sku"]["description"] = (
            "The system's SKU: its cross-reference, its code map or the product's internal "
            "reference. Unknown SKUs are quarantined, never guessed."
        )
        snapshot_in = json.loads(_SNAPSHOT_SCHEMA)
        snapshot_in["properties"]["lines"]["items"] = openapi.ref("InventorySnapshotLine")
        for name in ("taken_at", "warehouse"):
            snapshot_in["properties"][name] = {
                **string,
                **{k: v for k, v in snapshot_in["properties"][name].items() if k != "type"},
            }
        snapshot_in["properties"]["kind"]["description"] = (
            "full: every product the system holds in the warehouse (Odoo stock it does not "
            "list counts as zero); partial: only the listed products and locations."
        )
        snapshot_in["properties"]["part"]["description"] = (
            "Parts of a large snapshot, numbered from 1, sent in order; a repeat is ignored."
        )
        snapshot_in["properties"]["last_part"]["description"] = (
            "false while more parts follow (default true)."
        )
        schemas["InventorySnapshotLine"] = line
        schemas["InventorySnapshotPart"] = snapshot_in
        schemas["InventorySnapshot"] = {
            "type": "object",
            "required": ["snapshot_id", "state", "line_count", "accepted"],
            "properties": {
                "snapshot_id": {"type": "string"},
                "state": {
                    "type": "string",
                    "enum": ["receiving", "queued", "processing", "reconciled", "failed"],
                },
                "kind": {"type": "string", "enum": ["full", "partial"]},
                "warehouse": {"type": "string"},
                "taken_at": {"type": "string", "format": "date-time"},
                "parts_received": {"type": "integer"},
                "line_count": {"type": "integer"},
                "processed_count": {"type": "integer"},
                "quarantined_count": {"type": "integer"},
                "progress": {"type": "number"},
                "reconciliation": string,
                "accepted": {
                    "type": "boolean",
                    "description": "false: this part was already received (nothing stored).",
                },
            },
        }
        document["paths"]["/inventory/snapshots"] = {
            "post": openapi.operation(
                "postInventorySnapshot",
                "Send an inventory snapshot, or one part of it",
                "inventory:write",
                {
                    "202": openapi.json_response(
                        openapi.ref("InventorySnapshot"), "Stored; processed in the background."
                    ),
                    "200": openapi.json_response(
                        openapi.ref("InventorySnapshot"), "This part was already received."
                    ),
                },
                openapi.AUTH_ERRORS + openapi.POSTED_ERRORS,
                body="InventorySnapshotPart",
            )
        }
        document["paths"]["/inventory/snapshots/{id}"] = {
            "get": openapi.operation(
                "getInventorySnapshot",
                "Where the processing of a snapshot stands",
                "inventory:write",
                {"200": openapi.json_response(openapi.ref("InventorySnapshot"), "The snapshot.")},
                openapi.AUTH_ERRORS + ["404"],
                parameters=[
                    {
                        **openapi.ID_PARAM,
                        "description": "The snapshot_id the system sent.",
                    }
                ],
            )
        }
        return document
