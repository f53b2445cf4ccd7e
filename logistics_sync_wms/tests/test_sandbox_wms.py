from odoo import tools
from odoo.tests import HttpCase, tagged

from odoo.addons.logistics_sync_webhook.tests.common import LocalPartnerMixin
from odoo.addons.logistics_sync_webhook.tests.inbound_common import SECRET
from odoo.addons.queue_job.tests.common import trap_jobs

from .common import WmsCase
from .sandbox_wms import SandboxWms

FULFILMENT_TYPES = ("fulfilment.requested", "fulfilment.changed", "fulfilment.cancelled")


@tagged("post_install", "-at_install")
class TestSandboxWms(LocalPartnerMixin, HttpCase, WmsCase):
    """End to end with a real sandbox WMS on 127.0.0.1: Odoo's signed fulfilment webhook
    goes out over HTTP, the WMS pushes its signed reports back to Odoo's inbound URL, the
    system's inbound messages are applied, the delivery is done."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._allow_local_partners()
        cls.wms.inbound_auth = "standard"
        cls.env["logistics.sync.secret"].create(
            {"system_id": cls.wms.id, "name": "inbound_signing", "value": SECRET}
        )
        cls.sandbox = SandboxWms(
            webhook_secret=SECRET,
            webhook_url=f"http://127.0.0.1:{tools.config['http_port']}"
            f"/logistics_sync/webhook/{cls.wms.code}",
        ).__enter__()
        cls.addClassCleanup(cls.sandbox.__exit__, None, None, None)
        types = cls.env["logistics.sync.event.type"]
        cls.http_flow = cls.env["logistics.sync.flow"].create(
            {
                "name": "Fulfilment webhooks to the sandbox WMS",
                "system_id": cls.wms.id,
                "event_type_ids": [(6, 0, [types._get(code).id for code in FULFILMENT_TYPES])],
                "transport": "http",
                "url": cls.sandbox.url("/hooks"),
                "timeout": 5,
                "masked_fields": "ship_to.email, ship_to.phone",
            }
        )
        _key, cls.sandbox.verify_secret = cls.env["logistics.sync.signing.key"]._generate(
            cls.http_flow
        )
        cls.Inbound = cls.env["logistics.sync.inbound.message"]

    def setUp(self):
        super().setUp()
        self.sandbox.reset()

    def _send_requests(self, picking):
        """Route and deliver the fulfilment events of ``picking``, as the jobs would."""
        events = self._events(picking.logistics_sync_wms_fulfilment_id)
        with trap_jobs() as trap:
            events._route()
            for job in trap.enqueued_jobs:
                job.perform()
        return events

    def _apply_reports(self):
        """Apply what the WMS pushed, as the system's drain job does."""
        messages = self.Inbound.search(
            [("system_id", "=", self.wms.id), ("state", "=", "received")], order="id"
        )
        with trap_jobs():
            messages.process()
        return messages

    def test_request_out_confirmations_in_delivery_done(self):
        picking = self._delivery(quantity=3)
        self._send_requests(picking)
        self.assertEqual(self.sandbox.stats()["requests"], 1)
        self.assertEqual(self.sandbox.stats()["refused"], 0)  # our signature verified
        [envelope] = self.sandbox.received
        self.assertEqual(envelope["data"]["fulfilment_id"], picking.logistics_sync_wms_uid)
        self.assertEqual(envelope["data"]["ship_to"]["email"], "***")
        self.assertEqual(self.sandbox.work(), [202, 202, 202, 202])
        messages = self._apply_reports()
        self.assertEqual(messages.mapped("state"), ["done"] * 4, messages.mapped("error"))
        self.assertEqual(picking.state, "done")
        self.assertEqual(picking.move_ids.quantity, 3)
        self.assertEqual(picking.logistics_sync_wms_state, "shipped")
        package = picking.move_line_ids.result_package_id
        self.assertEqual(package.name, "BOX-00001")
        self.assertEqual(package.package_type_id.packaging_length, 30)
        fulfilment = picking.logistics_sync_wms_fulfilment_id
        self.assertTrue(fulfilment.tracking_numbers.startswith("SBX"))
        self.assertEqual(fulfilment.confirmation_ids.mapped("source"), ["webhook"] * 4)

    def test_short_pick_and_duplicate_sends(self):
        self.sandbox.short["WID-1"] = 1
        self.sandbox.duplicate_send = True
        picking = self._delivery(quantity=3)
        self._send_requests(picking)
        self.assertEqual(self.sandbox.work(), [202] * 4)
        messages = self._apply_reports()
        self.assertEqual(len(messages), 8)  # every report twice, under two webhook ids
        self.assertEqual(set(messages.mapped("state")), {"done"})
        confirmations = picking.logistics_sync_wms_fulfilment_id.confirmation_ids
        self.assertEqual(len(confirmations), 4)
        self.assertEqual(confirmations.mapped("duplicate_count"), [1, 1, 1, 1])
        self.assertEqual(picking.state, "done")
        self.assertEqual(picking.move_ids.quantity, 2)
        backorder = picking.backorder_ids
        self.assertEqual(backorder.move_ids.product_uom_qty, 1)
        # the backorder is requested from the WMS in turn
        self._send_requests(backorder)
        self.assertEqual(self.sandbox.stats()["requests"], 2)

    def test_unknown_sku_waits_in_quarantine(self):
        self.sandbox.unknown_sku = True
        self.sandbox.stages = ("picked",)
        picking = self._delivery(quantity=2)
        self._send_requests(picking)
        self.assertEqual(self.sandbox.work(), [202])
        self._apply_reports()
        [confirmation] = picking.logistics_sync_wms_confirmation_ids
        self.assertEqual(confirmation.state, "quarantined")
        self.assertTrue(
            self.env["logistics.sync.code.quarantine"].search(
                [("external_code", "=", "UNKNOWN-WID-1"), ("domain", "=", "sku")]
            )
        )
        self.assertFalse(picking.move_line_ids.filtered("picked"))
