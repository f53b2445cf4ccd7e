"""A sandbox WMS: a real HTTP server on 127.0.0.1 that a warehouse run from Odoo talks to.

It is the external party of the tests and the demo, never a stand-in for our own code: it
receives Odoo's fulfilment webhooks (``fulfilment.requested`` / ``changed`` /
``cancelled``, Standard Webhooks signed, verified with the ``standardwebhooks`` library a
partner would use), and answers the way a WMS does, by pushing signed webhooks back to
Odoo's inbound URL: a reservation report, then pick, pack and ship confirmations
(``fulfilment.reservation``, ``fulfilment.confirmation``).

Knobs (change them at any time): ``short`` ({SKU: quantity not found}), ``unknown_sku``
(report the first line under a SKU Odoo does not know), ``duplicate_send`` (every report is
pushed twice, under two webhook ids: the confirmation id makes it one), ``delay`` (seconds
before working a request; ``None``: only when :meth:`work` is called, for tests that drive
it step by step), ``stages`` (what it reports)::

    with SandboxWms(webhook_url=url, webhook_secret=whsec, verify_secret=flow_secret) as wms:
        wms.short["WID-1"] = 1
        ...  # Odoo delivers fulfilment.requested to wms.url("/hooks")
        wms.work()  # reservation, picked, packed, shipped pushed to Odoo
        wms.stats()  # {"requests": 1, "pushed": 4, ...}

Run it on its own (for the demo)::

    python sandbox_wms.py --port 8071 --webhook-url URL --webhook-secret whsec_... --delay 20
"""

import argparse
import json
import socket
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

STAGES = ("reserved", "picked", "packed", "shipped")


class SandboxWms:
    """See the module docstring."""

    def __init__(
        self,
        port=0,
        webhook_url=None,
        webhook_secret=None,
        verify_secret=None,
        delay=None,
        name="Sandbox WMS",
    ):
        self.name = name
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.verify_secret = verify_secret
        self.delay = delay
        self.short = {}
        self.unknown_sku = False
        self.duplicate_send = False
        self.stages = STAGES
        self.lock = threading.RLock()
        self.received = []  # envelopes received, in order
        self.pushed = []  # (type, payload, Odoo's HTTP status)
        self.orders = {}  # fulfilment id -> {"request", "state", "revision"}
        self.counters = {"requests": 0, "changes": 0, "cancellations": 0, "refused": 0}
        self._sequence = 0
        self._stop = threading.Event()
        wms = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def setup(self):
                result = super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                return result

            def do_POST(self):
                wms._handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()

    @property
    def port(self):
        return self.server.server_address[1]

    def url(self, path="/hooks"):
        return f"http://127.0.0.1:{self.port}{path}"

    def stats(self):
        with self.lock:
            return dict(self.counters, orders=len(self.orders), pushed=len(self.pushed))

    def reset(self):
        """Forget everything and behave normally again."""
        with self.lock:
            self.received.clear()
            self.pushed.clear()
            self.orders.clear()
            self.counters = dict.fromkeys(self.counters, 0)
            self.short.clear()
            self.unknown_sku = self.duplicate_send = False
            self.stages = STAGES

    # ------------------------------------------------------------------ HTTP in
    def _handle(self, handler):
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        if self.verify_secret and not self._verified(handler.headers, raw):
            with self.lock:
                self.counters["refused"] += 1
            return self._answer(handler, 401, {"error": "bad signature"})
        try:
            body = json.loads(raw)
        except ValueError:
            return self._answer(handler, 400, {"error": "not JSON"})
        for envelope in body if isinstance(body, list) else [body]:
            self._receive(envelope)
        return self._answer(handler, 200, {"status": "received"})

    def _verified(self, headers, raw):
        from standardwebhooks.webhooks import Webhook, WebhookVerificationError

        try:
            Webhook(self.verify_secret).verify(raw, {k.lower(): v for k, v in headers.items()})
        except WebhookVerificationError:
            return False
        return True

    def _answer(self, handler, status, answer):
        data = json.dumps(answer).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _receive(self, envelope):
        data = envelope.get("data") or {}
        fulfilment_id = data.get("fulfilment_id")
        with self.lock:
            self.received.append(envelope)
            if envelope.get("type") == "fulfilment.requested":
                self.counters["requests"] += 1
                self.orders.setdefault(
                    fulfilment_id, {"request": data, "state": "new", "revision": 1}
                )
            elif envelope.get("type") == "fulfilment.changed" and fulfilment_id in self.orders:
                self.counters["changes"] += 1
                self.orders[fulfilment_id].update(request=data, revision=data.get("revision"))
            elif envelope.get("type") == "fulfilment.cancelled" and fulfilment_id in self.orders:
                self.counters["cancellations"] += 1
                self.orders[fulfilment_id]["state"] = "cancelled"
        if self.delay is not None and envelope.get("type") == "fulfilment.requested":
            timer = threading.Timer(self.delay, self.work, args=(fulfilment_id,))
            timer.daemon = True
            timer.start()

    # ------------------------------------------------------------------ the warehouse
    def work(self, fulfilment_id=None):
        """Work the new requests (or the one named): report them reserved (or short),
        picked, packed and shipped, as ``stages`` says. Return Odoo's HTTP statuses."""
        with self.lock:
            todo = [
                (fid, order)
                for fid, order in self.orders.items()
                if order["state"] == "new" and fulfilment_id in (None, fid)
            ]
            for _fid, order in todo:
                order["state"] = "working"
        statuses = []
        for fid, order in todo:
            statuses.extend(self._work_one(fid, order["request"]))
            with self.lock:
                if order["state"] == "working":
                    order["state"] = "shipped" if "shipped" in self.stages else "done"
        return statuses

    def _work_one(self, fulfilment_id, request):
        lines = []
        with self.lock:
            short = dict(self.short)
            unknown = self.unknown_sku
        for index, line in enumerate(request.get("lines") or []):
            sku = line.get("partner_sku") or line.get("sku")
            found = max(line["quantity"] - short.get(sku, 0), 0)
            lot = (line.get("lots") or [None])[0]
            entry = {"sku": f"UNKNOWN-{sku}" if unknown and index == 0 else sku}
            entry["quantity"] = found
            if lot:
                entry["lot"] = lot
            lines.append(entry)
        picked = [dict(line) for line in lines if line["quantity"]]
        self._sequence += 1
        box = f"BOX-{self._sequence:05d}"
        statuses = []
        if "reserved" in self.stages:
            missing = [
                {"sku": line["sku"], "quantity": short_qty}
                for line in lines
                for sku, short_qty in short.items()
                if line["sku"] == sku and short_qty
            ]
            statuses.append(
                self._push(
                    "fulfilment.reservation",
                    {
                        "fulfilment_id": fulfilment_id,
                        "reservation_id": f"{fulfilment_id}-R",
                        "status": "shortage" if missing else "reserved",
                        "lines": missing,
                    },
                )
            )
        if "picked" in self.stages:
            statuses.append(
                self._push(
                    "fulfilment.confirmation",
                    {
                        "fulfilment_id": fulfilment_id,
                        "confirmation_id": f"{fulfilment_id}-P",
                        "stage": "picked",
                        "lines": picked,
                        "complete": True,
                    },
                )
            )
        if "packed" in self.stages:
            statuses.append(
                self._push(
                    "fulfilment.confirmation",
                    {
                        "fulfilment_id": fulfilment_id,
                        "confirmation_id": f"{fulfilment_id}-K",
                        "stage": "packed",
                        "lines": [dict(line, package=box) for line in picked],
                        "packages": [
                            {"name": box, "weight": 1.2, "length": 30, "width": 20, "height": 15}
                        ],
                        "complete": True,
                    },
                )
            )
        if "shipped" in self.stages:
            statuses.append(
                self._push(
                    "fulfilment.confirmation",
                    {
                        "fulfilment_id": fulfilment_id,
                        "confirmation_id": f"{fulfilment_id}-S",
                        "stage": "shipped",
                        "carrier": request.get("carrier") or "SANDBOX",
                        "service": request.get("service"),
                        "tracking_numbers": [f"SBX{uuid.uuid4().hex[:10].upper()}"],
                        "complete": True,
                    },
                )
            )
        return statuses

    # ------------------------------------------------------------------ HTTP out
    def _push(self, type_code, data):
        """Push one signed webhook to Odoo (twice, under two ids, with ``duplicate_send``)."""
        status = self._post(type_code, data)
        if self.duplicate_send:
            status = self._post(type_code, data) or status
        return status

    def _post(self, type_code, data):
        if not (self.webhook_url and self.webhook_secret):
            return None
        from standardwebhooks.webhooks import Webhook

        message_id = f"msg_{uuid.uuid4().hex}"
        body = json.dumps({"id": message_id, "type": type_code, "data": data})
        moment = datetime.now(timezone.utc)
        headers = {
            "Content-Type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": str(int(moment.timestamp())),
            "webhook-signature": Webhook(self.webhook_secret).sign(message_id, moment, body),
        }
        try:
            response = requests.post(self.webhook_url, data=body, headers=headers, timeout=10)
            status = response.status_code
        except requests.RequestException:
            status = 0
        with self.lock:
            self.pushed.append((type_code, data, status))
        return status


def main():
    parser = argparse.ArgumentParser(description="Sandbox WMS (Logistics Sync fulfilment)")
    parser.add_argument("--port", type=int, default=8071)
    parser.add_argument("--webhook-url", help="Odoo's inbound webhook URL for this WMS")
    parser.add_argument("--webhook-secret", help="whsec_... secret Odoo verifies")
    parser.add_argument("--verify-secret", help="whsec_... secret Odoo signs requests with")
    parser.add_argument(
        "--delay", type=float, default=20.0, help="seconds before a request is worked"
    )
    parser.add_argument(
        "--short", action="append", default=[], help="SKU=QTY not found when picking"
    )
    parser.add_argument("--unknown-sku", action="store_true")
    parser.add_argument("--duplicate-send", action="store_true")
    args = parser.parse_args()
    wms = SandboxWms(
        port=args.port,
        webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret,
        verify_secret=args.verify_secret,
        delay=args.delay,
    )
    for item in args.short:
        sku, _sep, quantity = item.partition("=")
        wms.short[sku] = float(quantity or 1)
    wms.unknown_sku, wms.duplicate_send = args.unknown_sku, args.duplicate_send
    with wms:
        sys.stdout.write(f"sandbox WMS on {wms.url()}\n")
        sys.stdout.flush()
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            sys.stdout.write("sandbox WMS stopped\n")


if __name__ == "__main__":
    main()
