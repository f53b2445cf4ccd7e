import threading

from odoo.tests import tagged

from ..exceptions import DuplicateReferenceError
from .common import CommittedCase, LogisticsSyncCase


@tagged("post_install", "-at_install")
class TestXref(LogisticsSyncCase):
    def test_lookup_both_ways_and_canonical_id_is_stable(self):
        Xref = self.env["logistics.sync.xref"]
        xref = Xref._link(self.wms, self.partner, "CUST-1")
        self.assertEqual(Xref._external_id(self.wms, self.partner), "CUST-1")
        self.assertEqual(Xref._resolve(self.wms, "res.partner", "CUST-1"), self.partner)
        self.assertFalse(Xref._resolve(self.carrier, "res.partner", "CUST-1"))
        canonical = self.env["logistics.sync.record"]._canonical_id(self.partner)
        self.assertEqual(xref.canonical_id, canonical)
        self.assertEqual(self.env["logistics.sync.record"]._canonical_id(self.partner), canonical)
        self.assertEqual(
            self.env["logistics.sync.record"]._resolve_canonical(canonical), self.partner
        )
        self.assertEqual(Xref._link(self.wms, self.partner, "CUST-1"), xref, "relinking is a no-op")

    def test_unique_in_both_directions(self):
        Xref = self.env["logistics.sync.xref"]
        other = self.partner.copy()
        Xref._link(self.wms, self.partner, "CUST-1")
        with self.assertRaisesRegex(DuplicateReferenceError, "external_unique"):
            Xref._link(self.wms, other, "CUST-1")
        with self.assertRaisesRegex(DuplicateReferenceError, "record_unique"):
            Xref._link(self.wms, self.partner, "CUST-2")
        # another system may use the same id
        Xref._link(self.carrier, other, "CUST-1")
        self.assertEqual(Xref.search_count([("external_id", "=", "CUST-1")]), 2)

    def test_lookups_use_the_unique_indexes(self):
        self.env["logistics.sync.xref"]._link(self.wms, self.partner, "CUST-1")
        self.env.cr.execute("SET LOCAL enable_seqscan = off")
        for where, params in (
            (
                "system_id = %s AND res_model = %s AND external_id = %s",
                (self.wms.id, "res.partner", "CUST-1"),
            ),
            (
                "system_id = %s AND res_model = %s AND res_id = %s",
                (self.wms.id, "res.partner", self.partner.id),
            ),
        ):
            self.env.cr.execute(f"EXPLAIN SELECT id FROM logistics_sync_xref WHERE {where}", params)  # noqa: S608
            plan = " ".join(row[0] for row in self.env.cr.fetchall())
            self.assertIn("Index", plan)
            self.assertIn("logistics_sync_xref_", plan)


@tagged("post_install", "-at_install")
class TestXrefConcurrency(CommittedCase):
    def test_concurrent_duplicate_insert_is_a_clear_error_and_one_row(self):
        with self._cursor() as env:
            system = self._remember(
                env["logistics.sync.system"].create(
                    {"name": "Race", "code": "t_race", "kind": "wms"}
                )
            )
            partners = self._remember(
                env["res.partner"].create([{"name": "Race A"}, {"name": "Race B"}])
            )
        outcome, started = [], threading.Event()

        def second_writer():
            with self._cursor() as env:
                started.set()
                try:
                    env["logistics.sync.xref"]._link(
                        env["logistics.sync.system"].browse(system.id),
                        env["res.partner"].browse(partners[1].id),
                        "EXT-RACE",
                    )
                    env.cr.commit()
                    outcome.append("linked")
                except DuplicateReferenceError as exc:
                    outcome.append(str(exc))

        with self._cursor() as env:
            env["logistics.sync.xref"]._link(
                env["logistics.sync.system"].browse(system.id),
                env["res.partner"].browse(partners[0].id),
                "EXT-RACE",
            )
            thread = threading.Thread(target=second_writer)
            thread.start()
            started.wait(10)
            thread.join(0.5)
            self.assertTrue(thread.is_alive(), "the second insert waits on the unique index")
            env.cr.commit()
        thread.join(10)
        self.assertEqual(len(outcome), 1)
        self.assertIn("already exists", outcome[0])
        with self._cursor() as env:
            rows = env["logistics.sync.xref"].search([("system_id", "=", system.id)])
            self.assertEqual(rows.mapped("res_id"), [partners[0].id])
            self._remember(
                env["logistics.sync.record"].search(
                    [("res_model", "=", "res.partner"), ("res_id", "in", partners.ids)]
                )
            )
            self._remember(rows)
