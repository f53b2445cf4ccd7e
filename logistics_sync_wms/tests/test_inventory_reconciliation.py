from odoo.exceptions import AccessError
from odoo.tests import tagged

from odoo.addons.queue_job.tests.common import trap_jobs

from ..models import logistics_sync_inventory_reconciliation_line as line_module
from .inventory_common import InventoryCase


@tagged("post_install", "-at_install")
class TestInventoryReconciliation(InventoryCase):
    def _full_snapshot(self):
        # Odoo: screw 1000 @stock, phone 10 @shelf, wine LOT-A 24 + LOT-B 12 @shelf
        snapshot = self._receive(
            [
                {"sku": "SCR-1", "quantity": 990},  # -1 %: within the bulk 2 %
                {"sku": "PHO-1", "location": "WH-SHELF-A", "quantity": 7},  # -3: review
                {"sku": "WIN-1", "location": "WH-SHELF-A", "lot": "LOT-A", "quantity": 24},
                # LOT-B missing at the WMS (full snapshot: it counts 0 there)
                {"sku": "WID-1", "location": "WH-SHELF-A", "quantity": 1},  # not in Odoo there
            ]
        )
        self._process(snapshot)
        return snapshot

    def test_full_snapshot_diff_per_product_location_lot(self):
        snapshot = self._full_snapshot()
        reconciliation = snapshot.reconciliation_id
        self.assertEqual(reconciliation.state, "review")
        rows = {
            (line.product_id, line.location_id, line.lot_id): (
                line.odoo_qty,
                line.wms_qty,
                line.difference,
                line.status,
            )
            for line in reconciliation.line_ids
        }
        no_lot = self.env["stock.lot"]
        self.assertEqual(
            rows,
            {
                (self.screw, self.stock, no_lot): (1000, 990, -10, "within"),
                (self.phone, self.shelf, no_lot): (10, 7, -3, "review"),
                (self.wine, self.shelf, self.lot_a): (24, 24, 0, "matched"),
                (self.wine, self.shelf, self.lot_b): (12, 0, -12, "review"),
                (self.product, self.shelf, no_lot): (0, 1, 1, "within"),
                # the common widget stock (100 @stock) is missing from the full snapshot
                (self.product, self.stock, no_lot): (100, 0, -100, "review"),
            },
        )
        phone = self._line(reconciliation, self.phone)
        self.assertAlmostEqual(phone.value, -600.0)
        self.assertEqual(reconciliation.review_count, 3)
        self.assertEqual(reconciliation.within_count, 2)
        self.assertEqual(reconciliation.matched_count, 1)
        self.assertAlmostEqual(reconciliation.difference_value, -10 * 0.5 - 600 - 144)

    def test_partial_snapshot_compares_only_what_it_lists(self):
        snapshot = self._receive(
            [{"sku": "WIN-1", "location": "WH-SHELF-A", "lot": "LOT-A", "quantity": 20}],
            kind="partial",
        )
        self._process(snapshot)
        rows = {
            (line.product_id, line.lot_id): (line.odoo_qty, line.wms_qty)
            for line in snapshot.reconciliation_id.line_ids
        }
        # the listed product and location only (with its other lot), not the screws or
        # the phones the snapshot does not mention
        self.assertEqual(
            rows, {(self.wine, self.lot_a): (24, 20), (self.wine, self.lot_b): (12, 0)}
        )

    def test_tolerance_absolute_and_percent_by_category(self):
        Tolerance = self.env["logistics.sync.inventory.tolerance"]
        Tolerance.create({"categ_id": self.valuable.id, "tolerance_qty": 0})
        Tolerance.create(
            {"categ_id": self.bulk_screws.id, "tolerance_qty": 5, "tolerance_percent": 0}
        )
        snapshot = self._receive(
            [
                {"sku": "SCR-1", "quantity": 996},  # -4: within the screws' 5 units
                {"sku": "PHO-1", "location": "WH-SHELF-A", "quantity": 9},  # -1: valuable 0
                {"sku": "WID-1", "quantity": 99},  # -1: the default's 1 unit
            ],
            kind="partial",
        )
        self._process(snapshot)
        statuses = {line.product_id: line.status for line in snapshot.reconciliation_id.line_ids}
        self.assertEqual(
            statuses, {self.screw: "within", self.phone: "review", self.product: "within"}
        )

        # the screws' own rule replaces the parent's 2 %: 15 units is beyond 5
        snapshot = self._receive(
            [{"sku": "SCR-1", "quantity": 985}], kind="partial", snapshot_id="SNAP-2"
        )
        self._process(snapshot)
        self.assertEqual(snapshot.reconciliation_id.line_ids.status, "review")

    def test_partial_approval_applies_adjustments_with_origin_and_reference(self):
        snapshot = self._full_snapshot()
        reconciliation = snapshot.reconciliation_id
        phone = self._line(reconciliation, self.phone)
        lot_b = self._line(reconciliation, self.wine, lot=self.lot_b)
        widget_shelf = self._line(reconciliation, self.product, self.shelf)
        with self._trap_routing():
            (phone | widget_shelf).with_user(self.manager).action_approve()
        self.assertEqual((phone | widget_shelf).mapped("state"), ["applied", "applied"])
        self.assertEqual(self._on_hand(self.phone, self.shelf), 7)
        self.assertEqual(self._on_hand(self.product, self.shelf), 1)
        # the lines not approved keep Odoo's quantity
        self.assertEqual(lot_b.state, "pending")
        self.assertEqual(self._on_hand(self.wine, self.shelf, self.lot_b), 12)
        self.assertEqual(self._on_hand(self.screw, self.stock), 1000)
        self.assertEqual(reconciliation.state, "review")
        self.assertEqual(reconciliation.applied_count, 2)

        move_lines = self.env["stock.move.line"].search(
            [("move_id.logistics_sync_reconciliation_id", "=", reconciliation.id)]
        )
        self.assertEqual(move_lines.product_id, self.phone | self.product)
        for move_line in move_lines:
            self.assertIn(reconciliation.name, move_line.reference)
            self.assertEqual(move_line.origin, "Test WMS snapshot SNAP-1")
            self.assertTrue(move_line.move_id.is_inventory)
        self.assertEqual(reconciliation.move_count, 2)

        # the adjustments are announced with the WMS as origin: no echo back to it
        adjusted = self.env["logistics.sync.event"].search(
            [("type_code", "=", "stock.adjusted"), ("aggregate_id", "in", self.phone.ids)]
        )
        self.assertEqual(adjusted.origin_system_id, self.wms)
        self.assertEqual(adjusted.payload["quantity_after"], 7)
        reconciled = self.env["logistics.sync.event"].search(
            [("type_code", "=", "inventory.reconciled"), ("aggregate_id", "=", reconciliation.id)]
        )
        self.assertEqual(reconciled.payload["adjusted_lines"], 2)
        self.assertEqual(reconciled.origin_system_id, self.wms)

        # rejecting the rest keeps Odoo's quantities and closes the reconciliation
        reconciliation.with_user(self.manager).action_reject_all()
        self.assertEqual(self._on_hand(self.wine, self.shelf, self.lot_b), 12)
        self.assertEqual(reconciliation.state, "done")

    def test_auto_approval_within_tolerance(self):
        self.wms.inventory_auto_approve = True
        snapshot = self._full_snapshot()
        reconciliation = snapshot.reconciliation_id
        self.assertEqual(self._line(reconciliation, self.screw).state, "applied")
        self.assertTrue(self._line(reconciliation, self.screw).auto_approved)
        self.assertEqual(self._on_hand(self.screw, self.stock), 990)
        self.assertEqual(self._on_hand(self.product, self.shelf), 1)
        # beyond tolerance: waits for a person
        self.assertEqual(self._line(reconciliation, self.phone).state, "pending")
        self.assertEqual(self._on_hand(self.phone, self.shelf), 10)
        self.assertEqual(reconciliation.state, "review")

    def test_chunked_processing_in_several_jobs_with_progress(self):
        self.wms.inventory_chunk_size = 2
        lines = [{"sku": "SCR-1", "quantity": 100} for _index in range(9)]
        lines.append({"sku": "PHO-1", "location": "WH-SHELF-A", "quantity": 10})
        snapshot = self._receive(lines, kind="partial")
        self.assertEqual(snapshot.state, "queued")
        self.assertEqual(snapshot.line_count, 10)
        with trap_jobs() as trap:
            snapshot.process()
        self.assertEqual(snapshot.processed_count, 2)
        self.assertAlmostEqual(snapshot.progress, 19.0)
        trap.assert_jobs_count(1, only=snapshot.process)
        # 5 chunks of 2 lines, then the job that compares with Odoo's stock
        self.assertEqual(self._process(snapshot), 5)
        self.assertEqual(snapshot.progress, 100)
        line = self._line(snapshot.reconciliation_id, self.screw)
        # lines of the same key in different chunks add up
        self.assertEqual((line.wms_qty, line.odoo_qty, line.status), (900, 1000, "review"))
        self.assertEqual(self._line(snapshot.reconciliation_id, self.phone).status, "matched")

    def test_unknown_codes_are_quarantined_never_guessed(self):
        snapshot = self._receive(
            [
                {"sku": "NOPE-9", "quantity": 5},
                {"sku": "scr-1", "quantity": 5},  # case differs: not the same SKU
                {"sku": "PHO-1", "location": "AISLE-99", "quantity": 10},
                {"sku": "WIN-1", "location": "WH-SHELF-A", "lot": "LOT-Z", "quantity": 1},
                {"sku": "PHO-1", "location": "WH-SHELF-A", "quantity": 10},
            ],
            kind="partial",
        )
        self._process(snapshot)
        self.assertEqual(snapshot.quarantined_count, 4)
        quarantined = self.env["logistics.sync.code.quarantine"].search(
            [("system_id", "=", self.wms.id)]
        )
        self.assertEqual(
            sorted(quarantined.mapped(lambda q: (q.domain, q.external_code))),
            [("location", "AISLE-99"), ("lot", "LOT-Z"), ("sku", "NOPE-9"), ("sku", "scr-1")],
        )
        # only the resolved line is compared
        self.assertEqual(snapshot.reconciliation_id.line_ids.product_id, self.phone)

        # once mapped (code map, cross-reference), reprocessing resolves them
        self.env["logistics.sync.code.map"].create(
            [
                {
                    "system_id": self.wms.id,
                    "domain": "sku",
                    "external_code": "NOPE-9",
                    "canonical_value": "SCR-1",
                },
                {
                    "system_id": self.wms.id,
                    "domain": "location",
                    "external_code": "AISLE-99",
                    "canonical_value": "WH-SHELF-A",
                },
            ]
        )
        self.env["logistics.sync.xref"]._link(self.wms, self.screw, "scr-1")
        self.env["logistics.sync.xref"]._link(self.wms, self.lot_b, "LOT-Z")
        first = snapshot.reconciliation_id
        snapshot.with_user(self.manager).action_reprocess()
        self.assertEqual(first.state, "cancelled")
        self._process(snapshot)
        self.assertEqual(snapshot.quarantined_count, 0)
        screw = self._line(snapshot.reconciliation_id, self.screw)
        self.assertEqual(screw.wms_qty, 10)
        self.assertEqual(
            self._line(snapshot.reconciliation_id, self.wine, lot=self.lot_b).wms_qty, 1
        )
        phone = self._line(snapshot.reconciliation_id, self.phone)
        self.assertEqual(phone.wms_qty, 20)

    def test_users_review_managers_approve(self):
        snapshot = self._full_snapshot()
        reconciliation = snapshot.reconciliation_id
        phone = self._line(reconciliation, self.phone)
        # a warehouse user sees the differences and notes a recount...
        as_user = phone.with_user(self.user)
        self.assertEqual(as_user.difference, -3)
        as_user.note = "recount asked"
        self.assertEqual(phone.note, "recount asked")
        self.assertTrue(reconciliation.with_user(self.user).line_ids)
        # ... but cannot decide, by button or by writing the state
        with self.assertRaises(AccessError):
            as_user.action_approve()
        with self.assertRaises(AccessError):
            as_user.action_reject()
        with self.assertRaises(AccessError):
            reconciliation.with_user(self.user).action_approve_all()
        with self.assertRaises(AccessError):
            as_user.write({"state": "approved"})
        with self.assertRaises(AccessError):
            self.env["logistics.sync.inventory.tolerance"].with_user(self.user).create(
                {"tolerance_qty": 100}
            )
        self.assertEqual(phone.state, "pending")
        self.assertEqual(self._on_hand(self.phone, self.shelf), 10)
        # the manager approves
        with self._trap_routing():
            phone.with_user(self.manager).action_approve()
        self.assertEqual(phone.state, "applied")
        self.assertEqual(phone.decided_by_id, self.manager)
        self.assertEqual(self._on_hand(self.phone, self.shelf), 7)

    def test_other_company_does_not_see_reconciliations(self):
        snapshot = self._full_snapshot()
        other = self.env["res.company"].create({"name": "Other Co"})
        self.user.write({"company_ids": [(4, other.id)], "company_id": other.id})
        Line = self.env["logistics.sync.inventory.reconciliation.line"]
        visible = (
            Line.with_user(self.user)
            .with_context(allowed_company_ids=[other.id])
            .search([("reconciliation_id", "=", snapshot.reconciliation_id.id)])
        )
        self.assertFalse(visible)
        self.assertFalse(
            self.env["logistics.sync.inventory.reconciliation"]
            .with_user(self.user)
            .with_context(allowed_company_ids=[other.id])
            .search([("id", "=", snapshot.reconciliation_id.id)])
        )
        main = self.env.company
        visible = (
            Line.with_user(self.user)
            .with_context(allowed_company_ids=[main.id])
            .search([("reconciliation_id", "=", snapshot.reconciliation_id.id)])
        )
        self.assertEqual(len(visible), 6)

    def test_large_approval_is_applied_by_jobs_in_batches(self):
        snapshot = self._full_snapshot()
        reconciliation = snapshot.reconciliation_id
        # a person approving more lines than one batch does not wait: jobs apply them
        self.patch(line_module, "APPLY_BATCH", 2)
        with trap_jobs() as trap:
            reconciliation.with_user(self.manager).action_approve_all()
        self.assertEqual(reconciliation.state, "applying")
        trap.assert_jobs_count(1, only=reconciliation.apply_approved)
        runs = 0
        while reconciliation.state == "applying":
            with trap_jobs(), self._trap_routing():
                reconciliation._apply_approved(batch=2)
            runs += 1
        self.assertEqual(runs, 3)
        self.assertEqual(reconciliation.state, "done")
        self.assertEqual(self._on_hand(self.wine, self.shelf, self.lot_b), 0)
        self.assertEqual(self._on_hand(self.product, self.stock), 0)
        self.assertEqual(self._on_hand(self.screw, self.stock), 990)

    def test_process_now_runs_every_chunk_for_managers_only(self):
        self.wms.inventory_chunk_size = 1
        snapshot = self._receive(
            [{"sku": "SCR-1", "quantity": 990}, {"sku": "PHO-1", "quantity": 1}], kind="partial"
        )
        with self.assertRaises(AccessError):
            snapshot.with_user(self.user).action_process_now()
        self.assertEqual(snapshot.state, "queued")
        with trap_jobs() as trap:
            snapshot.with_user(self.manager).action_process_now()
        trap.assert_jobs_count(0, only=snapshot.process)
        self.assertEqual(snapshot.state, "reconciled")
        self.assertEqual(snapshot.processed_count, 2)
        self.assertEqual(self._line(snapshot.reconciliation_id, self.screw).status, "within")
