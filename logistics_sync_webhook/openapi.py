"""OpenAPI 3 document of the partner REST API v1 (served at
``/logistics_sync/api/v1/openapi.json``), kept beside the routes it describes.

Addons that add or change routes extend ``logistics.sync.api._openapi_document()`` with the
builders below::

    def _openapi_document(self):
        document = super()._openapi_document()
        document["components"]["schemas"]["Confirmation"] = {...}
        document["paths"]["/fulfilments/{id}/confirmations"] = {
            "post": openapi.operation(
                "confirmFulfilment", "Report picked/packed/shipped", "fulfilments:write",
                {"202": openapi.json_response(openapi.ref("Confirmation"), "Accepted.")},
                openapi.AUTH_ERRORS + openapi.POSTED_ERRORS + ["404"],
                parameters=[openapi.ID_PARAM], body="Confirmation",
            )
        }
        return document
"""

import copy

from . import api as api_tools

NULLABLE_STRING = {"type": "string", "nullable": True}

_ERROR = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "description": "Stable error code."},
        "message": {"type": "string"},
        "path": {"type": "string", "description": "Where in the request the fault is."},
    },
}

ERRORS = {
    "400": "Malformed JSON.",
    "401": "Missing, unknown, expired or revoked API key (the same answer for each).",
    "403": "The key lacks the scope of this operation.",
    "404": "Unknown, or not visible to the key's system.",
    "405": "Wrong HTTP method.",
    "409": "The first request with this Idempotency-Key is still running.",
    "411": "No Content-Length.",
    "413": "Body too large.",
    "415": "Body not sent as application/json.",
    "422": "Invalid request (see path), unknown product or warehouse, or Idempotency-Key "
    "reused with another body.",
    "429": "Rate limit reached; see Retry-After.",
}

ID_PARAM = {
    "name": "id",
    "in": "path",
    "required": True,
    "description": "Canonical id, or the calling system's own id (cross-reference).",
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
}

_ORDER_LINE_IN = {
    "type": "object",
    "required": ["sku", "quantity"],
    "properties": {
        "sku": {"type": "string", "description": "Product internal reference."},
        "quantity": {
            "type": "number",
            "minimum": 0,
            "exclusiveMinimum": True,
            "maximum": api_tools.MAX_AMOUNT,
        },
        "uom": {"type": "string", "description": "The system's unit code (code map)."},
        "price_unit": {
            "type": "number",
            "minimum": -api_tools.MAX_AMOUNT,
            "maximum": api_tools.MAX_AMOUNT,
        },
    },
}

_SCHEMAS = {
    "Error": _ERROR,
    "OrderCreate": {
        "type": "object",
        "required": ["external_id", "partner", "lines"],
        "properties": {
            "external_id": {"type": "string", "minLength": 1, "maxLength": 200},
            "client_order_ref": NULLABLE_STRING,
            "partner": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string", "minLength": 1},
                    "email": NULLABLE_STRING,
                    "phone": NULLABLE_STRING,
                    "street": NULLABLE_STRING,
                    "city": NULLABLE_STRING,
                    "zip": NULLABLE_STRING,
                    "country": {**NULLABLE_STRING, "description": "ISO 3166 alpha-2."},
                },
            },
            "lines": {"type": "array", "minItems": 1, "items": _ORDER_LINE_IN},
            "warehouse": {**NULLABLE_STRING, "description": "Warehouse short code."},
        },
    },
    "Order": {
        "type": "object",
        "required": ["id", "name", "state", "lines", "shipments"],
        "properties": {
            "id": {"type": "string", "description": "Canonical id."},
            "external_id": NULLABLE_STRING,
            "name": {"type": "string"},
            "state": {"type": "string", "enum": ["draft", "sent", "sale", "cancel"]},
            "client_order_ref": NULLABLE_STRING,
            "date_order": {**NULLABLE_STRING, "format": "date-time"},
            "currency": {"type": "string"},
            "amount_total": {"type": "number"},
            "warehouse": NULLABLE_STRING,
            "lines": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "sku": NULLABLE_STRING,
                        "quantity": {"type": "number"},
                        "uom": {"type": "string"},
                        "delivered": {"type": "number"},
                        "price_unit": {"type": "number"},
                    },
                },
            },
            "shipments": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "name": {"type": "string"},
                        "state": {"type": "string"},
                    },
                },
            },
        },
    },
    "Stock": {
        "type": "object",
        "required": ["sku", "uom", "warehouses"],
        "properties": {
            "sku": {"type": "string"},
            "uom": {"type": "string"},
            "warehouses": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["warehouse", "on_hand", "available", "forecast"],
                    "properties": {
                        "warehouse": {"type": "string"},
                        "on_hand": {"type": "number"},
                        "available": {"type": "number", "description": "On hand, not reserved."},
                        "forecast": {"type": "number"},
                    },
                },
            },
        },
    },
    "ShipmentRequestCreate": {
        "type": "object",
        "required": ["picking_id"],
        "properties": {
            "picking_id": {
                "type": "string",
                "minLength": 1,
                "maxLength": 200,
                "description": "The transfer: canonical id or the system's own id.",
            },
            "service": {**NULLABLE_STRING, "maxLength": 100},
            "reference": {**NULLABLE_STRING, "maxLength": 200},
        },
    },
    "ShipmentRequest": {
        "type": "object",
        "required": ["id", "status", "shipment_id"],
        "properties": {
            "id": {"type": "string"},
            "status": {"type": "string", "enum": ["requested"]},
            "shipment_id": {"type": "string"},
        },
    },
    "Shipment": {
        "type": "object",
        "required": ["id", "name", "state", "milestones"],
        "properties": {
            "id": {"type": "string"},
            "external_id": NULLABLE_STRING,
            "name": {"type": "string"},
            "state": {"type": "string"},
            "order_id": NULLABLE_STRING,
            "carrier_tracking_ref": NULLABLE_STRING,
            "scheduled_date": {**NULLABLE_STRING, "format": "date-time"},
            "date_done": {**NULLABLE_STRING, "format": "date-time"},
            "status": {**NULLABLE_STRING, "description": "Last canonical external status."},
            "status_date": {**NULLABLE_STRING, "format": "date-time"},
            "milestones": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "status": NULLABLE_STRING,
                        "occurred_at": NULLABLE_STRING,
                        "location": NULLABLE_STRING,
                        "tracking_number": NULLABLE_STRING,
                        "received_at": {**NULLABLE_STRING, "format": "date-time"},
                    },
                },
            },
            "booking_requests": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"id": {"type": "string"}, "status": {"type": "string"}},
                },
            },
        },
    },
    "EventPage": {
        "type": "object",
        "required": ["data", "next_cursor", "has_more"],
        "properties": {
            "data": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "type", "sequence"],
                    "properties": {
                        "id": {"type": "string"},
                        "type": {"type": "string"},
                        "aggregate_id": NULLABLE_STRING,
                        "sequence": {"type": "integer"},
                        "occurred_at": {**NULLABLE_STRING, "format": "date-time"},
                        "correlation_id": NULLABLE_STRING,
                        "data": {"type": "object", "nullable": True},
                    },
                },
            },
            "next_cursor": {"type": "string", "description": "Pass it back to continue."},
            "has_more": {"type": "boolean"},
        },
    },
}


def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def json_response(schema, description, headers=None):
    response = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response


def operation(op_id, summary, scope, ok, errors, parameters=(), body=None):
    responses = dict(ok)
    for code in errors:
        headers = None
        if code == "429":
            headers = {"Retry-After": {"schema": {"type": "integer"}}}
        responses[code] = json_response(ref("Error"), ERRORS[code], headers)
    operation = {
        "operationId": op_id,
        "summary": summary,
        "description": f"Scope: `{scope}`.",
        "security": [{"bearerAuth": []}],
        "parameters": list(parameters),
        "responses": responses,
    }
    if body:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": ref(body)}},
        }
    return operation


#: Every POST honours it (the controller's job): declare it on every POST operation.
IDEMPOTENCY_PARAM = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Same key and body: the first answer again (header Idempotent-Replayed: "
    "true). Same key, other body: 422. Remembered 48 hours by default.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[\\x21-\\x7e]+$"},
}

AUTH_ERRORS = ["401", "403", "405", "429"]
POSTED_ERRORS = ["400", "411", "413", "415", "422"]


def _document():
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Logistics Sync partner API",
            "version": "1.0.0",
            "description": "Orders, stock, shipments and the event feed for an external "
            "system. Authenticate with `Authorization: Bearer <key>`; every refusal is "
            '`{"error": code, "message": text}`.',
        },
        "servers": [{"url": "/logistics_sync/api/v1"}],
        "security": [{"bearerAuth": []}],
        "paths": {
            "/orders": {
                "post": operation(
                    "createOrder",
                    "Create (and confirm) a sale order",
                    "orders:write",
                    {
                        "201": json_response(ref("Order"), "Created."),
                        "200": json_response(
                            ref("Order"),
                            "The system's external_id is already " "this order (nothing created).",
                        ),
                    },
                    AUTH_ERRORS + POSTED_ERRORS + ["409"],
                    parameters=[IDEMPOTENCY_PARAM],
                    body="OrderCreate",
                )
            },
            "/orders/{id}": {
                "get": operation(
                    "getOrder",
                    "Read an order",
                    "orders:read",
                    {"200": json_response(ref("Order"), "The order.")},
                    AUTH_ERRORS + ["404"],
                    parameters=[ID_PARAM],
                )
            },
            "/stock": {
                "get": operation(
                    "getStock",
                    "Availability of a product per warehouse",
                    "stock:read",
                    {"200": json_response(ref("Stock"), "Quantities in the product's unit.")},
                    AUTH_ERRORS + ["404", "422"],
                    parameters=[
                        {
                            "name": "sku",
                            "in": "query",
                            "required": True,
                            "description": "Product internal reference.",
                            "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                        },
                        {
                            "name": "warehouse",
                            "in": "query",
                            "required": False,
                            "description": "Warehouse short code; all when absent.",
                            "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                        },
                    ],
                )
            },
            "/shipments": {
                "post": operation(
                    "requestShipment",
                    "Request a shipment booking (recorded, not booked with a carrier)",
                    "shipments:write",
                    {"202": json_response(ref("ShipmentRequest"), "Recorded.")},
                    AUTH_ERRORS + POSTED_ERRORS + ["404", "409"],
                    parameters=[IDEMPOTENCY_PARAM],
                    body="ShipmentRequestCreate",
                )
            },
            "/shipments/{id}": {
                "get": operation(
                    "getShipment",
                    "Status and milestones of a transfer",
                    "shipments:read",
                    {"200": json_response(ref("Shipment"), "The transfer.")},
                    AUTH_ERRORS + ["404"],
                    parameters=[ID_PARAM],
                )
            },
            "/events": {
                "get": operation(
                    "listEvents",
                    "Events routed to the key's system, oldest first",
                    "events:read",
                    {"200": json_response(ref("EventPage"), "A page of events.")},
                    AUTH_ERRORS + ["422"],
                    parameters=[
                        {
                            "name": "cursor",
                            "in": "query",
                            "required": False,
                            "description": "next_cursor of the previous page.",
                            "schema": {"type": "string"},
                        },
                        {
                            "name": "limit",
                            "in": "query",
                            "required": False,
                            "schema": {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": api_tools.MAX_EVENT_LIMIT,
                                "default": api_tools.DEFAULT_EVENT_LIMIT,
                            },
                        },
                    ],
                )
            },
        },
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key generated in Odoo for one system.",
                }
            },
            "schemas": _SCHEMAS,
        },
    }


_DOCUMENT = _document()


def declare_idempotency(document):
    """Declare the ``Idempotency-Key`` header (and its 409) on every POST operation of
    ``document``, also those other addons add: the controller honours it on every POST."""
    for operations in document.get("paths", {}).values():
        post = operations.get("post")
        if not post:
            continue
        parameters = post.setdefault("parameters", [])
        if not any(p.get("name") == "Idempotency-Key" for p in parameters):
            parameters.append(dict(IDEMPOTENCY_PARAM))
        post.setdefault("responses", {}).setdefault(
            "409", json_response(ref("Error"), ERRORS["409"])
        )
    return document


def document():
    """The OpenAPI 3.0 document (a copy the caller may change)."""
    return copy.deepcopy(_DOCUMENT)
