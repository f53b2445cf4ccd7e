from odoo.tests import tagged

from odoo.addons.logistics_sync_wms.tests.inventory_common import InventoryCase

from .common import MonitorCase


@tagged("post_install", "-at_install")
class TestReconciliationSource(InventoryCase, MonitorCase):
    """Inventory differences beyond tolerance reach the desk and the manager dashboard."""

    def _reconciliation(self):
        # Odoo: screw 1000 @stock, phone 10 @shelf, widget 100 @stock (not in the snapshot)
        snapshot = self._receive(
            [
                {"sku": "SCR-1", "quantity": 990},  # -1 %: within the bulk 2 %
                {"sku": "PHO-1", "location": "WH-SHELF-A", "quantity": 7},  # -3: review
            ],
            kind="partial",
        )
        self._process(snapshot)
        return snapshot.reconciliation_id

    def test_differences_beyond_tolerance_open_one_exception_until_decided(self):
        reconciliation = self._reconciliation()
        self.assertEqual(reconciliation.state, "review")
        [exception] = self._exceptions("reconciliation")
        self.assertEqual(exception.state, "new")
        self.assertEqual(
            (exception.res_model, exception.res_id), (reconciliation._name, reconciliation.id)
        )
        self.assertEqual((exception.system_id, exception.warehouse_id), (self.wms, self.warehouse))
        self.assertIn("1 inventory difference(s) beyond tolerance", exception.name)
        self.assertIn("-605.0", exception.detail, "-10 × 0.5 - 3 × 200")
        # the dashboard tile counts the same line and opens it
        with self._at("2026-11-30 12:00:00"):
            data = self.env["logistics.sync.dashboard"].with_user(self.manager).get_data("manager")
        tile = next(t for t in data["tiles"] if t["key"] == "reconciliation")
        self.assertEqual(tile["value"], 1)
        action = tile["action"]
        self.assertEqual(
            self.env[action["res_model"]].search(action["domain"]),
            self._line(reconciliation, self.phone),
        )
        # deciding the line within tolerance changes nothing; the one beyond resolves it
        with self._trap_routing():
            self._line(reconciliation, self.screw).with_user(self.manager).action_approve()
        self.assertEqual((exception.state, exception.occurrences), ("new", 1))
        with self._trap_routing():
            self._line(reconciliation, self.phone).with_user(self.manager).action_reject()
        self.assertEqual((exception.state, exception.resolution), ("resolved", "auto"))
