import json

from odoo.tests import tagged

from odoo.addons.logistics_sync_carrier.tests.common import CarrierCase
from odoo.addons.logistics_sync_webhook.tests.common import WebhookCase

SHIPMENT_NEWS = (
    "picking.validated",
    "shipment.booked",
    "shipment.dispatched",
    "shipment.delivered",
    "pod.received",
)


@tagged("post_install", "-at_install")
class TestCarrierEndToEnd(CarrierCase, WebhookCase):
    """A delivery validated in Odoo, booked with a live sandbox carrier, tracked to its proof
    of delivery; a marketplace subscribed to shipment news receives each event once, in
    order, signed; the carrier, subscribed too, is not told what it reported itself."""

    def test_validated_booked_tracked_and_announced_in_order(self):
        news = self._subscription("Shipment news", self.market, "/market", codes=SHIPMENT_NEWS)
        back = self._subscription(
            "Deliveries to the carrier", self.carrier_system, "/carrier", codes=SHIPMENT_NEWS
        )
        picking = self._ready_delivery()
        shipment = self._book(picking)
        self.sandbox.add_event(shipment.carrier_ref, "PU", push=False)
        self.sandbox.deliver_with_pod(shipment.carrier_ref, signed_by="Eve", push=False)
        with self._jobs() as jobs:
            shipment.action_refresh_tracking()
            jobs.run()
        events = self._events(picking).filtered(lambda e: e.type_code in SHIPMENT_NEWS)
        self.assertEqual(events.mapped("type_code"), list(SHIPMENT_NEWS))
        with self._jobs() as jobs:
            events._route()
            jobs.run()
            news.deliver_pending()
            back.deliver_pending()
        received = [json.loads(r["body"]) for r in self.receiver.received("/market")]
        self.assertEqual([r["type"] for r in received], list(SHIPMENT_NEWS))
        self.assertEqual(
            [r["aggregate"]["sequence"] for r in received],
            sorted(r["aggregate"]["sequence"] for r in received),
        )
        self.assertEqual(received[1]["data"]["tracking_number"], shipment.tracking_number)
        self.assertEqual(received[-1]["data"]["signed_by"], "Eve")
        to_carrier = [json.loads(r["body"])["type"] for r in self.receiver.received("/carrier")]
        self.assertEqual(
            to_carrier,
            ["picking.validated", "shipment.booked"],
            "what the carrier reported (dispatch, delivery, proof) is not echoed back to it",
        )
