import json

from odoo.exceptions import UserError
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from odoo.addons.logistics_sync_webhook.tests.common import api_key_with_secret
from odoo.addons.logistics_sync_webhook.tests.inbound_common import (
    HMAC_SECRET,
    JsonErrorAssertions,
)
from odoo.addons.queue_job.tests.common import trap_jobs

from ..models import logistics_sync_inventory_snapshot as snapshot_module
from .inventory_common import InventoryCase

BASE = "/logistics_sync/api/v1"


@tagged("post_install", "-at_install")
class TestSnapshotIntake(InventoryCase):
    def test_lines_are_consumed_streaming_in_batches(self):
        self.patch(snapshot_module, "INSERT_BATCH", 3)
        produced = []
        seen_in_database = []

        def lines():
            for index in range(10):
                if index and index % 3 == 0:
                    # when line 4, 7, 10 is asked for, the lines before it are already stored
                    self.env.cr.execute(
                        "SELECT count(*) FROM logistics_sync_inventory_snapshot_line"
                    )
                    seen_in_database.append(self.env.cr.fetchone()[0])
                produced.append(index)
                yield {"sku": "SCR-1", "quantity": index}

        snapshot = self.Snapshot._receive_snapshot(
            self.wms,
            {"snapshot_id": "GEN-1", "kind": "partial", "taken_at": "2024-06-01T06:00:00+02:00"},
            lines(),
            source="file",
            reference="big.csv",
        )
        self.assertEqual(seen_in_database, [3, 6, 9])
        self.assertEqual(snapshot.line_count, 10)
        self.assertEqual(snapshot.source, "file")
        self.assertEqual(snapshot.reference, "big.csv")
        self.assertEqual(snapshot.warehouse_id, self.warehouse)  # the one the WMS operates
        self.assertEqual(str(snapshot.taken_at), "2024-06-01 04:00:00")
        self.assertEqual(sorted(snapshot.line_ids.mapped("quantity")), list(range(10)))
        self.assertEqual(snapshot.state, "queued")

    def test_same_snapshot_id_is_stored_once(self):
        first = self._receive([{"sku": "SCR-1", "quantity": 1}])

        class Never:
            def __iter__(self):
                raise AssertionError("a duplicate snapshot must not be read")

        again = self.Snapshot._receive_snapshot(
            self.wms, {"snapshot_id": "SNAP-1", "kind": "full"}, Never()
        )
        self.assertEqual(again, first)
        self.assertEqual(first.line_count, 1)

    def test_bad_lines_are_refused_with_their_number(self):
        cases = [
            ([{"sku": "SCR-1", "quantity": 1}, {"sku": "", "quantity": 2}], "Line 2: sku"),
            ([{"sku": "SCR-1", "quantity": "many"}], "Line 1: quantity"),
            ([{"sku": "SCR-1", "quantity": float("nan")}], "Line 1: quantity"),
            ([{"sku": "SCR-1", "quantity": True}], "Line 1: quantity"),
            (["SCR-1;4"], "Line 1: each line"),
        ]
        for index, (lines, message) in enumerate(cases):
            with self.subTest(message=message), self.assertRaisesRegex(UserError, message):
                self._receive(lines, snapshot_id=f"BAD-{index}")
        for header, message in [
            ({"kind": "full"}, "snapshot_id"),
            ({"snapshot_id": "X", "kind": "most"}, "kind"),
            ({"snapshot_id": "X", "kind": "full", "warehouse": "NOPE"}, "Unknown warehouse"),
            ({"snapshot_id": "X", "kind": "full", "taken_at": "yesterday"}, "ISO 8601"),
        ]:
            with self.subTest(message=message), self.assertRaisesRegex(UserError, message):
                self.Snapshot._receive_snapshot(self.wms, header, [])
        with self.assertRaisesRegex(UserError, "WMS or 3PL"):
            self.Snapshot._receive_snapshot(self.market, {"snapshot_id": "X", "kind": "full"}, [])

    def test_parts_arrive_in_order_once(self):
        header = {"snapshot_id": "P-1", "kind": "partial", "warehouse": self.warehouse.code}
        Snapshot = self.Snapshot
        snapshot, accepted = Snapshot._receive_snapshot_part(
            self.wms, header, [{"sku": "SCR-1", "quantity": 1}], part=1, last=False
        )
        self.assertTrue(accepted)
        self.assertEqual(snapshot.state, "receiving")
        again, accepted = Snapshot._receive_snapshot_part(
            self.wms, header, [{"sku": "SCR-1", "quantity": 1}], part=1, last=False
        )
        self.assertEqual((again, accepted), (snapshot, False))
        with self.assertRaisesRegex(UserError, "came before part 2"):
            Snapshot._receive_snapshot_part(self.wms, header, [], part=3, last=True)
        Snapshot._receive_snapshot_part(
            self.wms, header, [{"sku": "PHO-1", "quantity": 2}], part=2, last=True
        )
        self.assertEqual(
            (snapshot.state, snapshot.part_count, snapshot.line_count), ("queued", 2, 2)
        )
        with self.assertRaisesRegex(UserError, "is complete"):
            Snapshot._receive_snapshot_part(self.wms, header, [], part=3, last=True)

    def test_processed_snapshot_emits_inventory_snapshot_event(self):
        snapshot = self._receive([{"sku": "SCR-1", "quantity": 990}])
        self._process(snapshot)
        event = self._events(snapshot, "inventory.snapshot")
        self.assertEqual(len(event), 1)
        self.assertEqual(event.origin_system_id, self.wms)
        self.assertEqual(event.payload["snapshot_id"], "SNAP-1")
        self.assertEqual(event.payload["warehouse"], self.warehouse.code)
        self.assertEqual(event.payload["review_count"], snapshot.reconciliation_id.review_count)


@tagged("post_install", "-at_install")
class TestSnapshotApiAndWebhook(JsonErrorAssertions, HttpCase, InventoryCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.secret = api_key_with_secret(
            cls.env, cls.wms, [("code", "=", "inventory:write")], name="WMS key"
        )[1]
        cls.read_secret = api_key_with_secret(
            cls.env, cls.wms, [("code", "=", "stock:read")], name="Read key"
        )[1]
        cls.wms.write(
            {
                "inbound_auth": "hmac",
                "inbound_hmac_header": "X-Wms-Hmac",
                "inbound_hmac_algorithm": "sha256",
                "inbound_hmac_encoding": "hex",
            }
        )
        cls.env["logistics.sync.secret"].create(
            {"system_id": cls.wms.id, "name": "inbound_signing", "value": HMAC_SECRET}
        )

    def _post(self, body, secret=None):
        with trap_jobs():
            return self.url_open(
                f"{BASE}/inventory/snapshots",
                data=json.dumps(body).encode(),
                headers={
                    "Authorization": f"Bearer {secret or self.secret}",
                    "Content-Type": "application/json",
                },
            )

    def test_api_snapshot_in_two_parts(self):
        first = {
            "snapshot_id": "API-1",
            "kind": "partial",
            "warehouse": self.warehouse.code,
            "part": 1,
            "last_part": False,
            "lines": [{"sku": "SCR-1", "quantity": 990}],
        }
        response = self._post(first)
        self.assertEqual(response.status_code, 202, response.text)
        self.assertEqual(response.json()["state"], "receiving")
        # a repeated part is stored once
        response = self._post(first)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertFalse(response.json()["accepted"])
        response = self._post(
            {
                **first,
                "part": 2,
                "last_part": True,
                "lines": [{"sku": "PHO-1", "location": "WH-SHELF-A", "quantity": 7}],
            }
        )
        self.assertEqual(response.status_code, 202, response.text)
        body = response.json()
        self.assertEqual(
            (body["state"], body["parts_received"], body["line_count"]), ("queued", 2, 2)
        )
        snapshot = self.Snapshot.search([("external_id", "=", "API-1")])
        self.assertEqual(snapshot.source, "api")
        self._process(snapshot)
        response = self.url_open(
            f"{BASE}/inventory/snapshots/API-1", headers={"Authorization": f"Bearer {self.secret}"}
        )
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.json()["state"], "reconciled")
        self.assertEqual(response.json()["reconciliation"], snapshot.reconciliation_id.name)

    @mute_logger("odoo.addons.logistics_sync_webhook.controllers.api")
    def test_api_refusals(self):
        self.assertRefused(
            self._post({"snapshot_id": "X", "kind": "full", "lines": []}, self.read_secret),
            403,
            "insufficient_scope",
        )
        body = self.assertRefused(
            self._post({"snapshot_id": "X", "kind": "full", "lines": [{"sku": "A"}]}),
            422,
            "schema_violation",
        )
        self.assertEqual(body["path"], "$.lines[0]")
        body = self.assertRefused(
            self._post({"snapshot_id": "X", "kind": "full", "warehouse": "ZZ", "lines": []}),
            422,
            "unprocessable",
        )
        self.assertIn("Unknown warehouse", body["message"])
        self.assertFalse(self.Snapshot.search([("external_id", "=", "X")]))
        self.assertRefused(
            self.url_open(
                f"{BASE}/inventory/snapshots/NOPE",
                headers={"Authorization": f"Bearer {self.secret}"},
            ),
            404,
            "not_found",
        )

    def test_openapi_document_describes_the_routes(self):
        from openapi_spec_validator import validate as validate_openapi

        document = self.url_open(f"{BASE}/openapi.json").json()
        post = document["paths"]["/inventory/snapshots"]["post"]
        self.assertEqual(post["description"], "Scope: `inventory:write`.")
        self.assertEqual(set(post["responses"]) >= {"200", "202", "401", "403", "422"}, True)
        part = document["components"]["schemas"]["InventorySnapshotPart"]
        self.assertEqual(part["required"], ["snapshot_id", "kind", "lines"])
        self.assertIn("/inventory/snapshots/{id}", document["paths"])
        validate_openapi(document)

    def test_webhook_snapshot_is_received_and_applied(self):
        body = json.dumps(
            {
                "id": "wh-snap-1",
                "type": "inventory.snapshot",
                "data": {
                    "snapshot_id": "WH-1",
                    "kind": "partial",
                    "warehouse": self.warehouse.code,
                    "taken_at": "2024-06-01T06:00:00Z",
                    "items": [{"sku": "PHO-1", "location": "WH-SHELF-A", "quantity": 8}],
                },
            }
        ).encode()
        import hashlib
        import hmac

        signature = hmac.new(HMAC_SECRET.encode(), body, hashlib.sha256).hexdigest()
        with trap_jobs():
            response = self.url_open(
                f"/logistics_sync/webhook/{self.wms.code}",
                data=body,
                headers={"Content-Type": "application/json", "X-Wms-Hmac": signature},
            )
        self.assertEqual(response.status_code, 202, response.text)
        message = self.env["logistics.sync.inbound.message"].search(
            [("system_id", "=", self.wms.id), ("message_id", "=", "wh-snap-1")]
        )
        with trap_jobs():
            message.process()
        self.assertEqual(message.state, "done", message.error)
        snapshot = self.Snapshot.search([("external_id", "=", "WH-1")])
        self.assertEqual((message.res_model, message.res_id), (snapshot._name, snapshot.id))
        self.assertEqual((snapshot.source, snapshot.reference), ("webhook", "wh-snap-1"))
        self._process(snapshot)
        self.assertEqual(snapshot.reconciliation_id.line_ids.difference, -2)
