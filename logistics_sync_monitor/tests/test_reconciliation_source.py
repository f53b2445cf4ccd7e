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

    def test_the_same_differences_in_a_new_snapshot_update_one_exception(self):
        lines = [
            {"sku": "SCR-1", "quantity": 990},  # within tolerance
            {"sku": "PHO-1", "location": "WH-SHELF-A", "quantity": 7},  # -3: review
        ]
        with self._at("2026-11-30 06:00:00"):
            first = self._receive(lines, kind="partial", snapshot_id="SNAP-1")
            self._process(first)
        [exception] = self._exceptions("reconciliation")
        self.assertEqual((exception.occurrences, exception.res_id), (1, first.reconciliation_id.id))
        # the next day's snapshot shows the same differences: the same exception, counted
        with self._at("2026-12-01 06:00:00"):
            second = self._receive(lines, kind="partial", snapshot_id="SNAP-2")
            self._process(second)
        self.assertEqual(self._exceptions("reconciliation"), exception)
        self.assertEqual(exception.occurrences, 2)
        self.assertEqual(str(exception.first_seen), "2026-11-30 06:00:00")
        self.assertEqual(str(exception.last_seen), "2026-12-01 06:00:00")
        newest = second.reconciliation_id
        self.assertEqual(
            (exception.res_id, exception.source_id, exception.res_name),
            (newest.id, newest.id, newest.display_name),
        )
        self.assertIn(newest.name, exception.name)
        self.assertIn(second.display_name, exception.detail)
        # other differences are another problem: another exception
        with self._at("2026-12-02 06:00:00"):
            third = self._receive(
                [{"sku": "PHO-1", "location": "WH-SHELF-A", "quantity": 5}],
                kind="partial",
                snapshot_id="SNAP-3",
            )
            self._process(third)
        other = self._exceptions("reconciliation") - exception
        self.assertEqual(
            (len(other), other.res_id, other.occurrences), (1, third.reconciliation_id.id, 1)
        )
        self.assertEqual(exception.occurrences, 2)
        # deciding the older reconciliation leaves the newest one's exception open
        with self._trap_routing():
            self._line(first.reconciliation_id, self.phone).with_user(self.manager).action_reject()
        self.assertEqual((exception.state, exception.occurrences), ("new", 2))
        self.assertEqual(self.Exception._cron_reconcile(), 0)
        with self._trap_routing():
            self._line(newest, self.phone).with_user(self.manager).action_reject()
        self.assertEqual((exception.state, exception.resolution), ("resolved", "auto"))
        self.assertEqual(other.state, "new")
