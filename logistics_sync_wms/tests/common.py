import uuid

from odoo.addons.logistics_sync_core.tests.common import LogisticsSyncCase

FULFILMENT_TYPES = ("fulfilment.requested", "fulfilment.changed", "fulfilment.cancelled")


class WmsCase(LogisticsSyncCase):
    """The main warehouse run by the test WMS (its delivery orders), a lot-tracked product
    with two lots in stock, a customer with an address, and a flow of the fulfilment events
    to the WMS."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_wms()

    @classmethod
    def _setup_wms(cls):
        cls.out_type = cls.warehouse.out_type_id
        cls.warehouse.write(
            {
                "logistics_sync_system_id": cls.wms.id,
                "logistics_sync_picking_type_ids": [(6, 0, cls.out_type.ids)],
            }
        )
        cls.partner.write(
            {
                "street": "1 Main Street",
                "zip": "1000",
                "city": "Brussels",
                "country_id": cls.env.ref("base.be").id,
            }
        )
        cls.lot_product = cls.env["product.product"].create(
            {"name": "Serum", "default_code": "SER-1", "is_storable": True, "tracking": "lot"}
        )
        Lot = cls.env["stock.lot"]
        cls.lot_a = Lot.create({"name": "LA-1", "product_id": cls.lot_product.id})
        cls.lot_b = Lot.create({"name": "LB-2", "product_id": cls.lot_product.id})
        Quant = cls.env["stock.quant"]
        Quant._update_available_quantity(
            cls.lot_product, cls.warehouse.lot_stock_id, 5, lot_id=cls.lot_a
        )
        Quant._update_available_quantity(
            cls.lot_product, cls.warehouse.lot_stock_id, 5, lot_id=cls.lot_b
        )
        types = cls.env["logistics.sync.event.type"]
        cls.flow = cls.env["logistics.sync.flow"].create(
            {
                "name": "Fulfilment to the WMS",
                "system_id": cls.wms.id,
                "event_type_ids": [
                    (
                        6,
                        0,
                        [
                            types._get(code).id
                            for code in (
                                "fulfilment.requested",
                                "fulfilment.changed",
                                "fulfilment.cancelled",
                            )
                        ],
                    )
                ],
                "masked_fields": "ship_to.email, ship_to.phone",
            }
        )
        cls.Confirmation = cls.env["logistics.sync.wms.confirmation"]

    def _delivery(self, quantity=2, product=None):
        """A confirmed order's delivery, reserved in Odoo: requested from the WMS."""
        order = self._create_order(quantity=quantity, product=product)
        order.action_confirm()
        return order.picking_ids

    def _confirm(self, picking, stage, lines=(), confirmation_id=None, **extra):
        payload = {
            "fulfilment_id": picking.logistics_sync_wms_uid,
            "confirmation_id": confirmation_id or f"C-{uuid.uuid4().hex[:8]}",
            "stage": stage,
            "lines": list(lines),
            **extra,
        }
        return self.Confirmation._receive_confirmation(self.wms, payload, source="api")

    @staticmethod
    def _line(product, quantity, **extra):
        return {"sku": product.default_code, "quantity": quantity, **extra}
