from unittest import mock

from odoo.tests import tagged

from .common import LogisticsSyncCase


@tagged("post_install", "-at_install")
class TestFlowRouting(LogisticsSyncCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        types = cls.env["logistics.sync.event.type"]
        cls.confirmed = types._get("order.confirmed")
        Flow = cls.env["logistics.sync.flow"]
        cls.flow_wms = Flow.create(
            {
                "name": "Orders to WMS",
                "system_id": cls.wms.id,
                "event_type_ids": [(6, 0, [cls.confirmed.id, types._get("stock.reserved").id])],
                "masked_fields": "partner.email, partner.phone",
                "sla_minutes": 5,
            }
        )
        cls.flow_market = Flow.create(
            {
                "name": "Status to market",
                "system_id": cls.market.id,
                "event_type_ids": [(6, 0, [cls.confirmed.id])],
                "allowed_fields": "order_id, name",
                "mode": "batch",
            }
        )
        cls.flow_carrier = Flow.create(
            {
                "name": "Cancellations to carrier",
                "system_id": cls.carrier.id,
                "event_type_ids": [(6, 0, [types._get("order.cancelled").id])],
            }
        )

    def _route_recording_sends(self, events):
        """Route ``events``; return the messages and each batch handed to the transport."""
        sent = []
        Message = type(self.env["logistics.sync.message"])
        # a transport addon provides _send_<transport>; this one only records its calls
        with mock.patch.object(
            Message, "_send_record", lambda messages: sent.append(messages), create=True
        ):
            messages = events._route()
        return messages, sent

    def _route(self, order):
        events = self._events(order) | self._events(order.picking_ids)
        return events._route()

    def test_matching_flows_get_one_shaped_message_each(self):
        order = self._create_order()
        order.action_confirm()
        messages = self._route(order)
        by_flow = {
            m.flow_id: m for m in messages.filtered(lambda m: m.type_code == "order.confirmed")
        }
        self.assertEqual(set(by_flow), {self.flow_wms, self.flow_market})
        wms = by_flow[self.flow_wms]
        self.assertEqual(wms.payload["partner"]["email"], "***")
        self.assertEqual(wms.payload["partner"]["name"], "Jane Customer")
        self.assertEqual(wms.state, "pending")
        self.assertTrue(wms.deadline)
        self.assertEqual(
            by_flow[self.flow_market].payload,
            {"order_id": wms.payload["order_id"], "name": order.name},
        )
        self.assertEqual(len(messages.filtered(lambda m: m.type_code == "stock.reserved")), 1)
        self.assertTrue(all(event.state == "routed" for event in messages.event_id))
        self.assertEqual(len({m.uid for m in by_flow.values()}), 2, "one id per message")

    def test_events_left_unrouted_are_routed_by_the_cron(self):
        """A routing job that gave up (its connection was cut: queue_job marks it failed)
        leaves its events new; a minute later the cron routes them, and only them."""
        old_order, new_order = self._create_order(), self._create_order()
        (old_order | new_order).action_confirm()
        left = self._events(old_order, "order.confirmed")
        fresh = self._events(new_order, "order.confirmed")
        self.env.flush_all()
        self.env.cr.execute(
            """
            UPDATE logistics_sync_event SET create_date = create_date - interval '2 minutes'
             WHERE id = ANY(%s)
            """,
            (self._events(old_order).ids + self._events(old_order.picking_ids).ids,),
        )
        self.env.invalidate_all()
        waiting = self._events(old_order.picking_ids)
        # a routing job still waiting for the runner routes its own events
        waiting.with_delay(channel="root.logistics_sync.route").route()
        self.env["logistics.sync.event"]._cron_route_left()
        self.assertEqual(left.state, "routed")
        self.assertEqual(set(waiting.mapped("state")), {"new"})
        self.assertEqual(left.message_ids.flow_id, self.flow_wms | self.flow_market)
        self.assertEqual(fresh.state, "new", "a fresh event is its routing job's to route")
        self.assertFalse(fresh.message_ids)

    def test_routing_twice_creates_no_duplicate(self):
        order = self._create_order()
        order.action_confirm()
        events = self._events(order)
        first = events._route()
        events.state = "new"  # as if the job ran again after a crash
        self.assertFalse(events._route(), "the UNIQUE (event, flow) absorbs the duplicate")
        self.assertEqual(len(events.message_ids), len(first))

    def test_no_echo_to_the_origin_unless_asked(self):
        order = self._create_order()
        order.with_context(logistics_sync_origin_system_id=self.market.id).action_confirm()
        messages = self._route(order).filtered(lambda m: m.type_code == "order.confirmed")
        self.assertEqual(messages.system_id, self.wms)
        self.flow_market.allow_echo = True
        other = self._create_order()
        other.with_context(logistics_sync_origin_system_id=self.market.id).action_confirm()
        messages = self._route(other).filtered(lambda m: m.type_code == "order.confirmed")
        self.assertEqual(messages.system_id, self.wms | self.market)

    def test_other_company_events_are_not_routed(self):
        other_company = self.env["res.company"].create({"name": "Other Co"})
        self.flow_wms.company_id = other_company
        order = self._create_order()
        order.action_confirm()
        messages = self._route(order)
        self.assertNotIn(self.wms, messages.system_id)

    def test_realtime_messages_go_to_their_transport_sender(self):
        order = self._create_order()
        order.action_confirm()
        messages, sent = self._route_recording_sends(
            self._events(order) | self._events(order.picking_ids)
        )
        self.assertEqual(len(sent), 1)
        self.assertEqual(sent[0], messages.filtered(lambda m: m.flow_id.mode == "realtime"))
        self.assertNotIn(self.flow_market, sent[0].flow_id, "batch messages wait for the schedule")

    def test_batch_criticality_waits_for_the_schedule_even_in_a_realtime_flow(self):
        self.flow_wms.event_type_ids |= self.env["logistics.sync.event.type"]._get("reference.data")
        event = self.env["logistics.sync.event"]._emit(
            "reference.data", self.partner, {"kind": "partner", "items": [self.partner.id]}
        )
        order = self._create_order()
        order.action_confirm()
        messages, sent = self._route_recording_sends(event | self._events(order))
        reference = messages.filtered(lambda m: m.event_id == event)
        self.assertTrue(reference.batched)
        self.assertEqual(reference.flow_id, self.flow_wms)
        self.assertNotIn(reference, sent[0])
        self.assertFalse(any(sent[0].mapped("batched")))
