from contextlib import contextmanager
from unittest.mock import patch

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from ..models import logistics_sync_event as event_module
from .common import LogisticsSyncCase


@tagged("post_install", "-at_install")
class TestOutbox(LogisticsSyncCase):
    def test_confirm_order_emits_valid_event_with_aggregate_and_sequence(self):
        order = self._create_order()
        self.assertFalse(self._events(order))
        order.action_confirm()
        event = self._events(order, "order.confirmed")
        self.assertEqual(len(event), 1)
        canonical = self.env["logistics.sync.record"]._canonical_id(order)
        self.assertEqual(event.aggregate_canonical_id, canonical)
        self.assertEqual(event.payload["order_id"], canonical)
        self.assertEqual(event.payload["lines"][0]["sku"], "WID-1")
        self.assertEqual(event.payload["partner"]["email"], "jane@example.com")
        self.assertEqual(event.sequence, 1)
        self.assertFalse(event.origin_system_id)
        self.assertTrue(event.correlation_id)
        self.assertEqual(event.state, "new")

    def test_sequence_is_per_aggregate_and_consecutive(self):
        order = self._create_order()
        order.action_confirm()
        order._action_cancel()
        events = self._events(order)
        self.assertEqual(events.mapped("type_code"), ["order.confirmed", "order.cancelled"])
        self.assertEqual(events.mapped("sequence"), [1, 2])
        other = self._create_order()
        other.action_confirm()
        self.assertEqual(self._events(other).sequence, 1)

    def test_context_key_suppresses_emission(self):
        order = self._create_order()
        order.with_context(logistics_sync_no_event=True).action_confirm()
        self.assertEqual(order.state, "sale")
        self.assertFalse(self._events(order))
        self.assertFalse(self._events(order.picking_ids))

    def test_change_on_behalf_of_a_system_records_it_as_origin(self):
        order = self._create_order()
        order.with_context(
            logistics_sync_origin_system_id=self.market.id,
            logistics_sync_correlation_id="corr-1",
            logistics_sync_causation_id="msg-9",
        ).action_confirm()
        event = self._events(order, "order.confirmed")
        self.assertEqual(event.origin_system_id, self.market)
        self.assertEqual((event.correlation_id, event.causation_id), ("corr-1", "msg-9"))

    def test_reservation_then_validation_of_the_picking(self):
        order = self._create_order(quantity=3)
        order.action_confirm()
        picking = order.picking_ids
        reserved = self._events(picking, "stock.reserved")
        self.assertEqual(len(reserved), 1)
        self.assertEqual(reserved.payload["order_id"], self._events(order).aggregate_canonical_id)
        # a second reservation attempt announces nothing new
        picking.action_assign()
        self.assertEqual(len(self._events(picking, "stock.reserved")), 1)
        picking.move_ids.quantity = 3
        picking.button_validate()
        self.assertEqual(picking.state, "done")
        validated = self._events(picking, "picking.validated")
        self.assertEqual(len(validated), 1)
        self.assertEqual(validated.payload["moves"][0]["quantity"], 3)
        self.assertEqual(self._events(picking).mapped("sequence"), [1, 2])

    def test_shortage_when_waiting_for_stock(self):
        scarce = self.env["product.product"].create(
            {"name": "Scarce", "default_code": "SC-1", "is_storable": True}
        )
        order = self._create_order(quantity=5, product=scarce)
        order.action_confirm()
        picking = order.picking_ids
        self.assertEqual(picking.state, "confirmed")
        shortage = self._events(picking, "stock.shortage")
        self.assertEqual(len(shortage), 1)
        self.assertFalse(self._events(picking, "stock.reserved"))
        self.env["stock.quant"]._update_available_quantity(scarce, self.warehouse.lot_stock_id, 5)
        picking.action_assign()
        self.assertEqual(len(self._events(picking, "stock.reserved")), 1)

    def test_cancelling_order_cancels_picking_with_events(self):
        order = self._create_order()
        order.action_confirm()
        picking = order.picking_ids
        order._action_cancel()
        self.assertEqual(len(self._events(order, "order.cancelled")), 1)
        self.assertEqual(len(self._events(picking, "picking.cancelled")), 1)

    def test_inventory_adjustment_emits_stock_adjusted(self):
        quant = self.env["stock.quant"].search(
            [
                ("product_id", "=", self.product.id),
                ("location_id", "=", self.warehouse.lot_stock_id.id),
            ]
        )
        quant.inventory_quantity = 80
        quant.action_apply_inventory()
        event = self._events(self.product, "stock.adjusted")
        self.assertEqual(len(event), 1)
        self.assertEqual(
            (event.payload["quantity_before"], event.payload["quantity_after"]), (100, 80)
        )
        self.assertEqual(event.company_id, quant.company_id)

    def test_invalid_payload_is_refused_with_json_path(self):
        order = self._create_order()
        with self.assertRaisesRegex(
            ValidationError, r"at \$\.lines\[0\]: 'quantity' is a required"
        ):
            self.env["logistics.sync.event"]._emit(
                "order.confirmed",
                order,
                {"order_id": "x", "name": "n", "partner": {"name": "p"}, "lines": [{"sku": "A"}]},
            )
        with self.assertRaisesRegex(ValidationError, "Unknown event type 'no.such'"):
            self.env["logistics.sync.event"]._emit("no.such", order, {})

    def test_a_changed_schema_applies_to_the_next_event(self):
        # the schema is cached per process (every event is checked against it)
        Event = self.env["logistics.sync.event"]
        order = self._create_order()
        event_type = self.env["logistics.sync.event.type"]._get("order.cancelled")
        Event._emit("order.cancelled", order, {"order_id": "x", "name": "n"})
        event_type.json_schema = '{"type": "object", "required": ["reason"]}'
        with self.assertRaisesRegex(ValidationError, "'reason' is a required property"):
            Event._emit("order.cancelled", order, {"order_id": "x", "name": "n"})

    def test_one_routing_job_per_transaction_created_at_commit(self):
        with self._trap_routing() as trap:
            first, second = self._create_order(), self._create_order()
            (first | second).action_confirm()
            trap.assert_jobs_count(0)  # nothing before the commit
        routing = [job for job in trap.enqueued_jobs if job.method_name == "route"]
        self.assertEqual(len(routing), 1)
        routed = routing[0].recordset
        self.assertEqual(
            routed,
            self._events(first)
            | self._events(second)
            | self._events(first.picking_ids)
            | self._events(second.picking_ids),
        )
        self.assertEqual(routing[0].channel, "root.logistics_sync.route")

    @contextmanager
    def _inserted_events(self):
        """Collect the statements that write events (the ORM is not their path)."""
        queries, writes = [], []
        with contextmanager(self._patchExecute)(queries, flush=True):
            yield writes
        writes.extend(q for q in queries if "INSERT INTO logistics_sync_event" in q)

    def test_emit_many_numbers_a_repeated_aggregate_in_the_order_given(self):
        Event = self.env["logistics.sync.event"]
        first, second = self._create_order(), self._create_order()
        Event._emit("order.cancelled", first, {"order_id": "x", "name": "earlier"})
        events = Event._emit_many(
            "order.cancelled",
            [
                (first, {"order_id": "x", "name": "a"}),
                (second, {"order_id": "y", "name": "b"}),
                (first, {"order_id": "x", "name": "c"}),
                (first, {"order_id": "x", "name": "d"}),
            ],
        )
        self.assertEqual([event.payload["name"] for event in events], ["a", "b", "c", "d"])
        self.assertEqual(events.mapped("sequence"), [2, 1, 3, 4])
        # routing creates an aggregate's messages in id order: ids follow the sequences
        in_sequence = self._events(first)
        self.assertEqual(
            [event.payload["name"] for event in in_sequence], ["earlier", "a", "c", "d"]
        )
        self.assertEqual(in_sequence.ids, sorted(in_sequence.ids))
        Records = self.env["logistics.sync.record"]
        self.assertEqual(
            set(events.mapped("aggregate_canonical_id")),
            {Records._canonical_id(first), Records._canonical_id(second)},
        )
        self.assertEqual(events.company_id, self.env.company)
        self.assertEqual(len(set(events.mapped("uid"))), 4)
        self.assertEqual(len(set(events.mapped("correlation_id"))), 4)

    def test_emit_many_takes_each_events_company(self):
        other = self.env["res.company"].create({"name": "Other company"})
        order = self._create_order()
        shared = self.env["res.partner"].create({"name": "Shared contact"})  # no company
        events = self.env["logistics.sync.event"]._emit_many(
            "order.cancelled",
            (
                emission
                for emission in [
                    (order, {"order_id": "x", "name": "its own"}),
                    (order, {"order_id": "x", "name": "given"}, other),
                    (shared, {"order_id": "y", "name": "none"}),
                ]
            ),
        )
        self.assertEqual(
            [(event.payload["name"], event.company_id) for event in events],
            [("its own", order.company_id), ("given", other), ("none", other.browse())],
        )
        with self.assertRaisesRegex(ValueError, "expected"):
            self.env["logistics.sync.event"]._emit_many("order.cancelled", [(order,)])

    def test_emit_many_writes_a_large_call_in_batches_in_order(self):
        order = self._create_order()
        with (
            patch.object(event_module, "EMIT_BATCH", 2),
            self._inserted_events() as writes,
        ):
            events = self.env["logistics.sync.event"]._emit_many(
                "order.cancelled",
                [(order, {"order_id": "x", "name": str(i)}) for i in range(5)],
            )
        self.assertEqual(len(writes), 3)
        self.assertEqual([event.payload["name"] for event in events], list("01234"))
        self.assertEqual(events.mapped("sequence"), [1, 2, 3, 4, 5])
        self.assertEqual(self._events(order).ids, sorted(events.ids))

    def test_emit_many_validates_every_payload_before_writing_any(self):
        Event = self.env["logistics.sync.event"]
        order = self._create_order()
        with self.assertRaisesRegex(ValidationError, "'name' is a required property"):
            Event._emit_many(
                "order.cancelled",
                [(order, {"order_id": "x", "name": "a"}), (order, {"order_id": "x"})],
            )
        self.assertFalse(self._events(order))
        self.assertEqual(
            Event._emit("order.cancelled", order, {"order_id": "x", "name": "b"}).sequence, 1
        )
        self.assertFalse(Event._emit_many("order.cancelled", []))

    def test_orders_confirmed_together_are_written_by_one_statement(self):
        orders = self._create_order() | self._create_order() | self._create_order()
        with self._inserted_events() as writes:
            orders.action_confirm()
        self.assertEqual(len(writes), 2, "one for the orders, one for their pickings")
        for order in orders:
            self.assertEqual(len(self._events(order, "order.confirmed")), 1)
            self.assertEqual(len(self._events(order.picking_ids, "stock.reserved")), 1)

    def test_a_product_counted_in_two_locations_gets_consecutive_events(self):
        shelf = self.env["stock.location"].create(
            {"name": "Shelf", "location_id": self.warehouse.lot_stock_id.id}
        )
        self.env["stock.quant"]._update_available_quantity(self.product, shelf, 5)
        quants = self.env["stock.quant"].search(
            [
                ("product_id", "=", self.product.id),
                ("location_id", "in", (self.warehouse.lot_stock_id | shelf).ids),
            ],
            order="location_id desc",
        )
        self.assertEqual(len(quants), 2)
        for quant in quants:
            quant.inventory_quantity = quant.quantity + 1
        with self._inserted_events() as writes:
            quants.action_apply_inventory()
        self.assertEqual(len(writes), 1)
        events = self._events(self.product, "stock.adjusted")
        self.assertEqual(events.mapped("sequence"), [1, 2])
        self.assertEqual(
            [event.payload["location"] for event in events],
            quants.location_id.mapped("complete_name"),
        )
        self.assertEqual(events.ids, sorted(events.ids))
