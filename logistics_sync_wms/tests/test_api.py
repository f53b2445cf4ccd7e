import json

from openapi_spec_validator import validate as validate_openapi

from odoo.tests import HttpCase, tagged

from odoo.addons.logistics_sync_webhook.tests.common import api_key_with_secret
from odoo.addons.logistics_sync_webhook.tests.test_api import _check_openapi_structure

from .common import WmsCase

BASE = "/logistics_sync/api/v1"


@tagged("post_install", "-at_install")
class TestFulfilmentApi(HttpCase, WmsCase):
    """POST /fulfilments/{id}/confirmations and /reservations through the real server."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.secret = api_key_with_secret(
            cls.env, cls.wms, [("code", "=", "fulfilments:write")], name="WMS key"
        )[1]
        cls.reader_secret = api_key_with_secret(
            cls.env, cls.wms, [("code", "=", "orders:read")], name="WMS reader"
        )[1]

    def _post(self, reference, body, what="confirmations", secret=None):
        return self.url_open(
            f"{BASE}/fulfilments/{reference}/{what}",
            data=json.dumps(body).encode(),
            headers={
                "Authorization": f"Bearer {secret or self.secret}",
                "Content-Type": "application/json",
            },
        )

    def test_confirmations_are_applied_once_and_refusals_kept(self):
        picking = self._delivery(quantity=2)
        uid = picking.logistics_sync_wms_uid
        body = {
            "confirmation_id": "API-1",
            "stage": "picked",
            "lines": [self._line(self.product, 2)],
        }
        response = self._post(uid, body)
        self.assertEqual(response.status_code, 201, response.text)
        self.assertEqual(response.json()["state"], "applied")
        self.assertEqual(response.json()["fulfilment_state"], "picked")
        repeat = self._post(uid, body)
        self.assertEqual(repeat.status_code, 200, repeat.text)
        self.assertTrue(repeat.json()["duplicate"])
        self.assertEqual(sum(picking.move_line_ids.filtered("picked").mapped("quantity")), 2)
        # over-pick: 422, nothing applied, an error record to see and retry
        over = self._post(
            uid,
            {"confirmation_id": "API-2", "stage": "picked", "lines": [self._line(self.product, 1)]},
        )
        self.assertEqual(over.status_code, 422, over.text)
        self.assertEqual(over.json()["error"], "unprocessable")
        self.assertIn("Over-pick", over.json()["message"])
        error = self.Confirmation.search([("external_id", "=", "API-2")])
        self.assertEqual((error.state, error.source), ("error", "api"))
        # unknown fulfilment: 404, kept as an error record
        unknown = self._post("no-such-fulfilment", dict(body, confirmation_id="API-3"))
        self.assertEqual(unknown.status_code, 404, unknown.text)
        self.assertEqual(self.Confirmation.search([("external_id", "=", "API-3")]).state, "error")
        # a fulfilment id in the body must match the path
        mismatch = self._post(uid, dict(body, confirmation_id="API-4", fulfilment_id="other"))
        self.assertEqual(mismatch.status_code, 422)
        self.assertFalse(self.Confirmation.search([("external_id", "=", "API-4")]))
        shipped = self._post(uid, {"confirmation_id": "API-5", "stage": "shipped"})
        self.assertEqual(shipped.status_code, 201, shipped.text)
        self.assertEqual(picking.state, "done")

    def test_unprintable_confirmation_id_is_refused_with_422(self):
        """Found by the chaos suite's fuzzer: such an id answered 500."""
        picking = self._delivery(quantity=2)
        bads = ("", "two words", "x" * 201, "caf\u00e9")
        for bad in bads:
            response = self._post(
                picking.logistics_sync_wms_uid, {"confirmation_id": bad, "stage": "picked"}
            )
            self.assertEqual(response.status_code, 422, response.text)
            self.assertEqual(response.json()["path"], "$.confirmation_id")
        self.assertFalse(self.Confirmation.search([("external_id", "in", bads)]))

    def test_reservations_and_scope(self):
        picking = self._delivery(quantity=2)
        uid = picking.logistics_sync_wms_uid
        body = {"reservation_id": "RES-1", "status": "reserved"}
        self.assertEqual(self._post(uid, body, "reservations", self.reader_secret).status_code, 403)
        response = self._post(uid, body, "reservations")
        self.assertEqual(response.status_code, 201, response.text)
        self.assertEqual(picking.logistics_sync_wms_state, "reserved")
        invalid = self._post(uid, {"reservation_id": "RES-2", "status": "maybe"}, "reservations")
        self.assertEqual(invalid.status_code, 422)
        self.assertEqual(invalid.json()["path"], "$.status")

    def test_openapi_document_describes_the_fulfilment_routes(self):
        document = self.url_open(f"{BASE}/openapi.json").json()
        post = document["paths"]["/fulfilments/{id}/confirmations"]["post"]
        self.assertEqual(post["description"], "Scope: `fulfilments:write`.")
        self.assertEqual(
            post["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/FulfilmentConfirmation",
        )
        self.assertLessEqual({"201", "200", "202", "404", "422"}, set(post["responses"]))
        self.assertIn("/fulfilments/{id}/reservations", document["paths"])
        stages = document["components"]["schemas"]["FulfilmentConfirmation"]["properties"]
        self.assertEqual(stages["stage"]["enum"], ["picked", "packed", "shipped"])
        _check_openapi_structure(self, document)
        validate_openapi(document)
