"""Outbound messages written as files into the partner's inbox on the live SFTP server."""

from odoo.tools import mute_logger

from odoo.addons.queue_job.tests.common import trap_jobs

from .. import file_formats, file_transport
from .files_common import FilePartnerCase


class TestFileFlow(FilePartnerCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
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
        cls.file_flow = cls.env["logistics.sync.flow"].create(
            {
                "name": "Orders to Acme as files",
                "system_id": cls.tpl.id,
                "event_type_ids": [
                    (6, 0, [cls.env["logistics.sync.event.type"]._get("order.confirmed").id])
                ],
                "transport": "file",
                "file_format_id": cls.orders_format.id,
            }
        )

    def _routed_message(self):
        order = self._create_order(quantity=3)
        with trap_jobs() as trap:
            order.action_confirm()
            self._events(order)._route()
        trap.assert_jobs_count(1, only=self.file_flow.deliver_pending)
        message = self.env["logistics.sync.message"].search([("flow_id", "=", self.file_flow.id)])
        self.assertEqual(len(message), 1)
        return order, message

    def test_message_written_as_an_orders_file_in_the_partner_inbox(self):
        order, message = self._routed_message()
        with trap_jobs():
            self.assertEqual(self.file_flow.deliver_pending(), "1/1 delivered")
        [name] = self._folder("inbox")
        self.assertEqual(name, f"ORDERS_{order.name}_{message.uid}.edi".replace("/", "_"))
        data = (self.partner_root / "inbox" / name).read_bytes()
        written = file_formats.read_orders(data.decode())
        self.assertEqual(written["name"], order.name)
        self.assertEqual(written["lines"], [{"sku": "WID-1", "quantity": 3.0}])
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
        _order, message = self._routed_message()
        self.tpl.sftp_host_key = "ecdsa-sha2-nistp256 AAAAnotthekey"
        with trap_jobs(), mute_logger(file_transport.LOG_CHANNEL):
            self.assertEqual(self.file_flow.deliver_pending(), "0/1 delivered")
        self.assertEqual(message.state, "failed")
        self.assertTrue(message.next_attempt_at)
        self.assertIn("host key", message.last_error)
        self.assertEqual(self._folder("inbox"), [])
