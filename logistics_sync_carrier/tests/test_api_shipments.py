import json

from odoo.tests import HttpCase, tagged

from odoo.addons.logistics_sync_webhook import openapi
from odoo.addons.logistics_sync_webhook.tests.common import api_key_with_secret
from odoo.addons.logistics_sync_webhook.tests.inbound_common import JsonErrorAssertions

from .common import CarrierCase

BASE = "/logistics_sync/api/v1"


@tagged("post_install", "-at_install")
class TestApiShipments(JsonErrorAssertions, HttpCase, CarrierCase):
    """POST /shipments books through the same saga as a validated transfer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.key, cls.secret = api_key_with_secret(
            cls.env, cls.market, [("code", "like", "shipments:")], name="Market key"
        )

    def _delivery_of_market_order(self):
        picking = self._ready_delivery()
        self.env["logistics.sync.xref"]._link(self.market, picking.sale_id, f"MK-{picking.id}")
        return picking

    def _call(self, method, path, body=None):
        self.env.flush_all()  # the server reads the database, not this test's cache
        headers = {"Authorization": f"Bearer {self.secret}"}
        if method == "GET":
            return self.url_open(BASE + path, headers=headers)
        headers["Content-Type"] = "application/json"
        return self.url_open(BASE + path, data=json.dumps(body).encode(), headers=headers)

    def test_api_booking_end_to_end(self):
        picking = self._delivery_of_market_order()
        picking_id = self.env["logistics.sync.record"]._canonical_id(picking)
        with self._jobs() as jobs:
            response = self._call(
                "POST", "/shipments", {"picking_id": picking_id, "reference": "R-1"}
            )
            self.assertEqual(response.status_code, 202, response.text)
            answer = response.json()
            self.assertEqual(answer["status"], "booking")
            self.assertEqual(answer["shipment_id"], picking_id)
            self.assertEqual(
                self.sandbox.received(), [], "the request did not wait for the carrier"
            )
            jobs.run()
        shipment = picking.logistics_sync_shipment_id
        self.assertEqual(answer["booking_id"], shipment.reference)
        self.assertEqual((shipment.state, shipment.source), ("booked", "api"))
        self.assertEqual(shipment.requested_by_system_id, self.market)
        request = self.env["logistics.sync.api.shipment.request"].search(
            [("uid", "=", answer["id"])]
        )
        self.assertEqual((request.state, request.shipment_id), ("done", shipment))
        # a second request for the same transfer books nothing more
        again = self._call("POST", "/shipments", {"picking_id": picking_id}).json()
        self.assertEqual((again["status"], again["booking_id"]), ("booked", shipment.reference))
        self.assertEqual(self.sandbox.stats()["bookings"], 1)
        # the carrier delivers with a proof of delivery (recorded as a poll would)
        self.sandbox.add_event(shipment.carrier_ref, "PU", push=False)
        self.sandbox.deliver_with_pod(shipment.carrier_ref, signed_by="Bo", push=False)
        shipment._poll_tracking()
        body = self._call("GET", f"/shipments/{picking_id}").json()
        booking = body["booking"]
        self.assertEqual(booking["state"], "booked")
        self.assertEqual(booking["tracking_number"], shipment.tracking_number)
        self.assertTrue(booking["label_available"])
        self.assertEqual(booking["status"], "delivered")
        self.assertEqual(
            [m["status"] for m in body["milestones"]], ["booked", "picked_up", "delivered"]
        )
        self.assertEqual(body["milestones"][-1]["code"], "DLV")
        self.assertEqual(body["pods"][0]["signed_by"], "Bo")
        self.assertTrue(body["pods"][0]["signature"])
        self.assertEqual(body["carrier_tracking_ref"], shipment.tracking_number)

    def test_requested_service_picks_the_method_or_is_refused(self):
        picking = self._delivery_of_market_order()
        picking_id = self.env["logistics.sync.record"]._canonical_id(picking)
        refused = self._call(
            "POST", "/shipments", {"picking_id": picking_id, "service": "teleport"}
        )
        body = self.assertRefused(refused, 422, "unprocessable")
        self.assertEqual(body["path"], "$.service")
        self.assertFalse(picking.logistics_sync_shipment_ids)
        # a transfer without shipping method: the method offering the service books it
        picking.carrier_id = False
        with self._jobs() as jobs:
            answer = self._call(
                "POST", "/shipments", {"picking_id": picking_id, "service": "express"}
            )
            jobs.run()
        self.assertEqual(answer.status_code, 202, answer.text)
        self.assertEqual(
            picking.logistics_sync_shipment_id.carrier_id.logistics_sync_service, "express"
        )
        self.assertEqual(picking.logistics_sync_booking_state, "booked")

    def test_openapi_describes_the_booking(self):
        document = self.url_open(f"{BASE}/openapi.json").json()
        schemas = document["components"]["schemas"]
        self.assertIn("booking", schemas["Shipment"]["properties"])
        self.assertIn("pods", schemas["Shipment"]["properties"])
        self.assertIn("booking", schemas["ShipmentRequest"]["properties"]["status"]["enum"])
        expected = self.env["logistics.sync.api"]._openapi_document()
        self.assertEqual(document, openapi.declare_idempotency(expected))
