from odoo.addons.logistics_sync_core.tests.common import LogisticsSyncCase
from odoo.addons.queue_job.tests.common import trap_jobs


class InventoryCase(LogisticsSyncCase):
    """A warehouse operated by the test WMS, products in two categories with tolerance rules,
    stock in two internal locations (one lot-tracked product)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Snapshot = cls.env["logistics.sync.inventory.snapshot"]
        cls._setup_inventory()

    @classmethod
    def _setup_inventory(cls):
        cls.warehouse.logistics_sync_system_id = cls.wms
        cls.stock = cls.warehouse.lot_stock_id
        cls.shelf = cls.env["stock.location"].create(
            {"name": "Shelf A", "location_id": cls.stock.id, "barcode": "WH-SHELF-A"}
        )
        Category = cls.env["product.category"]
        cls.bulk = Category.create({"name": "Bulk"})
        cls.bulk_screws = Category.create({"name": "Screws", "parent_id": cls.bulk.id})
        cls.valuable = Category.create({"name": "Valuable"})
        Product = cls.env["product.product"]
        cls.screw = Product.create(
            {
                "name": "Screw",
                "default_code": "SCR-1",
                "is_storable": True,
                "categ_id": cls.bulk_screws.id,
                "standard_price": 0.5,
            }
        )
        cls.phone = Product.create(
            {
                "name": "Phone",
                "default_code": "PHO-1",
                "is_storable": True,
                "categ_id": cls.valuable.id,
                "standard_price": 200.0,
            }
        )
        cls.wine = Product.create(
            {
                "name": "Wine",
                "default_code": "WIN-1",
                "is_storable": True,
                "tracking": "lot",
                "categ_id": cls.valuable.id,
                "standard_price": 12.0,
            }
        )
        cls.lot_a = cls.env["stock.lot"].create({"name": "LOT-A", "product_id": cls.wine.id})
        cls.lot_b = cls.env["stock.lot"].create({"name": "LOT-B", "product_id": cls.wine.id})
        Quant = cls.env["stock.quant"]
        Quant._update_available_quantity(cls.screw, cls.stock, 1000)
        Quant._update_available_quantity(cls.phone, cls.shelf, 10)
        Quant._update_available_quantity(cls.wine, cls.shelf, 24, lot_id=cls.lot_a)
        Quant._update_available_quantity(cls.wine, cls.shelf, 12, lot_id=cls.lot_b)
        Tolerance = cls.env["logistics.sync.inventory.tolerance"]
        # bulk goods: 2 % (a parent category's rule covers its children); default: 1 unit
        Tolerance.create({"categ_id": cls.bulk.id, "tolerance_percent": 2.0})
        Tolerance.create({"tolerance_qty": 1.0})

    def _receive(self, lines, kind="full", snapshot_id="SNAP-1", **header):
        return self.Snapshot._receive_snapshot(
            self.wms,
            {
                "snapshot_id": snapshot_id,
                "kind": kind,
                "taken_at": "2024-06-01T06:00:00Z",
                **header,
            },
            iter(lines),
            source="file",
            reference="stock.csv",
        )

    def _process(self, snapshot):
        """Run the snapshot's jobs as the runner would, one after the other; return how
        many ran."""
        runs = 0
        while True:
            with trap_jobs() as trap:
                snapshot.process()
            runs += 1
            if snapshot.state == "reconciled":
                return runs
            self.assertEqual(len(trap.enqueued_jobs), 1, "each chunk queues the next one")
            self.assertLess(runs, 1000)

    def _line(self, reconciliation, product, location=None, lot=None):
        return reconciliation.line_ids.filtered(
            lambda line: line.product_id == product
            and (location is None or line.location_id == location)
            and line.lot_id == (lot or self.env["stock.lot"])
        )

    def _on_hand(self, product, location, lot=None):
        quants = self.env["stock.quant"]._gather(product, location, lot_id=lot, strict=True)
        return sum(quants.mapped("quantity"))
