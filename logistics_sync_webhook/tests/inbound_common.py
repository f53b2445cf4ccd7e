import http.client
import json
import uuid
from datetime import datetime, timezone
from unittest.mock import patch

from standardwebhooks.webhooks import Webhook

import odoo
from odoo.sql_db import TestCursor
from odoo.tests import HttpCase
from odoo.tools.misc import Callbacks

from odoo.addons.logistics_sync_core.tests.common import CommittedCase, LogisticsSyncCase

from .. import signing

# The published Standard Webhooks test secret: a partner's library signs with it.
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
HMAC_SECRET = "hmac-shared-secret"
API_KEY = "key-0123456789abcdef"


def envelope(type_code, data, **extra):
    return json.dumps({"type": type_code, "data": data, **extra}).encode()


def order_data(external_id="MK-1001", sku="WID-1", email="jane@example.com", **extra):
    return {
        "external_id": external_id,
        "partner": {"name": "Jane Customer", "email": email},
        "lines": [{"sku": sku, "quantity": 3, "price_unit": 12.5}],
        **extra,
    }


def standard_headers(body, secret=SECRET, msg_id=None, when=None):
    """Headers a partner's standardwebhooks library produces for ``body``."""
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    when = when or datetime.now(timezone.utc)
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, when, body.decode()),
    }


class JsonErrorAssertions:
    """The error contract the inbound webhooks and the partner API share."""

    def assertRefused(self, response, status, code):
        self.assertEqual(response.status_code, status, response.text)
        self.assertEqual(response.headers["Content-Type"], "application/json; charset=utf-8")
        body = response.json()
        self.assertEqual(body["error"], code, body)
        self.assertTrue(body["message"])
        return body

    def assertRawRefused(self, answer, status, code):
        """:meth:`assertRefused` for a :func:`raw_request` answer."""
        got_status, headers, body = answer
        self.assertEqual(got_status, status, body[:300])
        self.assertEqual(headers["Content-Type"], "application/json; charset=utf-8", body[:300])
        body = json.loads(body)
        self.assertEqual(body["error"], code, body)
        self.assertTrue(body["message"])
        return body


def raw_request(port, method, path, body=None, headers=None):
    """Send ``path`` byte for byte (``http.client`` leaves ``..`` and ``%2F`` as they are,
    unlike ``requests``); return ``(status, headers, body bytes)``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


class CommitHooksMixin:
    """An HttpCase request commits on Odoo's test cursor, which drops the post-commit hooks
    (a real commit runs them): run them after that commit, as the server would."""

    def setUp(self):
        super().setUp()
        commit = TestCursor.commit

        def commit_and_run_hooks(cursor):
            hooks, cursor.postcommit = cursor.postcommit, Callbacks()
            commit(cursor)
            hooks.run()

        patcher = patch.object(TestCursor, "commit", commit_and_run_hooks)
        patcher.start()
        self.addCleanup(patcher.stop)


class InboundCase(CommitHooksMixin, JsonErrorAssertions, HttpCase, LogisticsSyncCase):
    """Systems set up for each inbound scheme; requests go through the real HTTP server."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ed_signing_key, ed_public_key = signing.generate_ed25519_keypair()
        cls.market.write({"inbound_auth": "standard"})
        cls._secret(cls.market, "inbound_signing", SECRET)
        cls._secret(cls.market, "inbound_signing_2", ed_public_key)
        cls.wms.write(
            {
                "inbound_auth": "hmac",
                "inbound_hmac_header": "X-Shop-Hmac",
                "inbound_hmac_algorithm": "sha512",
                "inbound_hmac_encoding": "base64",
            }
        )
        cls._secret(cls.wms, "inbound_signing", HMAC_SECRET)
        cls.carrier.write({"inbound_auth": "api_key", "inbound_api_key_header": "X-Api-Key"})
        cls._secret(cls.carrier, "inbound_api_key", API_KEY)
        cls.Inbound = cls.env["logistics.sync.inbound.message"]

    @classmethod
    def _secret(cls, system, name, value):
        return cls.env["logistics.sync.secret"].create(
            {"system_id": system.id, "name": name, "value": value}
        )

    def _post(self, code, body, headers, **kwargs):
        return self.url_open(
            f"/logistics_sync/webhook/{code}", data=body, headers=headers, **kwargs
        )

    def _post_signed(self, body, msg_id=None, code=None, **kwargs):
        headers = standard_headers(body, msg_id=msg_id)
        return self._post(code or self.market.code, body, headers, **kwargs), headers["webhook-id"]

    def _messages(self, system=None, msg_id=None):
        domain = [("system_id", "=", (system or self.market).id)]
        if msg_id:
            domain.append(("message_id", "=", msg_id))
        return self.Inbound.search(domain)


class LiveServerCase(CommittedCase):
    """Concurrent requests on the real threaded server, with real commits (an HttpCase would
    serialize them on its single test cursor). ``self.code`` is a fresh system code."""

    CODE_PREFIX = "live"

    def setUp(self):
        super().setUp()
        server = odoo.service.server.server
        if server is None or not getattr(server, "httpd", None):
            self.skipTest("needs the HTTP server (pytest --odoo-http)")
        self.base_url = f"http://127.0.0.1:{server.httpd.server_port}"
        self.code = f"{self.CODE_PREFIX}_{uuid.uuid4().hex[:8]}"

    def _committed_product(self, env):
        """A product with the internal reference ``SKU-<code>``, deleted after the test."""
        product = env["product.product"].create(
            {"name": "Concurrent widget", "default_code": f"SKU-{self.code}"}
        )
        self._remember(product.product_tmpl_id)
        return self._remember(product)
