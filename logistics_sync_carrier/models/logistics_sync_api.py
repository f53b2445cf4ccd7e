from odoo import api, models

from odoo.addons.logistics_sync_webhook import openapi


def _iso(value):
    return value.isoformat() + "Z" if value else None


class LogisticsSyncApi(models.AbstractModel):
    _inherit = "logistics.sync.api"

    @api.model
    def _api_shipment_get(self, key, reference):
        """Add the carrier booking (state, tracking number, labels), the carrier's tracking
        milestones and the proofs of delivery to ``GET /shipments/{id}``."""
        status, body = super()._api_shipment_get(key, reference)
        picking = self.env["logistics.sync.record"]._resolve_canonical(body["id"])
        shipment = picking.logistics_sync_shipment_id
        body["booking"] = self._booking_json(shipment) if shipment else None
        carrier_milestones = [
            {
                "status": milestone.milestone,
                "occurred_at": _iso(milestone.occurred_at),
                "location": milestone.location or None,
                "tracking_number": milestone.package_id.tracking_number
                or shipment.tracking_number
                or None,
                "received_at": _iso(milestone.create_date),
                "code": milestone.code or None,
                "reason": milestone.reason or None,
                "source": "carrier",
            }
            for milestone in picking.logistics_sync_shipment_ids.milestone_ids.sorted(
                lambda m: (m.occurred_at, m.id)
            )
        ]
        body["milestones"] = sorted(
            body["milestones"] + carrier_milestones, key=lambda m: m["occurred_at"] or ""
        )
        body["pods"] = [
            {
                "signed_by": pod.signed_by,
                "signed_at": _iso(pod.signed_at),
                "place": pod.place or None,
                "latitude": pod.latitude or None,
                "longitude": pod.longitude or None,
                "documents": len(pod.attachment_ids),
                "signature": bool(pod.signature),
                "source": pod.source,
            }
            for pod in picking.logistics_sync_pod_ids
        ]
        return status, body

    @api.model
    def _booking_json(self, shipment):
        return {
            "id": shipment.reference,
            "state": shipment.state,
            "carrier": shipment.system_id.code,
            "service": shipment.service or None,
            "tracking_number": shipment.tracking_number or None,
            "status": shipment.status or None,
            "label_available": bool(shipment.package_ids)
            and all(shipment.package_ids.mapped("label_available")),
            "packages": [
                {
                    "reference": package.reference,
                    "tracking_number": package.tracking_number or None,
                    "label_available": package.label_available,
                    "status": package.status or None,
                }
                for package in shipment.package_ids
            ],
            "booked_at": _iso(shipment.booked_at),
            "delivered_at": _iso(shipment.delivered_at),
            "failure_reason": shipment.failure_reason or None,
        }

    @api.model
    def _openapi_document(self):
        document = super()._openapi_document()
        schemas = document["components"]["schemas"]
        string = openapi.NULLABLE_STRING
        moment = {**string, "format": "date-time"}
        schemas["ShipmentRequest"]["properties"]["status"] = {
            "type": "string",
            "enum": [
                "requested",
                "booking",
                "booked",
                "failed",
                "cancelling",
                "cancelled",
                "cancel_failed",
            ],
            "description": "requested: recorded only (the transfer has no shipping method booked "
            "through Logistics Sync); booking: the carrier booking runs in the background.",
        }
        schemas["ShipmentRequest"]["properties"]["booking_id"] = {
            **string,
            "description": "The carrier booking's id (also its reference at the carrier).",
        }
        schemas["Booking"] = {
            "type": "object",
            "required": ["id", "state", "packages"],
            "properties": {
                "id": {"type": "string"},
                "state": {
                    "type": "string",
                    "enum": [
                        "booking",
                        "booked",
                        "failed",
                        "cancelling",
                        "cancelled",
                        "cancel_failed",
                    ],
                },
                "carrier": string,
                "service": string,
                "tracking_number": string,
                "status": {**string, "description": "The newest tracking milestone."},
                "label_available": {"type": "boolean"},
                "packages": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "reference": {"type": "string"},
                            "tracking_number": string,
                            "label_available": {"type": "boolean"},
                            "status": string,
                        },
                    },
                },
                "booked_at": moment,
                "delivered_at": moment,
                "failure_reason": string,
            },
        }
        schemas["ProofOfDelivery"] = {
            "type": "object",
            "properties": {
                "signed_by": {"type": "string"},
                "signed_at": moment,
                "place": string,
                "latitude": {"type": "number", "nullable": True},
                "longitude": {"type": "number", "nullable": True},
                "documents": {"type": "integer"},
                "signature": {"type": "boolean"},
                "source": {"type": "string", "enum": ["carrier", "user"]},
            },
        }
        shipment = schemas["Shipment"]
        shipment["properties"]["booking"] = {
            "allOf": [openapi.ref("Booking")],
            "nullable": True,
            "description": "The latest carrier booking of the transfer, if any.",
        }
        shipment["properties"]["pods"] = {"type": "array", "items": openapi.ref("ProofOfDelivery")}
        milestone = shipment["properties"]["milestones"]["items"]["properties"]
        milestone["code"] = {**string, "description": "The carrier's own code."}
        milestone["reason"] = string
        milestone["source"] = string
        post = document["paths"]["/shipments"]["post"]
        post["summary"] = "Book a shipment with the transfer's carrier (in the background)"
        return document
