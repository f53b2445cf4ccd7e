import json
import threading
from datetime import timedelta

import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate as validate_openapi
from schemathesis.specs.openapi.checks import positive_data_acceptance

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import BaseCase, Form, HttpCase, tagged
from odoo.tools import mute_logger

from odoo.addons.logistics_sync_core.tests.common import LogisticsSyncCase
from odoo.addons.queue_job.tests.common import trap_jobs

from .. import api as api_tools
from .. import inbound, openapi
from .common import api_key_with_secret
from .inbound_common import JsonErrorAssertions, LiveServerCase, order_data, raw_request

BASE = "/logistics_sync/api/v1"
ALL_SCOPES = [code for code, _label in api_tools.SCOPES]


@tagged("post_install", "-at_install")
class TestPartnerApi(JsonErrorAssertions, HttpCase, LogisticsSyncCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Key = cls.env["logistics.sync.api.key"]
        cls.Scope = cls.env["logistics.sync.api.scope"]
        cls.market_key, cls.market_secret = cls._key(cls.market)
        cls.wms_key, cls.wms_secret = cls._key(cls.wms)
        cls.read_key, cls.read_secret = cls._key(cls.market, scopes=["orders:read"])

    @classmethod
    def _key(cls, system, scopes=None, **values):
        return api_key_with_secret(
            cls.env, system, [("code", "in", scopes or ALL_SCOPES)], **values
        )

    def _call(self, method, path, secret=None, body=None, headers=None):
        headers = dict(headers or {})
        if secret:
            headers["Authorization"] = f"Bearer {secret}"
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        if method == "GET":
            return self.url_open(BASE + path, headers=headers)
        return self.url_open(BASE + path, data=data, headers=headers)

    def _create(self, data=None, secret=None, idem=None):
        headers = {"Idempotency-Key": idem} if idem else None
        with trap_jobs():
            return self._call(
                "POST", "/orders", secret or self.market_secret, data or order_data(), headers
            )

    # ------------------------------------------------------------------ keys and auth

    def test_key_is_stored_hashed_and_shown_once(self):
        self.assertTrue(self.market_secret.startswith(self.market_key.prefix + "_"))
        self.assertEqual(self.market_key.sudo().key_hash, api_tools.hash_key(self.market_secret))
        self.assertNotIn(
            self.market_secret, json.dumps(self.market_key.sudo().read()[0], default=str)
        )
        self.assertEqual(self.market_key.state, "active")

    def test_only_managers_manage_keys(self):
        with self.assertRaises(AccessError):
            self.Key.with_user(self.user).search([])
        with self.assertRaises(AccessError):
            self.market_key.with_user(self.user).action_generate()
        self.assertEqual(self.market_key.sudo().key_hash, api_tools.hash_key(self.market_secret))
        key = self.Key.with_user(self.manager).create(
            {"name": "By a manager", "system_id": self.wms.id}
        )
        self.assertEqual(key.state, "draft")
        action = key.action_generate()
        self.assertTrue(action["params"]["sticky"])
        self.assertEqual(key.state, "active")
        key.action_revoke()
        self.assertEqual(key.state, "revoked")

    def test_key_form_for_managers_and_call_log_hidden_from_users(self):
        with Form(self.Key.with_user(self.manager)) as form:
            form.name = "From the form"
            form.system_id = self.carrier
            form.scope_ids.add(self.Scope.search([("code", "=", "stock:read")]))
        self.assertEqual(form.record.scope_ids.mapped("code"), ["stock:read"])
        with self.assertRaises(AccessError):
            self.env["logistics.sync.api.call"].with_user(self.user).search([])

    def test_unknown_api_path_is_a_json_404(self):
        self.assertRefused(self._call("GET", "/nothing/here", self.market_secret), 404, "not_found")
        self.assertRefused(self._call("GET", "/orders/a/b", self.market_secret), 404, "not_found")

    @mute_logger("odoo.addons.logistics_sync_webhook.controllers.api")
    def test_unknown_expired_revoked_keys_get_the_same_401(self):
        expired, expired_secret = self._key(
            self.market, expires_at=fields.Datetime.now() - timedelta(minutes=1)
        )
        revoked, revoked_secret = self._key(self.market)
        revoked.action_revoke()
        bodies = []
        for secret in (None, "lsk_unknown0_" + "x" * 43, expired_secret, revoked_secret, "junk"):
            response = self._call("GET", "/orders/whatever", secret)
            bodies.append(self.assertRefused(response, 401, "unauthorized"))
            self.assertIn("Bearer", response.headers["WWW-Authenticate"])
        self.assertEqual(len({json.dumps(b) for b in bodies}), 1, "one answer for every cause")

    def test_missing_scope_is_403(self):
        response = self._create(secret=self.read_secret)
        self.assertRefused(response, 403, "insufficient_scope")
        self.assertFalse(
            self.env["logistics.sync.xref"]._resolve(self.market, "sale.order", "MK-1001")
        )

    def test_wrong_method_is_405(self):
        response = self._call("GET", "/orders", self.market_secret)
        self.assertRefused(response, 405, "method_not_allowed")
        self.assertEqual(response.headers["Allow"], "POST")

    def test_rate_limit_per_key_429_with_retry_after(self):
        self.market_key.rate_limit = 2
        for _i in range(2):
            self.assertEqual(self._call("GET", "/events", self.market_secret).status_code, 200)
        response = self._call("GET", "/events", self.market_secret)
        self.assertRefused(response, 429, "rate_limited")
        self.assertGreaterEqual(int(response.headers["Retry-After"]), 1)
        # another key of another system is not affected
        self.assertEqual(self._call("GET", "/events", self.wms_secret).status_code, 200)

    # ------------------------------------------------------------------ orders

    def test_create_order_then_read_it_by_both_ids(self):
        response = self._create()
        self.assertEqual(response.status_code, 201, response.text)
        body = response.json()
        order = self.env["logistics.sync.xref"]._resolve(self.market, "sale.order", "MK-1001")
        self.assertEqual(len(order), 1)
        self.assertEqual(order.state, "sale")
        self.assertEqual(body["external_id"], "MK-1001")
        self.assertEqual(body["id"], self.env["logistics.sync.record"]._canonical_id(order))
        self.assertEqual(body["lines"][0]["sku"], "WID-1")
        self.assertEqual(body["lines"][0]["quantity"], 3)
        for reference in ("MK-1001", body["id"]):
            got = self._call("GET", f"/orders/{reference}", self.market_secret)
            self.assertEqual(got.status_code, 200, got.text)
            self.assertEqual(got.json(), body)
        # the order's events come from the marketplace: not echoed back to it
        events = self._events(order)
        self.assertTrue(events)
        self.assertEqual(events.origin_system_id, self.market)
        # sending the same external id again creates nothing
        again = self._create()
        self.assertEqual(again.status_code, 200, again.text)
        self.assertEqual(again.json()["id"], body["id"])

    def test_ids_containing_a_slash_are_usable_in_paths(self):
        created = self._create(order_data(external_id="MK/1001/A"))
        self.assertEqual(created.status_code, 201, created.text)
        auth = {"Authorization": f"Bearer {self.market_secret}"}
        for path in ("/orders/MK%2F1001%2FA", "/orders/MK/1001/A"):
            status, _headers, body = raw_request(self.http_port(), "GET", BASE + path, None, auth)
            self.assertEqual(status, 200, body)
            self.assertEqual(json.loads(body)["id"], created.json()["id"])
        answer = raw_request(self.http_port(), "GET", BASE + "/orders/MK%2F9999", None, auth)
        self.assertRawRefused(answer, 404, "not_found")

    def test_idempotency_key_replays_and_refuses_another_body(self):
        first = self._create(idem="idem-1")
        self.assertEqual(first.status_code, 201, first.text)
        # the same request again (spacing and key order do not matter): the first answer
        data = order_data()
        replay_body = json.dumps(dict(reversed(list(data.items()))), indent=2).encode()
        replay = self._create(replay_body, idem="idem-1")
        self.assertEqual(replay.status_code, 201, replay.text)
        self.assertEqual(replay.json(), first.json())
        self.assertEqual(replay.headers.get("Idempotent-Replayed"), "true")
        other = self._create(order_data(external_id="MK-2002"), idem="idem-1")
        self.assertRefused(other, 422, "idempotency_key_reused")
        Xref = self.env["logistics.sync.xref"]
        self.assertFalse(Xref._resolve(self.market, "sale.order", "MK-2002"))
        self.assertEqual(
            self.env["sale.order"].search_count([("client_order_ref", "=", "MK-1001")]), 1
        )
        records = self.env["logistics.sync.api.idempotency"].search(
            [("key_id", "=", self.market_key.id)]
        )
        self.assertEqual(len(records), 1)
        # the same Idempotency-Key of another API key is another request
        wms_answer = self._create(order_data(external_id="WMS-1"), self.wms_secret, "idem-1")
        self.assertEqual(wms_answer.status_code, 201, wms_answer.text)

    def test_refused_order_leaves_nothing_and_frees_the_idempotency_key(self):
        bad = self._create(order_data(sku="NOPE"), idem="idem-bad")
        body = self.assertRefused(bad, 422, "unprocessable")
        self.assertIn("NOPE", body["message"])
        self.assertFalse(
            self.env["res.partner"].search(
                [("email", "=", "jane@example.com"), ("id", "!=", self.partner.id)]
            )
        )
        missing = self._create({"external_id": "X"}, idem="idem-bad")
        self.assertEqual(self.assertRefused(missing, 422, "schema_violation")["path"][:1], "$")
        malformed = self._create(b"{not json", idem="idem-bad")
        self.assertRefused(malformed, 400, "malformed_json")
        good = self._create(idem="idem-bad")
        self.assertEqual(good.status_code, 201, good.text)

    def test_other_systems_orders_are_404(self):
        created = self._create().json()
        for reference in ("MK-1001", created["id"]):
            response = self._call("GET", f"/orders/{reference}", self.wms_secret)
            self.assertRefused(response, 404, "not_found")
        # an order of no system at all: not visible by its canonical id either
        order = self._create_order()
        canonical = self.env["logistics.sync.record"]._canonical_id(order)
        self.assertRefused(
            self._call("GET", f"/orders/{canonical}", self.market_secret), 404, "not_found"
        )

    # ------------------------------------------------------------------ stock

    def test_stock_by_sku_and_warehouse(self):
        path = f"/stock?sku=WID-1&warehouse={self.warehouse.code}"
        response = self._call("GET", path, self.market_secret)
        self.assertEqual(response.status_code, 200, response.text)
        body = response.json()
        self.assertEqual(body["sku"], "WID-1")
        self.assertEqual(
            body["warehouses"],
            [
                {
                    "warehouse": self.warehouse.code,
                    "on_hand": 100.0,
                    "available": 100.0,
                    "forecast": 100.0,
                }
            ],
        )
        self.assertRefused(
            self._call("GET", "/stock?sku=NOPE", self.market_secret), 404, "not_found"
        )
        self.assertRefused(
            self._call("GET", "/stock?sku=WID-1&warehouse=ZZZ", self.market_secret),
            404,
            "not_found",
        )
        self.assertRefused(self._call("GET", "/stock", self.market_secret), 422, "invalid_request")
        self.assertRefused(
            self._call("GET", "/stock?sku=WID-1", self.read_secret), 403, "insufficient_scope"
        )

    # ------------------------------------------------------------------ shipments

    def test_shipment_status_milestones_and_booking_request(self):
        order = self.env["logistics.sync.record"]._resolve_canonical(self._create().json()["id"])
        picking = order.picking_ids
        self.assertEqual(len(picking), 1)
        canonical = self.env["logistics.sync.record"]._canonical_id(picking)
        picking.write({"logistics_sync_status": "in_transit"})
        self.env["logistics.sync.inbound.message"].create(
            {
                "system_id": self.carrier.id,
                "message_id": "st-1",
                "type_code": "shipment.status",
                "body": json.dumps(
                    {
                        "type": "shipment.status",
                        "data": {"picking_id": canonical, "status": "IT", "location": "Lyon"},
                    }
                ),
                "state": "done",
                "res_model": "stock.picking",
                "res_id": picking.id,
            }
        )
        response = self._call("GET", f"/shipments/{canonical}", self.market_secret)
        self.assertEqual(response.status_code, 200, response.text)
        body = response.json()
        self.assertEqual(
            (body["id"], body["state"], body["status"]), (canonical, picking.state, "in_transit")
        )
        self.assertEqual(body["order_id"], self.env["logistics.sync.record"]._canonical_id(order))
        self.assertEqual(
            [(m["status"], m["location"]) for m in body["milestones"]], [("IT", "Lyon")]
        )
        # a booking request is recorded (202), not booked: no shipment.booked event
        with trap_jobs():
            booked = self._call(
                "POST",
                "/shipments",
                self.market_secret,
                {"picking_id": canonical, "service": "express"},
            )
        self.assertEqual(booked.status_code, 202, booked.text)
        request = self.env["logistics.sync.api.shipment.request"].search(
            [("uid", "=", booked.json()["id"])]
        )
        self.assertEqual(
            (request.picking_id, request.service, request.state), (picking, "express", "requested")
        )
        self.assertFalse(self._events(picking, "shipment.booked"))
        again = self._call("GET", f"/shipments/{canonical}", self.market_secret).json()
        self.assertEqual(again["booking_requests"], [{"id": request.uid, "status": "requested"}])
        # another system sees neither the transfer nor can it request a booking for it
        self.assertRefused(
            self._call("GET", f"/shipments/{canonical}", self.wms_secret), 404, "not_found"
        )
        refused = self._call("POST", "/shipments", self.wms_secret, {"picking_id": canonical})
        self.assertRefused(refused, 404, "not_found")
        self.assertRefused(
            self._call("POST", "/shipments", self.market_secret, {}), 422, "schema_violation"
        )

    def test_every_post_honours_the_idempotency_key(self):
        order = self.env["logistics.sync.record"]._resolve_canonical(self._create().json()["id"])
        canonical = self.env["logistics.sync.record"]._canonical_id(order.picking_ids)
        Request = self.env["logistics.sync.api.shipment.request"]

        def book(data, idem, secret=None):
            with trap_jobs():
                return self._call(
                    "POST",
                    "/shipments",
                    secret or self.market_secret,
                    data,
                    {"Idempotency-Key": idem},
                )

        first = book({"picking_id": canonical, "service": "express"}, "book-1")
        self.assertEqual(first.status_code, 202, first.text)
        self.assertNotIn("Idempotent-Replayed", first.headers)
        replay = book({"service": "express", "picking_id": canonical}, "book-1")
        self.assertEqual((replay.status_code, replay.json()), (202, first.json()))
        self.assertEqual(replay.headers["Idempotent-Replayed"], "true")
        self.assertEqual(len(Request.search([("picking_id", "=", order.picking_ids.id)])), 1)
        other = book({"picking_id": canonical, "service": "economy"}, "book-1")
        self.assertRefused(other, 422, "idempotency_key_reused")
        # the same key on another route is another request: refused as reused too
        reused = self._create(order_data(external_id="MK-IDEM-X"), idem="book-1")
        self.assertRefused(reused, 422, "idempotency_key_reused")
        # a refused first request stores nothing: the key is free for the corrected one
        self.assertRefused(book({"picking_id": "NOPE"}, "book-2"), 404, "not_found")
        again = book({"picking_id": canonical}, "book-2")
        self.assertEqual(again.status_code, 202, again.text)
        self.assertNotEqual(again.json()["id"], first.json()["id"])
        self.assertEqual(len(Request.search([("picking_id", "=", order.picking_ids.id)])), 2)
        self.assertRefused(book({"picking_id": canonical}, "bad key"), 422, "invalid_request")
        # stored: the two first answers, not the refusals
        self.assertEqual(
            self.env["logistics.sync.api.idempotency"].search_count(
                [("key_id", "=", self.market_key.id), ("idempotency_key", "like", "book-")]
            ),
            2,
        )
        # the served document declares it on every POST, also those other addons add
        operations = self.url_open(f"{BASE}/openapi.json").json()["paths"]
        for path, methods in operations.items():
            if "post" in methods:
                names = [p["name"] for p in methods["post"]["parameters"]]
                self.assertIn("Idempotency-Key", names, path)

    # ------------------------------------------------------------------ events

    def test_event_feed_pages_with_an_opaque_cursor(self):
        flow = self.env["logistics.sync.flow"].create(
            {
                "name": "Orders to WMS",
                "system_id": self.wms.id,
                "event_type_ids": [
                    (6, 0, [self.env["logistics.sync.event.type"]._get("order.confirmed").id])
                ],
                "transport": "http",
                "url": "https://wms.example.com/hook",
            }
        )
        orders = self._create_order() | self._create_order() | self._create_order()
        with trap_jobs():
            orders.action_confirm()
            self.env["logistics.sync.event"].search([("state", "=", "new")])._route()
        expected = (
            self.env["logistics.sync.message"]
            .search([("flow_id", "=", flow.id)])
            .sorted(lambda message: message.event_id.id)
        )
        self.assertEqual(len(expected), 3)
        first = self._call("GET", "/events?limit=2", self.wms_secret).json()
        self.assertEqual([e["id"] for e in first["data"]], expected[:2].event_id.mapped("uid"))
        self.assertTrue(first["has_more"])
        self.assertEqual(first["data"][0]["type"], "order.confirmed")
        self.assertEqual(first["data"][0]["data"], expected[0].payload)
        second = self._call(
            "GET", f"/events?limit=2&cursor={first['next_cursor']}", self.wms_secret
        ).json()
        self.assertEqual([e["id"] for e in second["data"]], expected[2:].event_id.mapped("uid"))
        self.assertFalse(second["has_more"])
        empty = self._call("GET", f"/events?cursor={second['next_cursor']}", self.wms_secret).json()
        self.assertEqual((empty["data"], empty["next_cursor"]), ([], second["next_cursor"]))
        # events routed to another system are not in the market's feed
        self.assertEqual(self._call("GET", "/events", self.market_secret).json()["data"], [])
        self.assertRefused(
            self._call("GET", "/events?cursor=garbage!", self.wms_secret), 422, "invalid_request"
        )
        self.assertRefused(
            self._call("GET", "/events?limit=0", self.wms_secret), 422, "invalid_request"
        )

    # ------------------------------------------------------------------ log, retention, OpenAPI

    def test_calls_are_logged_without_secrets_and_purged(self):
        self._call("GET", "/orders/nope", self.market_secret)
        self._call("GET", "/orders/nope", "lsk_unknown0_" + "y" * 43)
        calls = self.env["logistics.sync.api.call"].search([], limit=2)
        self.assertEqual(
            [(c.system_id, c.key_id, c.route, c.method, c.status, c.error) for c in calls],
            [
                (
                    self.env["logistics.sync.system"],
                    self.Key,
                    "/orders/{id}",
                    "GET",
                    401,
                    "unauthorized",
                ),
                (self.market, self.market_key, "/orders/{id}", "GET", 404, "not_found"),
            ],
        )
        self.assertNotIn(self.market_secret, json.dumps(calls.read(), default=str))
        self.assertTrue(self.market_key.last_used_at)
        old = calls[1]
        self.env.cr.execute(
            "UPDATE logistics_sync_api_call SET create_date = %s WHERE id = %s",
            (fields.Datetime.now() - timedelta(days=31), old.id),
        )
        self.assertEqual(self.env["logistics.sync.api.call"]._cron_purge(), 1)
        self.assertFalse(old.exists())
        self.assertTrue(calls[0].exists())

    def test_openapi_document_is_served_and_matches_the_routes(self):
        response = self.url_open(f"{BASE}/openapi.json")
        self.assertEqual(response.status_code, 200)
        document = response.json()
        expected = self.env["logistics.sync.api"]._openapi_document()
        self.assertEqual(document, openapi.declare_idempotency(expected))
        self.assertTrue(document["openapi"].startswith("3."))
        # other addons of the suite may add paths (their own tests cover them)
        self.assertLessEqual(
            {"/orders", "/orders/{id}", "/stock", "/shipments", "/shipments/{id}", "/events"},
            set(document["paths"]),
        )
        self.assertEqual(
            document["components"]["securitySchemes"]["bearerAuth"],
            {
                "type": "http",
                "scheme": "bearer",
                "description": document["components"]["securitySchemes"]["bearerAuth"][
                    "description"
                ],
            },
        )
        _check_openapi_structure(self, document)
        validate_openapi(document)  # raises on any OpenAPI 3.0 violation

    @mute_logger("odoo.addons.logistics_sync_webhook.controllers.api")
    def test_schemathesis_finds_no_server_error_nor_schema_mismatch(self):
        """Requests generated from the OpenAPI document, sent to the live test server: every
        answer is documented (status, content type, body schema) and none is a 5xx."""
        self.market_key.rate_limit = 0
        schema = schemathesis.openapi.from_dict(self.env["logistics.sync.api"]._openapi_document())
        base_url = self.base_url() + BASE
        headers = {"Authorization": f"Bearer {self.market_secret}"}
        operations = [result.ok() for result in schema.get_all_operations()]
        self.assertGreaterEqual(len(operations), 6)  # other addons of the suite add some
        for operation in operations:

            @settings(
                max_examples=25,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy())
            def check(case):
                with trap_jobs():
                    response = case.call(base_url=base_url, headers=headers, timeout=20)
                self.assertLess(response.status_code, 500, response.text)
                # a schema-valid request may still be refused for business reasons (422 for
                # an unknown SKU or warehouse): that is documented, not a mismatch
                case.validate_response(
                    response, headers=headers, excluded_checks=[positive_data_acceptance]
                )

            with self.subTest(operation=operation.label):
                check()


def _check_openapi_structure(case, document):
    """The OpenAPI 3.0 rules a validator would check first: required fields, every $ref
    resolves, every operation has responses with JSON error bodies, parameters complete."""
    case.assertIn("title", document["info"])
    case.assertIn("version", document["info"])
    schemas = document["components"]["schemas"]

    def refs(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref":
                    yield value
                else:
                    yield from refs(value)
        elif isinstance(node, list):
            for item in node:
                yield from refs(item)

    for ref in refs(document):
        case.assertTrue(ref.startswith("#/components/schemas/"), ref)
        case.assertIn(ref.rsplit("/", 1)[-1], schemas)
    operation_ids = set()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            case.assertIn(method, ("get", "post"))
            case.assertNotIn(operation["operationId"], operation_ids)
            operation_ids.add(operation["operationId"])
            case.assertTrue(operation["responses"])
            for status, answer in operation["responses"].items():
                case.assertRegex(status, r"^[1-5]\d\d$")
                case.assertIn("description", answer)
                case.assertIn("application/json", answer["content"])
            for code in ("401", "403", "429"):
                case.assertIn(code, operation["responses"], f"{method} {path}")
            for parameter in operation["parameters"]:
                case.assertIn(parameter["in"], ("path", "query", "header"))
                case.assertIn("schema", parameter)
                if parameter["in"] == "path":
                    case.assertTrue(parameter["required"])
                    case.assertIn("{" + parameter["name"] + "}", path)


class TestApiHelpers(BaseCase):
    def test_keys_are_random_and_hashed(self):
        key, prefix, digest = api_tools.generate_key()
        other = api_tools.generate_key()[0]
        self.assertNotEqual(key, other)
        self.assertTrue(key.startswith(prefix + "_"))
        self.assertEqual(digest, api_tools.hash_key(key))
        self.assertNotIn(key[len(prefix) :], digest)
        self.assertEqual(api_tools.bearer_key(f"Bearer {key}"), key)
        self.assertEqual(api_tools.bearer_key(f"bearer   {key} "), key)
        for header in (None, "", key, f"Basic {key}", "Bearer short", f"Bearer {key}\x00"):
            with self.assertRaises(inbound.InboundError) as caught:
                api_tools.bearer_key(header)
            self.assertEqual(caught.exception.status, 401)

    def test_cursor_round_trip_and_forgeries(self):
        self.assertEqual(api_tools.decode_cursor(api_tools.encode_cursor(42)), 42)
        self.assertEqual(api_tools.decode_cursor(None), 0)
        for forged in ("42", "!!", "ZXYxOi0x", "ZXYyOjQy", "ZXYxOjk5OTk5OTk5OTk5OTk5OTk5OTk5"):
            with self.assertRaises(inbound.InboundError) as caught:
                api_tools.decode_cursor(forged)
            self.assertEqual(caught.exception.status, 422, forged)

    def test_request_hash_ignores_json_layout_only(self):
        first = api_tools.request_hash("POST", "/orders", b'{"a": 1, "b": [1, 2]}')
        self.assertEqual(first, api_tools.request_hash("POST", "/orders", b'{"b":[1,2],"a":1}'))
        self.assertNotEqual(
            first, api_tools.request_hash("POST", "/orders", b'{"a": 2, "b": [1, 2]}')
        )
        self.assertNotEqual(
            first, api_tools.request_hash("POST", "/other", b'{"a": 1, "b": [1, 2]}')
        )


@tagged("post_install", "-at_install")
class TestApiConcurrentIdempotency(LiveServerCase):
    """Copies of one POST /orders with one Idempotency-Key at the same moment, on the real
    threaded server with real commits: one order, every copy gets the first answer."""

    COPIES = 8
    CODE_PREFIX = "idem"

    def setUp(self):
        super().setUp()
        self.url = f"{self.base_url}{BASE}/orders"
        with self._cursor() as env:
            system = self._remember(
                env["logistics.sync.system"].create(
                    {
                        "name": "Concurrent API market",
                        "code": self.code,
                        "kind": "marketplace",
                        "inbound_confirm_orders": False,
                    }
                )
            )
            key = env["logistics.sync.api.key"].create(
                {
                    "name": "Concurrent key",
                    "system_id": system.id,
                    "scope_ids": [(6, 0, env["logistics.sync.api.scope"].search([]).ids)],
                }
            )
            self.secret = key.action_generate()["params"]["message"].rsplit(" ", 1)[-1]
            self._committed_product(env)
            self._remember(
                env["res.partner"].create({"name": "Jane", "email": f"{self.code}@example.com"})
            )
            self.system_id = system.id
        self.addCleanup(self._forget_orders)

    def _forget_orders(self):
        """Before the committed rows above: what the calls created, through the ORM."""
        with self._cursor() as env:
            orders = env["sale.order"].search([("client_order_ref", "=", self.code)])
            env["logistics.sync.record"].search(
                [("res_model", "=", "sale.order"), ("res_id", "in", orders.ids)]
            ).unlink()
            env["logistics.sync.api.call"].search([("system_id", "=", self.system_id)]).unlink()
            orders.unlink()  # its cross-references go with the system

    def test_simultaneous_copies_make_one_order_and_get_the_same_answer(self):
        data = order_data(
            external_id=self.code,
            sku=f"SKU-{self.code}",
            email=f"{self.code}@example.com",
            client_order_ref=self.code,
        )
        headers = {
            "Authorization": f"Bearer {self.secret}",
            "Content-Type": "application/json",
            "Idempotency-Key": f"idem-{self.code}",
        }
        barrier = threading.Barrier(self.COPIES)
        answers = []

        def post():
            barrier.wait(10)
            response = requests.post(self.url, json=data, headers=headers, timeout=60)
            answers.append(response)

        # the server's first request builds Odoo's index of static files (see the inbound
        # concurrency test): warm it up
        requests.get(self.url, timeout=30)
        threads = [threading.Thread(target=post) for _i in range(self.COPIES)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(90)
        self.assertEqual(len(answers), self.COPIES)
        self.assertEqual([a.status_code for a in answers], [201] * self.COPIES)
        replayed = [a.headers.get("Idempotent-Replayed") for a in answers]
        self.assertEqual(sorted(replayed, key=str), [None] + ["true"] * (self.COPIES - 1))
        self.assertEqual(len({json.dumps(a.json(), sort_keys=True) for a in answers}), 1)
        with self._cursor() as env:
            orders = env["sale.order"].search([("client_order_ref", "=", self.code)])
            self.assertEqual(len(orders), 1)
            self.assertEqual(answers[0].json()["name"], orders.name)
            idempotency = env["logistics.sync.api.idempotency"].search(
                [("key_id.system_id", "=", self.system_id)]
            )
            self.assertEqual((len(idempotency), idempotency.status), (1, 201))
            # the copies did not fight over the key's row (the run fails on a logged error)
            self.assertTrue(idempotency.key_id.last_used_at)
