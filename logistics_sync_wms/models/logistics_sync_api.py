from odoo import api, models

from odoo.addons.logistics_sync_webhook import api as api_tools
from odoo.addons.logistics_sync_webhook import inbound, openapi

from .logistics_sync_wms_confirmation import _KINDS, CONTEXT_DUPLICATE


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
        type_code, _id_key = _KINDS[kind]
        schema = self.env["logistics.sync.event.type"]._get(type_code).json_schema
        inbound.check_schema(schema, data, "$")
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
        return document
