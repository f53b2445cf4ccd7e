"""A unit code per confirmation line: mapped through the uom code maps, converted into the
move's unit; an unknown code is quarantined, a conversion that does not fit is refused."""

from odoo import Command

from .common import WmsCase


class TestConfirmationUnits(WmsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.units = cls.env.ref("uom.product_uom_unit")
        cls.box = cls.env["uom.uom"].create(
            {
                "name": "Box of 12",
                "category_id": cls.units.category_id.id,
                "uom_type": "bigger",
                "factor_inv": 12,
            }
        )
        # sales in boxes make moves in boxes (otherwise Odoo converts them to units)
        cls.env["ir.config_parameter"].set_param("stock.propagate_uom", "1")
        CodeMap = cls.env["logistics.sync.code.map"]
        for code, unit in (("PCE", "Units"), ("DZN", "Dozens"), ("KGM", "kg")):
            CodeMap.create(
                {
                    "system_id": cls.wms.id,
                    "domain": "uom",
                    "external_code": code,
                    "canonical_value": unit,
                }
            )

    def _boxes(self, count):
        """A delivery of ``count`` boxes of 12, requested from the WMS."""
        order = self.env["sale.order"].create(
            {
                "partner_id": self.partner.id,
                "warehouse_id": self.warehouse.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": self.product.id,
                            "product_uom_qty": count,
                            "product_uom": self.box.id,
                        }
                    )
                ],
            }
        )
        order.action_confirm()
        self.assertEqual(order.picking_ids.move_ids.product_uom, self.box)
        return order.picking_ids

    def _picked(self, picking):
        lines = picking.move_ids.move_line_ids.filtered("picked")
        self.assertLessEqual(set(lines.product_uom_id.ids), {self.box.id})
        return sum(lines.mapped("quantity"))

    def test_units_and_dozens_are_converted_into_boxes(self):
        picking = self._boxes(4)
        confirmation = self._confirm(
            picking,
            "picked",
            [
                self._line(self.product, 24, uom="PCE"),  # 2 boxes
                self._line(self.product, 1, uom="DZN"),  # 1 box
                self._line(self.product, 1, uom="Box of 12"),  # the unit the request named
            ],
        )
        self.assertEqual(confirmation.state, "applied", confirmation.error)
        self.assertEqual(self._picked(picking), 4)
        self.assertEqual(confirmation.payload["lines"][0]["quantity"], 24)  # kept as reported
        shipped = self._confirm(picking, "shipped")
        self.assertEqual(shipped.state, "applied", shipped.error)
        self.assertEqual(picking.state, "done")
        self.assertEqual(picking.move_ids.quantity, 4)
        self.assertEqual(picking.move_ids.product_qty, 48)  # in the product's unit

    def test_over_pick_is_checked_after_conversion(self):
        picking = self._boxes(2)
        confirmation = self._confirm(picking, "picked", [self._line(self.product, 36, uom="PCE")])
        self.assertEqual(confirmation.state, "error")
        self.assertIn("Over-pick refused", confirmation.error)
        self.assertEqual(self._picked(picking), 0)

    def test_unknown_unit_code_is_quarantined_never_guessed(self):
        picking = self._boxes(3)
        confirmation = self._confirm(
            picking, "picked", [self._line(self.product, 2, uom="KRT"), self._line(self.product, 1)]
        )
        self.assertEqual(confirmation.state, "quarantined")
        self.assertIn("KRT (uom)", confirmation.error)
        quarantine = self.env["logistics.sync.code.quarantine"].search(
            [("system_id", "=", self.wms.id), ("external_code", "=", "KRT")]
        )
        self.assertEqual(quarantine.domain, "uom")
        self.assertEqual(self._picked(picking), 0)  # nothing of it applied
        quarantine.canonical_value = "Dozens"
        quarantine.action_map()
        confirmation.action_retry()
        self.assertEqual(confirmation.state, "applied", confirmation.error)
        self.assertEqual(self._picked(picking), 3)  # 2 dozens, and 1 in the request's unit

    def test_units_that_do_not_convert_are_refused(self):
        picking = self._boxes(2)
        partial = self._confirm(picking, "picked", [self._line(self.product, 13, uom="PCE")])
        self.assertEqual(partial.state, "error")
        self.assertIn("13 Units is not a whole number of Box of 12", partial.error)
        weight = self._confirm(picking, "picked", [self._line(self.product, 1, uom="KGM")])
        self.assertEqual(weight.state, "error")
        self.assertIn("kg cannot be converted into Box of 12", weight.error)
        unmapped = self.env["logistics.sync.code.map"].create(
            {
                "system_id": self.wms.id,
                "domain": "uom",
                "external_code": "XX",
                "canonical_value": "Crate",
            }
        )
        crate = self._confirm(
            picking, "picked", [self._line(self.product, 1, uom=unmapped.external_code)]
        )
        self.assertEqual(crate.state, "error")
        self.assertIn("maps to 'Crate', which no unit of measure has", crate.error)
        self.assertEqual(self._picked(picking), 0)
