"""Two warehouses run by two warehouse systems: each system gets the fulfilment requests
of its own warehouse only, and applies its confirmations to its own transfers."""

from odoo import Command

from odoo.addons.queue_job.tests.common import trap_jobs

from .common import FULFILMENT_TYPES, WmsCase


class TestSeveralSystems(WmsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.wms2 = cls.env["logistics.sync.system"].create(
            {"name": "Second WMS", "code": "second_wms", "kind": "wms"}
        )
        cls.warehouse2 = cls.env["stock.warehouse"].create(
            {"name": "Second DC", "code": "SDC", "logistics_sync_system_id": cls.wms2.id}
        )
        cls.warehouse2.write(
            {
                "logistics_sync_picking_type_ids": [Command.set(cls.warehouse2.out_type_id.ids)],
                "logistics_sync_request_trigger": "confirmed",
            }
        )
        types = cls.env["logistics.sync.event.type"]
        cls.flow2 = cls.env["logistics.sync.flow"].create(
            {
                "name": "Fulfilment to the second WMS",
                "system_id": cls.wms2.id,
                "event_type_ids": [Command.set([types._get(c).id for c in FULFILMENT_TYPES])],
            }
        )

    def _delivery_from(self, warehouse):
        order = self._create_order(quantity=2)
        order.warehouse_id = warehouse
        order.action_confirm()
        picking = order.picking_ids
        self.assertEqual(picking.logistics_sync_wms_system_id, warehouse.logistics_sync_system_id)
        return picking

    def _routed_to(self, picking):
        events = self._events(picking.logistics_sync_wms_fulfilment_id)
        with trap_jobs():
            messages = events._route()
        return messages.flow_id

    def test_requests_go_to_the_system_running_the_warehouse_only(self):
        self.assertEqual(self._routed_to(self._delivery_from(self.warehouse)), self.flow)
        self.assertEqual(self._routed_to(self._delivery_from(self.warehouse2)), self.flow2)

    def test_each_system_confirms_its_own_transfers(self):
        first, second = self._delivery_from(self.warehouse), self._delivery_from(self.warehouse2)
        mine = self._confirm(first, "picked", [self._line(self.product, 2)])
        self.assertEqual(mine.state, "applied", mine.error)
        theirs = self.Confirmation._receive_confirmation(
            self.wms2,
            {
                "fulfilment_id": second.logistics_sync_wms_uid,
                "confirmation_id": "W2-1",
                "stage": "picked",
                "lines": [self._line(self.product, 2)],
            },
            source="api",
        )
        self.assertEqual(theirs.state, "applied", theirs.error)
        self.assertEqual(second.move_ids.quantity, 2)
        # neither may report on the other's transfer
        foreign = self._confirm(second, "picked", [self._line(self.product, 1)])
        self.assertEqual(foreign.state, "error")
