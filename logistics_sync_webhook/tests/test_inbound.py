import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import requests
from svix.webhooks import Webhook as SvixWebhook

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.tests.common import trap_jobs

from .. import inbound, signing
from .inbound_common import (
    API_KEY,
    HMAC_SECRET,
    SECRET,
    InboundCase,
    LiveServerCase,
    envelope,
    order_data,
    standard_headers,
)

_LOGGER = "odoo.addons.logistics_sync_webhook.models.logistics_sync_system"


@tagged("post_install", "-at_install")
class TestInboundVerification(InboundCase):
    def test_standardwebhooks_signature_is_accepted_stored_and_queued(self):
        body = envelope("order.created", order_data())
        with trap_jobs() as trap:
            response, msg_id = self._post_signed(body)
        self.assertEqual(response.status_code, 202, response.text)
        self.assertEqual(response.json(), {"status": "accepted", "id": msg_id})
        message = self._messages(msg_id=msg_id)
        self.assertEqual(len(message), 1)
        self.assertEqual((message.state, message.type_code), ("received", "order.created"))
        self.assertEqual(message.body.encode(), body, "the exact bytes are kept")
        self.assertEqual(message.headers["Webhook-Id"], msg_id)
        trap.assert_jobs_count(1)
        trap.assert_enqueued_job(
            self.market.inbound_drain,
            properties={
                "channel": "root.logistics_sync.inbound",
                "identity_key": f"logistics_sync_inbound_drain_{self.market.id}",
            },
        )

    def test_svix_signature_is_accepted(self):
        body = envelope("order.created", order_data())
        msg_id, when = "msg_svix_1", datetime.now(timezone.utc)
        headers = {
            "content-type": "application/json",
            "svix-id": msg_id,
            "svix-timestamp": str(int(when.timestamp())),
            "svix-signature": SvixWebhook(SECRET).sign(msg_id, when, body.decode()),
        }
        response = self._post(self.market.code, body, headers)
        self.assertEqual(response.status_code, 202, response.text)
        self.assertTrue(self._messages(msg_id=msg_id))

    def test_ed25519_v1a_and_several_signatures_during_rotation(self):
        body = envelope("order.created", order_data())
        headers = {
            "content-type": "application/json",
            **signing.headers("msg_ed", int(time.time()), body, [self.ed_signing_key]),
        }
        self.assertTrue(headers["webhook-signature"].startswith("v1a,"))
        self.assertEqual(self._post(self.market.code, body, headers).status_code, 202)
        # a sender rotating its secret signs with the new and the old one: one match is enough
        other = signing.generate_hmac_secret()
        headers = {
            "content-type": "application/json",
            **signing.headers("msg_rot", int(time.time()), body, [other, SECRET]),
        }
        self.assertEqual(len(headers["webhook-signature"].split()), 2)
        self.assertEqual(self._post(self.market.code, body, headers).status_code, 202)

    def test_bad_signatures_get_one_and_the_same_401(self):
        body = envelope("order.created", order_data())
        good = standard_headers(body)
        now = datetime.now(timezone.utc)
        cases = {
            "tampered body": (body.replace(b"Jane", b"John"), good),
            "expired": (body, standard_headers(body, when=now - timedelta(minutes=6))),
            "from the future": (body, standard_headers(body, when=now + timedelta(minutes=6))),
            "wrong key": (body, standard_headers(body, secret=signing.generate_hmac_secret())),
            "malformed signature": (body, {**good, "webhook-signature": "v1,not base64!!"}),
            "malformed timestamp": (body, {**good, "webhook-timestamp": "1e9"}),
            "no signature header": (
                body,
                {k: v for k, v in good.items() if k != "webhook-signature"},
            ),
            "no headers": (body, {"content-type": "application/json"}),
        }
        answers = set()
        for case, (sent, headers) in cases.items():
            with self.subTest(case):
                response = self._post(self.market.code, sent, headers)
                answers.add(response.text)
                self.assertRefused(response, 401, "unauthorized")
        # an unknown system gets exactly the same answer: its existence is not disclosed
        response = self._post("no_such_system", body, good)
        answers.add(response.text)
        self.assertRefused(response, 401, "unauthorized")
        # a system that does not accept webhooks at all, too
        self.env["logistics.sync.system"].create(
            {"name": "Quiet", "code": "t_quiet", "kind": "erp"}
        )
        response = self._post("t_quiet", body, good)
        answers.add(response.text)
        self.assertRefused(response, 401, "unauthorized")
        self.assertEqual(len(answers), 1, answers)
        self.assertFalse(self._messages())

    def test_tolerance_is_configurable(self):
        self.market.inbound_tolerance = 900
        body = envelope("order.created", order_data())
        headers = standard_headers(body, when=datetime.now(timezone.utc) - timedelta(minutes=10))
        self.assertEqual(self._post(self.market.code, body, headers).status_code, 202)

    def test_replayed_message_answers_200_and_has_one_effect(self):
        body = envelope("order.created", order_data(external_id="MK-REPLAY"))
        headers = standard_headers(body)
        first = self._post(self.market.code, body, headers)
        again = self._post(self.market.code, body, headers)
        self.assertEqual((first.status_code, again.status_code), (202, 200))
        self.assertEqual(again.json()["status"], "duplicate")
        message = self._messages(msg_id=headers["webhook-id"])
        self.assertEqual(len(message), 1)
        drain = self.env["queue.job"].search([("method_name", "=", "inbound_drain")])
        self.assertEqual(len(drain), 1)
        self.market.inbound_drain()
        self.market.inbound_drain()
        orders = self.env["sale.order"].search([("client_order_ref", "=", "MK-REPLAY")])
        self.assertEqual(len(orders), 1)

    def test_duplicates_and_refusals_are_counted(self):
        body = envelope("order.created", order_data(external_id="MK-COUNTED"))
        headers = standard_headers(body)
        Log = self.env["logistics.sync.edge.log"]
        before = Log.search([], order="id desc", limit=1).id or 0
        self._post(self.market.code, body, headers)
        self._post(self.market.code, body, headers)
        self._post(self.market.code, body, {**headers, "webhook-signature": "v1,bad"})
        self._post("no_such_system", body, headers)
        logged = Log.search([("id", ">", before)], order="id")
        self.assertEqual(
            [(log.outcome, log.system_id, log.status, log.error) for log in logged],
            [
                ("duplicate", self.market, 200, False),
                ("refused", self.market, 401, "unauthorized"),
                ("refused", self.env["logistics.sync.system"], 401, "unauthorized"),
            ],
        )
        self.assertEqual(len(self._messages()), 1, "accepted messages are counted apart")

    def test_generic_hmac_header_scheme(self):
        body = envelope("shipment.status", {"picking_id": "P-1", "status": "IN_TRANSIT"}, id="m-1")
        digest = hmac.new(HMAC_SECRET.encode(), body, hashlib.sha512).digest()
        headers = {"content-type": "application/json", "X-Shop-Hmac": base64.b64encode(digest)}
        self.assertEqual(self._post(self.wms.code, body, headers).status_code, 202)
        self.assertTrue(self._messages(self.wms, "m-1"), "the envelope's id is the message id")
        # hex SHA-256 with a prefix, as GitHub sends it
        self.wms.write(
            {
                "inbound_hmac_algorithm": "sha256",
                "inbound_hmac_encoding": "hex",
                "inbound_hmac_prefix": "sha256=",
            }
        )
        body = body.replace(b"m-1", b"m-2")
        hexdigest = hmac.new(HMAC_SECRET.encode(), body, hashlib.sha256).hexdigest()
        headers = {"content-type": "application/json", "X-Shop-Hmac": "sha256=" + hexdigest}
        self.assertEqual(self._post(self.wms.code, body, headers).status_code, 202)
        tampered = body.replace(b"IN_TRANSIT", b"DELIVERED")
        self.assertRefused(self._post(self.wms.code, tampered, headers), 401, "unauthorized")
        headers["X-Shop-Hmac"] = "sha256=zz"
        self.assertRefused(self._post(self.wms.code, body, headers), 401, "unauthorized")

    @mute_logger(_LOGGER)
    def test_hmac_and_api_key_schemes_check_an_optional_timestamp(self):
        now = int(time.time())
        # default tolerance: 300 s; 30 s beyond it, as the requests below take seconds on a
        # loaded machine and "now + 301" would be within the tolerance by the time it arrives
        old, future = str(now - 330), str(now + 330)

        def hmac_headers(body, timestamp=None, signed=False):
            content = f"{timestamp}.".encode() + body if signed else body
            digest = hmac.new(HMAC_SECRET.encode(), content, hashlib.sha512).digest()
            headers = {"content-type": "application/json", "X-Shop-Hmac": base64.b64encode(digest)}
            if timestamp is not None:
                headers["webhook-timestamp"] = timestamp
            return headers

        def body(number):
            return envelope("shipment.status", {"picking_id": "P", "status": "S"}, id=f"t-{number}")

        def api_key_headers(timestamp=None, name="webhook-timestamp"):
            headers = {"content-type": "application/json", "X-Api-Key": API_KEY}
            if timestamp is not None:
                headers[name] = timestamp
            return headers

        post = self._post
        # optional: without the header as before; with it, within the tolerance only
        self.assertEqual(post(self.wms.code, body(1), hmac_headers(body(1))).status_code, 202)
        self.assertEqual(
            post(self.wms.code, body(2), hmac_headers(body(2), str(now))).status_code, 202
        )
        for timestamp in (old, future, "soon"):
            with self.subTest(scheme="hmac", timestamp=timestamp):
                answer = post(self.wms.code, body(3), hmac_headers(body(3), timestamp))
                self.assertRefused(answer, 401, "unauthorized")
        self.assertEqual(post(self.carrier.code, body(4), api_key_headers()).status_code, 202)
        self.assertEqual(
            post(self.carrier.code, body(5), api_key_headers(str(now))).status_code, 202
        )
        self.assertRefused(
            post(self.carrier.code, body(6), api_key_headers(old)), 401, "unauthorized"
        )
        # another header name, a wider tolerance, and required
        self.carrier.write(
            {
                "inbound_timestamp_header": "X-Sent-At",
                "inbound_tolerance": 600,
                "inbound_timestamp_required": True,
            }
        )
        self.assertRefused(post(self.carrier.code, body(7), api_key_headers()), 401, "unauthorized")
        answer = post(self.carrier.code, body(8), api_key_headers(old, "X-Sent-At"))
        self.assertEqual(answer.status_code, 202, answer.text)
        # signed timestamp: the digest covers "<timestamp>.<body>"; a replay cannot renew it
        self.wms.inbound_hmac_sign_timestamp = True
        signed = hmac_headers(body(9), str(now), signed=True)
        self.assertEqual(post(self.wms.code, body(9), signed).status_code, 202)
        renewed = dict(signed, **{"webhook-timestamp": str(now + 1)})
        self.assertRefused(post(self.wms.code, body(9), renewed), 401, "unauthorized")
        self.assertRefused(
            post(self.wms.code, body(11), hmac_headers(body(11))), 401, "unauthorized"
        )
        self.assertRefused(
            post(self.wms.code, body(12), hmac_headers(body(12), old, signed=True)),
            401,
            "unauthorized",
        )
        stored = self._messages(self.wms) | self._messages(self.carrier)
        self.assertEqual(
            sorted(stored.mapped("message_id")), ["t-1", "t-2", "t-4", "t-5", "t-8", "t-9"]
        )

    def test_api_key_scheme_and_redacted_headers(self):
        body = envelope("shipment.status", {"picking_id": "P-1", "status": "OUT"})
        headers = {
            "content-type": "application/json",
            "X-Api-Key": API_KEY,
            "webhook-id": "carrier-1",
            "Authorization": "Bearer other-secret",
        }
        self.assertEqual(self._post(self.carrier.code, body, headers).status_code, 202)
        message = self._messages(self.carrier, "carrier-1")
        self.assertEqual(message.headers["X-Api-Key"], "***")
        self.assertEqual(message.headers["Authorization"], "***")
        self.assertNotIn(API_KEY, str(message.headers))
        headers.update({"X-Api-Key": API_KEY + "x", "webhook-id": "carrier-2"})
        self.assertRefused(self._post(self.carrier.code, body, headers), 401, "unauthorized")
        # rotation: a second key is accepted next to the first
        self._secret(self.carrier, "inbound_api_key_2", "second-key-abcdef")
        headers["X-Api-Key"] = "second-key-abcdef"
        self.assertEqual(self._post(self.carrier.code, body, headers).status_code, 202)


@tagged("post_install", "-at_install")
class TestInboundErrors(InboundCase):
    def test_malformed_json_is_400(self):
        for body in (b'{"type": "order.created", ', b"\xff\xfe{}", b'{"a": NaN}', b"[" * 5000):
            with self.subTest(body=body[:20]):
                headers = {
                    "content-type": "application/json",
                    **signing.headers("msg_bad_json", int(time.time()), body, [SECRET]),
                }
                response = self._post(self.market.code, body, headers)
                self.assertRefused(response, 400, "malformed_json")
        self.assertFalse(self._messages())

    def test_paused_system_is_403(self):
        self.market.action_pause()
        response, _msg_id = self._post_signed(envelope("order.created", order_data()))
        self.assertRefused(response, 403, "system_paused")
        self.assertFalse(self._messages())

    def test_a_change_to_the_sender_applies_at_its_next_request(self):
        # what the intake reads of a system is cached in the worker: a change clears it
        response, _msg_id = self._post_signed(envelope("order.created", order_data("MK-C1")))
        self.assertEqual(response.status_code, 202, response.text)
        self.market.action_pause()
        response, _msg_id = self._post_signed(envelope("order.created", order_data("MK-C2")))
        self.assertRefused(response, 403, "system_paused")
        self.market.write({"state": "active", "inbound_max_bytes": 200})
        body = envelope("order.created", order_data("MK-C3", note="x" * 300))
        self.assertRefused(self._post_signed(body)[0], 413, "payload_too_large")
        old_code = self.market.code
        self.market.write({"code": "market_renamed", "inbound_max_bytes": 100_000})
        body = envelope("order.created", order_data("MK-C4"))
        self.assertRefused(self._post(old_code, body, standard_headers(body)), 401, "unauthorized")
        response = self._post("market_renamed", body, standard_headers(body))
        self.assertEqual(response.status_code, 202, response.text)
        # the AMQP reader's bookkeeping, written at each of its runs, keeps the cache
        self.env.registry.cache_invalidated.clear()
        self.market.write({"inbound_amqp_last_result": "3 taken"})
        self.assertFalse(self.env.registry.cache_invalidated)
        self.market.write({"inbound_auth": "api_key"})
        self.assertTrue(self.env.registry.cache_invalidated)
        self.assertEqual(len(self._messages()), 2)  # the two accepted

    def test_body_over_the_limit_is_413(self):
        self.market.inbound_max_bytes = 200
        body = envelope("order.created", order_data(note="x" * 300))
        response, _msg_id = self._post_signed(body)
        self.assertRefused(response, 413, "payload_too_large")
        # a chunked body announces no length: it cannot be bounded, so it is refused
        headers = standard_headers(body)
        response = self._post(self.market.code, iter([body[:50], body[50:]]), headers)
        self.assertRefused(response, 411, "length_required")
        self.assertFalse(self._messages())

    def test_wrong_content_type_is_415(self):
        body = envelope("order.created", order_data())
        headers = {**standard_headers(body), "content-type": "text/plain"}
        self.assertRefused(
            self._post(self.market.code, body, headers), 415, "unsupported_media_type"
        )

    def test_schema_violations_are_422_with_the_path(self):
        cases = [
            (order_data(lines=[{"sku": "WID-1", "quantity": "three"}]), "$.data.lines[0].quantity"),
            ({"partner": {"name": "X"}, "lines": []}, "$.data"),
        ]
        for data, path in cases:
            with self.subTest(path=path):
                response, _msg_id = self._post_signed(envelope("order.created", data))
                body = self.assertRefused(response, 422, "schema_violation")
                self.assertTrue(body["path"].startswith(path), body)
        for sent, path in (
            (b'{"data": {}}', "$"),
            (b'["not", "an", "object"]', "$"),
            (envelope("no.such_type", {}), "$.type"),
            (envelope("order.confirmed", {}), "$.type"),  # no handler for it
            (envelope("order.created", order_data(), correlation_id="bad id"), "$.correlation_id"),
        ):
            with self.subTest(sent=sent[:40]):
                response, _msg_id = self._post_signed(sent)
                self.assertEqual(
                    self.assertRefused(response, 422, "schema_violation")["path"], path
                )
        self.assertFalse(self._messages())

    def test_rate_limit_is_429_with_retry_after(self):
        self.market.write({"inbound_rate_limit": 2, "inbound_rate_window": 60})
        body = envelope("order.created", order_data())
        answers = [self._post_signed(body)[0] for _i in range(3)]
        self.assertEqual([r.status_code for r in answers[:2]], [202, 202])
        self.assertRefused(answers[2], 429, "rate_limited")
        self.assertTrue(1 <= int(answers[2].headers["Retry-After"]) <= 60)
        # another system has its own budget
        body = envelope("shipment.status", {"picking_id": "P", "status": "S"})
        headers = {"content-type": "application/json", "X-Api-Key": API_KEY, "webhook-id": "c"}
        self.assertEqual(self._post(self.carrier.code, body, headers).status_code, 202)

    def test_other_methods_and_odd_requests_get_4xx_not_500(self):
        response = self.url_open(f"/logistics_sync/webhook/{self.market.code}")
        self.assertRefused(response, 405, "method_not_allowed")
        self.assertRefused(
            self._post("bad%00code", b"{}", {"content-type": "application/json"}),
            401,
            "unauthorized",
        )
        body = envelope("order.created", order_data())
        headers = standard_headers(body, msg_id="x" * 300)
        self.assertRefused(self._post(self.market.code, body, headers), 400, "invalid_message_id")

    def test_odd_bodies_never_get_a_500(self):
        cases = [
            (b" ", 400),
            (b"null", 422),
            (b"1" * 5000, 400),  # more digits than Python converts
            (b'{"type": "order.created", "data": ' + b"[" * 900 + b"]" * 900 + b"}", 422),
            (envelope("order.created", order_data(), id="\u0000"), 422),  # a NUL id
        ]
        for body, status in cases:
            with self.subTest(body=body[:30]):
                headers = {
                    "content-type": "application/json; charset=utf-8",
                    **signing.headers(f"msg_odd_{status}", int(time.time()), body, [SECRET]),
                }
                response = self._post(self.market.code, body, headers)
                self.assertEqual(response.status_code, status, response.text)
        # text PostgreSQL cannot store is refused at once, with its path
        data = order_data()
        data["partner"]["name"] = "Jane\u0000"
        response, _msg_id = self._post_signed(envelope("order.created", data))
        self.assertEqual(
            self.assertRefused(response, 422, "schema_violation")["path"], "$.data.partner.name"
        )
        data["partner"]["name"] = "Jane\ud800"
        response, _msg_id = self._post_signed(envelope("order.created", data))
        self.assertRefused(response, 422, "schema_violation")
        self.assertFalse(self._messages())

    def test_misconfigured_system_refuses_with_401_and_tells_the_log(self):
        self.env["logistics.sync.secret"].search([("system_id", "=", self.market.id)]).unlink()
        with mute_logger(_LOGGER):
            response, _msg_id = self._post_signed(envelope("order.created", order_data()))
        self.assertRefused(response, 401, "unauthorized")


@tagged("post_install", "-at_install")
class TestInboundProcessing(InboundCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        types = cls.env["logistics.sync.event.type"]
        Flow = cls.env["logistics.sync.flow"]
        cls.flow_to_market = Flow.create(
            {
                "name": "Orders back to the marketplace",
                "system_id": cls.market.id,
                "event_type_ids": [(6, 0, types._get("order.confirmed").ids)],
            }
        )
        cls.flow_to_wms = Flow.create(
            {
                "name": "Orders to the WMS",
                "system_id": cls.wms.id,
                "event_type_ids": [(6, 0, types._get("order.confirmed").ids)],
            }
        )

    def _received(self, type_code, data, code=None, **extra):
        response, msg_id = self._post_signed(envelope(type_code, data, **extra), code=code)
        self.assertEqual(response.status_code, 202, response.text)
        return self._messages(msg_id=msg_id)

    def test_order_created_makes_a_confirmed_order_without_echo(self):
        message = self._received("order.created", order_data(), correlation_id="conv-1")
        message.process()
        self.assertEqual(message.state, "done", message.error)
        order = self.env["sale.order"].browse(message.res_id)
        self.assertEqual((message.res_model, order.state), ("sale.order", "sale"))
        self.assertEqual(order.partner_id, self.partner, "the customer is found by email")
        self.assertEqual(order.order_line.product_id, self.product)
        self.assertEqual((order.order_line.product_uom_qty, order.order_line.price_unit), (3, 12.5))
        Xref = self.env["logistics.sync.xref"]
        self.assertEqual(Xref._resolve(self.market, "sale.order", "MK-1001"), order)
        event = self._events(order, "order.confirmed")
        self.assertEqual(event.origin_system_id, self.market)
        self.assertEqual((event.correlation_id, event.causation_id), ("conv-1", message.message_id))
        messages = event._route()
        self.assertEqual(messages.flow_id, self.flow_to_wms, "not sent back to the marketplace")

    def test_an_amount_out_of_range_is_an_error_not_a_crash(self):
        # JSON allows 1e300; rounding it to the product's digits overflowed in the ORM
        data = order_data()
        data["lines"][0]["quantity"] = 1e300
        message = self._received("order.created", data)
        with self.assertNoLogs(
            "odoo.addons.logistics_sync_webhook.models.logistics_sync_inbound_message", "WARNING"
        ):
            message.process()
        self.assertEqual(message.state, "error")
        self.assertIn(
            "quantity must not exceed 1e+12. (at $.data.lines[0].quantity)", message.error
        )
        self.assertFalse(self.env["sale.order"].search([("client_order_ref", "=", "MK-1001")]))

    def test_unknown_customer_is_created(self):
        message = self._received("order.created", order_data(email="new@example.com"))
        message.process()
        order = self.env["sale.order"].browse(message.res_id)
        self.assertEqual(order.partner_id.email, "new@example.com")
        self.assertNotEqual(order.partner_id, self.partner)

    def test_unknown_sku_is_an_error_a_manager_retries(self):
        message = self._received("order.created", order_data(sku="NEW-SKU"))
        self._drain_jobs(self.market).state = "started"  # the drain that fails it
        self.market.inbound_drain()
        self._drain_jobs(self.market, "started").state = "done"
        self.assertEqual(message.state, "error")
        self.assertIn("Unknown SKU 'NEW-SKU' at $.data.lines[0]", message.error)
        self.assertFalse(self.env["sale.order"].search([("client_order_ref", "=", "MK-1001")]))
        # users see it, only managers retry it
        self.assertEqual(message.with_user(self.user).state, "error")
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models.ir_model"):
            message.with_user(self.user).action_retry()
        self.env["product.product"].create({"name": "New", "default_code": "NEW-SKU"})
        with trap_jobs() as trap:
            message.with_user(self.manager).action_retry()
            trap.assert_jobs_count(0)  # the drain is looked for after the commit
            self.env.cr.postcommit.run()  # what the commit of the manager's request runs
        trap.assert_jobs_count(1)
        trap.assert_enqueued_job(self.market.inbound_drain)
        self.assertEqual(message.state, "received")
        self.market.inbound_drain()  # the drain job (as superuser, like every drain)
        self.assertEqual(message.state, "done", message.error)
        self.assertEqual(message.attempt_count, 2)

    def test_order_cancelled_resolves_by_xref_and_respects_ownership(self):
        created = self._received("order.created", order_data(external_id="MK-7"))
        created.process()
        order = self.env["sale.order"].browse(created.res_id)
        rule = self.env["logistics.sync.ownership.rule"].create(
            {
                "name": "Odoo decides on cancelling confirmed orders",
                "model_id": self.env["ir.model"]._get_id("sale.order"),
                "scope": "transition",
                "status_from": "confirmed",
                "status_to": "cancelled",
                "on_violation": "park",
            }
        )
        cancel = {"order_id": "MK-7", "name": "MK-7"}
        parked = self._received("order.cancelled", cancel)
        parked.process()
        self.assertEqual((parked.state, order.state), ("parked", "sale"))
        self.assertTrue(
            self.env["logistics.sync.parked.change"].search(
                [("res_model", "=", "sale.order"), ("res_id", "=", order.id)]
            )
        )
        rule.on_violation = "reject"
        rejected = self._received("order.cancelled", cancel)
        rejected.process()
        self.assertEqual(rejected.state, "error")
        self.assertIn("system of record", rejected.error)
        rule.active = False
        applied = self._received("order.cancelled", cancel)
        applied.process()
        self.assertEqual((applied.state, order.state), ("done", "cancel"))
        event = self._events(order, "order.cancelled")
        self.assertEqual(event.origin_system_id, self.market)

    def test_unknown_order_is_an_error(self):
        message = self._received("order.cancelled", {"order_id": "NOPE", "name": "NOPE"})
        message.process()
        self.assertEqual(message.state, "error")
        self.assertIn("'NOPE'", message.error)

    def test_shipment_status_maps_the_code_and_quarantines_an_unknown_one(self):
        order = self._create_order()
        order.action_confirm()
        picking = order.picking_ids
        self.env["logistics.sync.xref"]._link(self.carrier, picking, "CAR-PICK-1")
        data = {"picking_id": "CAR-PICK-1", "status": "OUT_FOR_DLV", "reason": "on its way"}
        body = envelope("shipment.status", data)
        headers = {"content-type": "application/json", "X-Api-Key": API_KEY, "webhook-id": "s-1"}
        self.assertEqual(self._post(self.carrier.code, body, headers).status_code, 202)
        message = self._messages(self.carrier, "s-1")
        message.process()
        self.assertEqual(message.state, "error")
        quarantine = self.env["logistics.sync.code.quarantine"].search(
            [("system_id", "=", self.carrier.id), ("external_code", "=", "OUT_FOR_DLV")]
        )
        self.assertEqual(quarantine.state, "new", "kept although the change was rolled back")
        self.assertFalse(picking.logistics_sync_status)
        quarantine.canonical_value = "out_for_delivery"
        quarantine.with_user(self.manager).action_map()
        message.with_user(self.manager).action_retry()
        message.process()
        self.assertEqual(message.state, "done", message.error)
        self.assertEqual(picking.logistics_sync_status, "out_for_delivery")
        self.assertEqual(picking.logistics_sync_status_system_id, self.carrier)
        self.assertEqual((message.res_model, message.res_id), ("stock.picking", picking.id))

    def test_an_older_shipment_status_does_not_undo_a_newer_one(self):
        order = self._create_order()
        order.action_confirm()
        picking = order.picking_ids
        self.env["logistics.sync.xref"]._link(self.carrier, picking, "CAR-PICK-2")
        for code, value in (("DLV", "delivered"), ("TRANSIT", "in_transit")):
            self.env["logistics.sync.code.map"].create(
                {
                    "system_id": self.carrier.id,
                    "domain": "status",
                    "external_code": code,
                    "canonical_value": value,
                }
            )
        headers = {"content-type": "application/json", "X-Api-Key": API_KEY}
        for msg_id, code, when in (
            ("s-new", "DLV", "2026-03-02T10:00:00Z"),
            ("s-old", "TRANSIT", "2026-03-01T09:00:00+00:00"),  # sent earlier, arrives later
        ):
            data = {"picking_id": "CAR-PICK-2", "status": code, "occurred_at": when}
            body = envelope("shipment.status", data)
            response = self._post(self.carrier.code, body, {**headers, "webhook-id": msg_id})
            self.assertEqual(response.status_code, 202, response.text)
            self._messages(self.carrier, msg_id).process()
        self.assertEqual(picking.logistics_sync_status, "delivered")
        self.assertEqual(str(picking.logistics_sync_status_date), "2026-03-02 10:00:00")
        self.assertEqual(self._messages(self.carrier, "s-old").state, "done")
        self.assertIn("older than the status recorded", picking.message_ids[0].body)

    def _drain_jobs(self, system, state="pending"):
        return self.env["queue.job"].search(
            [
                ("identity_key", "=", f"logistics_sync_inbound_drain_{system.id}"),
                ("method_name", "=", "inbound_drain"),
                ("state", "=", state),
            ]
        )

    def test_a_burst_leaves_one_drain_job_that_applies_it_in_arrival_order(self):
        messages = self.Inbound
        for number in range(3):
            messages |= self._received("order.created", order_data(f"MK-B{number}"))
        self.assertEqual(len(self._drain_jobs(self.market)), 1, "one job for the burst")
        with trap_jobs() as trap:
            messages |= self._received("order.created", order_data("MK-B3"))
        trap.assert_jobs_count(0)  # not even a job object: the pending one will do
        self.assertEqual(len(self._drain_jobs(self.carrier)), 0)
        self._drain_jobs(self.market).state = "started"  # the job the runner started
        self.market.inbound_drain()
        self.assertEqual(set(messages.mapped("state")), {"done"}, messages.mapped("error"))
        ordered = messages.sorted("id")
        self.assertEqual(ordered.mapped("res_id"), sorted(ordered.mapped("res_id")))
        self.assertFalse(self._drain_jobs(self.market), "nothing left, no successor")

    def test_a_drain_hands_what_exceeds_its_batch_to_a_new_job(self):
        messages = self.Inbound
        for number in range(3):
            messages |= self._received(
                "order.cancelled", {"order_id": f"NOPE-{number}", "name": "NOPE"}
            )
        self._drain_jobs(self.market).state = "started"  # the job the runner started
        self.Inbound._drain(self.market, batch=2)
        ordered = messages.sorted("id")
        self.assertEqual(ordered.mapped("state"), ["error", "error", "received"])
        self.assertEqual(len(self._drain_jobs(self.market)), 1, "a successor for the rest")
        self._drain_jobs(self.market).state = "started"
        self.Inbound._drain(self.market, batch=2)
        self.assertEqual(ordered[2].state, "error")
        self.assertFalse(self._drain_jobs(self.market), "one message under the batch: done")

    def test_a_drain_hands_over_when_its_time_is_up(self):
        messages = self.Inbound
        for number in range(3):
            messages |= self._received(
                "order.cancelled", {"order_id": f"NOPE-{number}", "name": "NOPE"}
            )
        self._drain_jobs(self.market).state = "started"
        self.Inbound._drain(self.market, seconds=0)
        ordered = messages.sorted("id")
        self.assertEqual(ordered.mapped("state"), ["error", "received", "received"])
        self.assertEqual(len(self._drain_jobs(self.market)), 1, "a successor for the rest")

    def test_cron_restarts_messages_left_waiting(self):
        old = self._received("order.cancelled", {"order_id": "NOPE-OLD", "name": "NOPE"})
        self._drain_jobs(self.market).unlink()  # e.g. the job was deleted by hand
        self.assertEqual(self.Inbound._cron_drain(), 0, "a message is given a minute")
        self.env.cr.execute(
            "UPDATE logistics_sync_inbound_message SET create_date = %s WHERE id = %s",
            (datetime.now() - timedelta(minutes=2), old.id),
        )
        self.assertEqual(self.Inbound._cron_drain(), 1)
        self.assertEqual(len(self._drain_jobs(self.market)), 1)
        self.assertEqual(self.Inbound._cron_drain(), 1, "the pending job is not duplicated")
        self.assertEqual(len(self._drain_jobs(self.market)), 1)
        self.market.inbound_drain()
        self.assertEqual(old.state, "error")
        self.assertEqual(self.Inbound._cron_drain(), 0)

    def test_applied_messages_are_purged_after_the_retention_period(self):
        messages = self.Inbound
        for _i in range(3):
            messages |= self._received("shipment.status", {"picking_id": "P", "status": "S"})
        messages.write({"state": "done"})
        messages[1].state = "error"
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE logistics_sync_inbound_message SET create_date = %s WHERE id IN %s",
            (datetime.now() - timedelta(days=91), tuple(messages[:2].ids)),
        )
        self.Inbound.invalidate_model()
        self.assertEqual(self.Inbound._cron_purge(), 1)
        self.assertEqual(messages.exists(), messages[1:], "errors and recent ones are kept")
        self.env["ir.config_parameter"].set_param(
            "logistics_sync_webhook.inbound_retention_days", "0"
        )
        self.env.cr.execute(
            "UPDATE logistics_sync_inbound_message SET create_date = %s WHERE id IN %s",
            (datetime.now() - timedelta(days=900), tuple(messages[1:].ids)),
        )
        self.assertEqual(self.Inbound._cron_purge(), 0, "0 keeps them")


@tagged("post_install", "-at_install")
class TestInboundConcurrentDuplicates(LiveServerCase):
    """20 copies of one message at the same moment, and drains racing requests and each
    other, with real commits."""

    COPIES = 20
    CODE_PREFIX = "conc"

    def setUp(self):
        super().setUp()
        self.url = f"{self.base_url}/logistics_sync/webhook/"
        with self._cursor() as env:
            system = self._remember(
                env["logistics.sync.system"].create(
                    {
                        "name": "Concurrent market",
                        "code": self.code,
                        "kind": "marketplace",
                        "inbound_auth": "standard",
                    }
                )
            )
            self._remember(
                env["logistics.sync.secret"].create(
                    {"system_id": system.id, "name": "inbound_signing", "value": SECRET}
                )
            )
            self._committed_product(env)
            self.system_id = system.id
        self.addCleanup(self._forget_messages)

    def _forget_messages(self):
        with self._cursor() as env:
            messages = env["logistics.sync.inbound.message"].search(
                [("system_id", "=", self.system_id)]
            )
            # deleted before the system (they are remembered after it)
            self._remember(messages)
            self._remember(self._drain_jobs(env))

    def _drain_jobs(self, env):
        return env["queue.job"].search(
            [
                ("model_name", "=", "logistics.sync.system"),
                ("method_name", "=", "inbound_drain"),
                ("identity_key", "=", f"logistics_sync_inbound_drain_{self.system_id}"),
            ]
        )

    def test_twenty_simultaneous_copies_are_stored_once_and_applied_once(self):
        body = envelope("order.created", order_data("MK-CONC", sku=f"SKU-{self.code}"))
        headers = standard_headers(body)
        barrier = threading.Barrier(self.COPIES)
        statuses = []

        def post():
            barrier.wait(10)
            response = requests.post(self.url + self.code, data=body, headers=headers, timeout=60)
            statuses.append(response.status_code)

        # The server's first request builds Odoo's index of static files, which CPython 3.11
        # cannot compile in several threads at once (SystemError): warm it up first.
        requests.get(self.url + self.code, timeout=30)
        threads = [threading.Thread(target=post) for _i in range(self.COPIES)]
        # Typically a few copies race on the first one's uncommitted row: their insert fails
        # to serialize and Odoo retries the request (logged at INFO), which then answers 200;
        # the others arrive after the commit and find the row at once.
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(90)
        self.assertEqual(len(statuses), self.COPIES)
        self.assertEqual(sorted(statuses), [200] * (self.COPIES - 1) + [202], statuses)
        with self._cursor() as env:
            Message = env["logistics.sync.inbound.message"]
            message = Message.search([("system_id", "=", self.system_id)])
            self.assertEqual(len(message), 1)
            self.assertEqual(len(self._drain_jobs(env)), 1)
            # the one job, run twice: one order (then rolled back, nothing to clean)
            system = env["logistics.sync.system"].browse(self.system_id)
            system.inbound_drain()
            system.inbound_drain()
            orders = env["sale.order"].search([("client_order_ref", "=", "MK-CONC")])
            self.assertEqual(len(orders), 1)
            self.assertEqual(message.state, "done")
            env.cr.rollback()

    def _receive(self, env, number):
        """Store a message that fails quickly when applied (unknown order); return its id."""
        body = envelope("order.cancelled", {"order_id": f"NOPE-{number}", "name": "NOPE"})
        system = env["logistics.sync.system"].browse(self.system_id)
        message, _created = env["logistics.sync.inbound.message"]._receive(
            system, {}, body, json.loads(body), f"race-{number}"
        )
        return message.id

    def test_one_drain_at_a_time_per_system(self):
        with self._cursor() as env:
            first = self._receive(env, 1)
        with self._cursor() as late_env:
            late_env.cr.execute("SELECT 1")  # a job that began before the other commits
            with self._cursor() as job_env:
                job_env["logistics.sync.system"].browse(self.system_id).inbound_drain()
                with self._cursor() as other_env:
                    other = other_env["logistics.sync.system"].browse(self.system_id)
                    with self.assertRaisesRegex(RetryableJobError, "another job is applying"):
                        other.inbound_drain()
                    self.assertEqual(
                        other_env["logistics.sync.inbound.message"].browse(first).state,
                        "received",
                        "the second drain applied nothing",
                    )
            # the first drain committed: a job whose snapshot predates it must not apply
            # the message again (it still looks received there)
            Message = late_env["logistics.sync.inbound.message"]
            self.assertEqual(Message.browse(first).state, "received")
            late = late_env["logistics.sync.system"].browse(self.system_id)
            with self.assertRaisesRegex(RetryableJobError, "applied this system's messages"):
                late.inbound_drain()
            late_env.cr.rollback()
        with self._cursor() as env:
            message = env["logistics.sync.inbound.message"].browse(first)
            self.assertEqual((message.state, message.attempt_count), ("error", 1))

    def _pending_drains(self, env):
        return self._drain_jobs(env).filtered(lambda j: j.state == "pending")

    def test_a_message_committed_after_the_drain_finished_gets_a_new_drain(self):
        """The race the drain had: the request finds the drain job pending, the job runs to
        its end before the request commits, the message waited for the minute cron."""
        with self._cursor() as env:
            first = self._receive(env, 1)
        with self._cursor() as env:
            self.assertEqual(len(self._pending_drains(env)), 1, "left by the first commit")
        with self._cursor() as request_env:
            second = self._receive(request_env, 2)  # stored, not committed yet
            with self._cursor() as job_env:  # the pending drain starts, runs, commits
                self._drain_jobs(job_env).state = "started"
                job_env["logistics.sync.system"].browse(self.system_id).inbound_drain()
                self._drain_jobs(job_env).state = "done"
            with self._cursor() as env:
                self.assertEqual(env["logistics.sync.inbound.message"].browse(first).state, "error")
                self.assertFalse(self._pending_drains(env), "no drain left before the commit")
            request_env.cr.commit()
        with self._cursor() as env:
            drains = self._pending_drains(env)
            self.assertEqual(len(drains), 1, "the request's commit left a drain for its message")
            drains.state = "started"
            env["logistics.sync.system"].browse(self.system_id).inbound_drain()
            self.assertEqual(env["logistics.sync.inbound.message"].browse(second).state, "error")
            self.assertFalse(self._pending_drains(env))

    def test_a_message_committed_while_its_drain_runs_gets_one_new_drain(self):
        with self._cursor() as env:
            first = self._receive(env, 1)
        with self._cursor() as request_env:
            second = self._receive(request_env, 2)
            self.assertEqual(len(self._pending_drains(request_env)), 1)
            with self._cursor() as runner_env:
                self._drain_jobs(runner_env).state = "started"
            with self._cursor() as job_env:
                # the job has begun (its snapshot is taken) before the request commits
                job_env.cr.execute("SELECT 1")
                request_env.cr.commit()
                system = job_env["logistics.sync.system"].browse(self.system_id)
                system.inbound_drain()
                Message = job_env["logistics.sync.inbound.message"]
                self.assertEqual(Message.browse(first).state, "error")
                self.assertFalse(Message.browse(second).exists(), "not in its snapshot")
                job_env.cr.commit()
        with self._cursor() as env:
            drains = self._pending_drains(env)
            self.assertEqual(len(drains), 1, "one successor, left by the request's commit")
            drains.state = "started"
            env["logistics.sync.system"].browse(self.system_id).inbound_drain()
            self.assertEqual(env["logistics.sync.inbound.message"].browse(second).state, "error")
            self.assertFalse(self._pending_drains(env))

    def test_a_message_meeting_a_concurrent_change_is_tried_again_in_order(self):
        with self._cursor() as env:
            system = env["logistics.sync.system"].browse(self.system_id)
            warehouse = env["stock.warehouse"].search([], limit=1)
            picking = env["stock.picking"].create(
                {
                    "picking_type_id": warehouse.out_type_id.id,
                    "location_id": warehouse.lot_stock_id.id,
                    "location_dest_id": env.ref("stock.stock_location_customers").id,
                }
            )
            env["logistics.sync.xref"]._link(system, picking, "RACE-PICK")
            env["logistics.sync.code.map"].create(
                {
                    "system_id": system.id,
                    "domain": "status",
                    "external_code": "TRANSIT",
                    "canonical_value": "in_transit",
                }
            )
            picking_id = picking.id
        self.addCleanup(self._forget_picking, picking_id)
        with self._cursor() as env:
            before = self._receive(env, 1)  # fails at once (unknown order)
            body = envelope("shipment.status", {"picking_id": "RACE-PICK", "status": "TRANSIT"})
            system = env["logistics.sync.system"].browse(self.system_id)
            message, _created = env["logistics.sync.inbound.message"]._receive(
                system, {}, body, json.loads(body), "race-status"
            )
            conflicting = message.id
            after = self._receive(env, 3)
        with self._cursor() as env:  # the drain job their commit left, started
            self._drain_jobs(env).state = "started"
        ids = (before, conflicting, after)
        with self._cursor() as job_env:
            job_env.cr.execute("SELECT 1")  # the job's snapshot
            with self._cursor() as user_env:  # a user changes the transfer meanwhile
                user_env["stock.picking"].browse(picking_id).origin = "changed meanwhile"
            # the ORM logs the write that fails to serialize (as it does for any request)
            with mute_logger("odoo.sql_db"):
                job_env["logistics.sync.system"].browse(self.system_id).inbound_drain()
            Message = job_env["logistics.sync.inbound.message"]
            self.assertEqual(Message.browse(ids).mapped("state"), ["error", "received", "received"])
            self.assertEqual(Message.browse(conflicting).attempt_count, 0, "put back as it was")
            again = self._drain_jobs(job_env).filtered(lambda j: j.state == "pending")
            self.assertEqual(len(again), 1)
            self.assertGreater(again.eta, fields.Datetime.now())
        with self._cursor() as env:  # the next drain, once the change is committed
            self._drain_jobs(env).state = "started"
            env["logistics.sync.system"].browse(self.system_id).inbound_drain()
            Message = env["logistics.sync.inbound.message"]
            self.assertEqual(Message.browse(ids).mapped("state"), ["error", "done", "error"])
            picking = env["stock.picking"].browse(picking_id)
            self.assertEqual(
                (picking.logistics_sync_status, picking.origin),
                ("in_transit", "changed meanwhile"),
            )

    def _forget_picking(self, picking_id):
        with self._cursor() as env:
            env["stock.picking"].browse(picking_id).unlink()


class TestInboundHelpers(TransactionCase):
    """The ORM-free checks."""

    def test_rate_counter_counts_fixed_windows_per_bucket(self):
        Counter = self.env["logistics.sync.rate.counter"]
        # the counter commits on a cursor of its own: buckets of this run only, deleted after
        k, other = (f"{name}-{uuid.uuid4().hex}" for name in ("k", "other"))
        self.addCleanup(self._delete_buckets, k, other)
        self.assertEqual([Counter._hit(k, 2, 60, now=120.0) for _i in range(2)], [0, 0])
        self.assertEqual(Counter._hit(k, 2, 60, now=150.0), 30)
        self.assertEqual(Counter._hit(k, 2, 60, now=150.5), 30, "a refusal is not counted")
        self.assertEqual(Counter._hit(other, 2, 60, now=150.0), 0)
        self.assertEqual(Counter._hit(k, 2, 60, now=180.0), 0, "a new window")
        self.assertEqual(Counter._hit(k, 0, 60), 0, "0 means no limit")
        row = Counter.search([("bucket", "=", k)])
        self.assertEqual((len(row), row.hits), (1, 1), "one row per bucket, reset each window")

    def _delete_buckets(self, *buckets):
        with self.registry.cursor() as cr:
            cr.execute("DELETE FROM logistics_sync_rate_counter WHERE bucket IN %s", (buckets,))

    def test_redaction(self):
        headers = inbound.redact_headers(
            {"X-Partner-Token": "t", "Cookie": "c", "X-Key": "k", "Webhook-Id": "m"}, ["x-key"]
        )
        self.assertEqual(
            headers, {"X-Partner-Token": "***", "Cookie": "***", "X-Key": "***", "Webhook-Id": "m"}
        )
