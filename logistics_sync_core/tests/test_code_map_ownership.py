from odoo.tests import tagged

from ..exceptions import OwnershipError, UnknownCodeError
from .common import LogisticsSyncCase


@tagged("post_install", "-at_install")
class TestCodeMap(LogisticsSyncCase):
    def test_known_code_maps_both_ways(self):
        Map = self.env["logistics.sync.code.map"]
        Map.create(
            {
                "system_id": self.carrier.id,
                "domain": "status",
                "external_code": "DLV",
                "canonical_value": "delivered",
            }
        )
        self.assertEqual(Map._to_canonical(self.carrier, "status", "DLV"), "delivered")
        self.assertEqual(Map._to_external(self.carrier, "status", "delivered"), "DLV")
        self.assertFalse(Map._to_external(self.wms, "status", "delivered"))

    def test_unknown_code_is_quarantined_never_guessed(self):
        Map = self.env["logistics.sync.code.map"]
        Map.create(
            {
                "system_id": self.carrier.id,
                "domain": "status",
                "external_code": "DLV",
                "canonical_value": "delivered",
            }
        )
        Quarantine = self.env["logistics.sync.code.quarantine"]
        for _attempt in range(2):
            with self.assertRaisesRegex(
                UnknownCodeError, "Unknown Status code 'dlv' from Test Carrier"
            ):
                Map._to_canonical(self.carrier, "status", "dlv")  # case differs: not guessed
        entry = Quarantine.search([("system_id", "=", self.carrier.id)])
        self.assertEqual(
            (entry.external_code, entry.domain, entry.occurrences, entry.state),
            ("dlv", "status", 2, "new"),
        )
        # a person maps it; the next lookup succeeds
        entry.canonical_value = "delivered"
        entry.action_map()
        self.assertEqual(entry.state, "mapped")
        self.assertEqual(Map._to_canonical(self.carrier, "status", "dlv"), "delivered")


@tagged("post_install", "-at_install")
class TestOwnership(LogisticsSyncCase):
    def _rule(self, **values):
        return self.env["logistics.sync.ownership.rule"].create(
            {"name": "rule", "model_id": self.env["ir.model"]._get_id("stock.picking"), **values}
        )

    def setUp(self):
        super().setUp()
        self.order = self._create_order()
        self.order.action_confirm()
        self.picking = self.order.picking_ids
        self.Rule = self.env["logistics.sync.ownership.rule"]

    def test_non_owner_is_rejected_and_owner_and_odoo_allowed(self):
        self._rule(
            scope="fields", field_names="carrier_tracking_ref", owner_system_id=self.carrier.id
        )
        values = {"carrier_tracking_ref": "TRACK-1"}
        with self.assertRaisesRegex(
            OwnershipError, "Test WMS may not change .*Test Carrier is the system of record"
        ):
            self.Rule._check_change(self.wms, self.picking, values)
        self.assertTrue(self.Rule._check_change(self.carrier, self.picking, values))
        self.assertTrue(
            self.Rule._check_change(self.env["logistics.sync.system"], self.picking, values)
        )
        # fields outside the rule are free
        self.assertTrue(self.Rule._check_change(self.wms, self.picking, {"note": "x"}))

    def test_non_owner_change_parked_for_review(self):
        self._rule(
            scope="fields",
            field_names="carrier_tracking_ref",
            owner_system_id=self.carrier.id,
            on_violation="park",
        )
        allowed = self.Rule._check_change(self.wms, self.picking, {"carrier_tracking_ref": "WMS-9"})
        self.assertFalse(allowed)
        parked = self.env["logistics.sync.parked.change"].search([("res_id", "=", self.picking.id)])
        self.assertEqual(
            (parked.system_id, parked.values, parked.state),
            (self.wms, {"carrier_tracking_ref": "WMS-9"}, "pending"),
        )
        self.assertFalse(self.picking.carrier_tracking_ref, "nothing applied silently")
        parked.with_user(self.manager).action_apply()
        self.assertEqual(self.picking.carrier_tracking_ref, "WMS-9")
        self.assertEqual(parked.state, "applied")

    def test_transition_rule_with_odoo_as_owner(self):
        self._rule(scope="transition", status_from="assigned", status_to="cancel")
        with self.assertRaisesRegex(OwnershipError, "Odoo is the system of record"):
            self.Rule._check_change(self.wms, self.picking, transition=("assigned", "cancel"))
        self.assertTrue(
            self.Rule._check_change(self.wms, self.picking, transition=("assigned", "done"))
        )
