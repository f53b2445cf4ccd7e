"""Outbound messages written as files into the partner's inbox on the live SFTP server."""

from odoo.tools import mute_logger

from odoo.addons.queue_job.tests.common import trap_jobs

from .. import file_formats, file_transport
from .files_common import FilePartnerCase


class TestFileFlow(FilePartnerCase):
    """The main warehouse is run by the file 3PL: its fulfilment requests go out as ORDERS
    files through a File flow that masks the customer's name and street."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.warehouse.write(
            {
                "logistics_sync_system_id": cls.tpl.id,
                "logistics_sync_picking_type_ids": [(6, 0, cls.warehouse.out_type_id.ids)],
            }
        )
        cls.partner.write({"street": "1 Main Street", "zip": "1000", "city": "Brussels"})
        cls.orders_format = cls.env["logistics.sync.file.format"].create(
            {
                "name": "Orders",
                "system_id": cls.tpl.id,
                "kind": "fulfilment",
                "file_type": "edifact",
                "edifact_sender": "ODOO",
                "edifact_recipient": "ACME3PL",
            }
        )
        types = cls.env["logistics.sync.event.type"]
        cls.file_flow = cls.env["logistics.sync.flow"].create(
            {
                "name": "Fulfilment to Acme as files",
                "system_id": cls.tpl.id,
                "event_type_ids": [
                    (
                        6,
                        0,
                        [
                            types._get(code).id
                            for code in (
                                "fulfilment.requested",
                                "fulfilment.changed",
                                "fulfilment.cancelled",
                            )
                        ],
                    )
                ],
                "transport": "file",
                "file_format_id": cls.orders_format.id,
                "masked_fields": "ship_to.name, ship_to.street, ship_to.email, ship_to.phone",
            }
        )

    def _routed_message(self):
        order = self._create_order(quantity=3)
        with trap_jobs() as trap:
            order.action_confirm()
            fulfilment = self.env["logistics.sync.wms.fulfilment"].search(
                [("picking_id", "in", order.picking_ids.ids)]
            )
            self._events(fulfilment)._route()
        trap.assert_jobs_count(1, only=self.file_flow.deliver_pending)
        message = self.env["logistics.sync.message"].search([("flow_id", "=", self.file_flow.id)])
        self.assertEqual(len(message), 1)
        self.assertEqual(message.type_code, "fulfilment.requested")
        return order.picking_ids, message

    def test_fulfilment_request_written_as_a_masked_orders_file_in_the_partner_inbox(self):
        picking, message = self._routed_message()
        with trap_jobs():
            self.assertEqual(self.file_flow.deliver_pending(), "1/1 delivered")
        [name] = self._folder("inbox")
        self.assertEqual(name, f"ORDERS_{picking.name}_{message.uid}.edi".replace("/", "_"))
        data = (self.partner_root / "inbox" / name).read_bytes()
        written = file_formats.read_orders(data.decode())
        self.assertEqual(written["fulfilment_id"], picking.logistics_sync_wms_uid)
        self.assertEqual(written["name"], picking.name)
        self.assertEqual(written["function"], "9")
        self.assertEqual(
            written["ship_to"],
            {"name": "***", "street": "***", "city": "Brussels", "zip": "1000", "country": ""},
        )
        self.assertNotIn(b"Jane", data)
        self.assertEqual(
            written["lines"], [{"sku": "WID-1", "partner_sku": "WID-1", "quantity": 3.0}]
        )
        self.assertEqual(message.state, "sent")
        self.assertEqual(message.attempt_ids.outcome, "delivered")
        exchange = self.env["logistics.sync.file.exchange"].search(
            [("message_id", "=", message.id)]
        )
        self.assertRecordValues(
            exchange, [{"direction": "out", "state": "sent", "name": name, "size": len(data)}]
        )
        self.assertEqual(exchange._raw(), data)
        # a replay writes the same file again (same name and bytes), one record still
        with trap_jobs():
            message._replay()
            self.file_flow.deliver_pending()
        self.assertEqual(self._folder("inbox"), [name])
        self.assertEqual((self.partner_root / "inbox" / name).read_bytes(), data)
        self.assertEqual(
            self.env["logistics.sync.file.exchange"].search_count(
                [("message_id", "=", message.id)]
            ),
            1,
        )

    def test_unreachable_partner_is_retried_later(self):
        _picking, message = self._routed_message()
        self.tpl.sftp_host_key = "ecdsa-sha2-nistp256 AAAAnotthekey"
        with trap_jobs(), mute_logger(file_transport.LOG_CHANNEL):
            self.assertEqual(self.file_flow.deliver_pending(), "0/1 delivered")
        self.assertEqual(message.state, "failed")
        self.assertTrue(message.next_attempt_at)
        self.assertIn("host key", message.last_error)
        self.assertEqual(self._folder("inbox"), [])
