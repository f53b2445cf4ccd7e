"""A sandbox carrier: a real HTTP server on 127.0.0.1 speaking the generic JSON carrier
protocol of ``logistics_sync_carrier`` (see its README), as a carrier's API would.

It is the external party of the tests, the benchmark and the demo, never a stand-in for our
own code: Odoo reaches it over the network through the SSRF-guarded session, and it pushes
signed tracking webhooks back to Odoo's inbound URL the way a carrier would (Standard
Webhooks, signed with the ``standardwebhooks`` library a partner would use).

It books (one shipment per reference, however often the booking is retried), rates, returns
PDF labels, cancels, answers tracking queries and return labels; it rejects, slows down,
fails or refuses on demand, and counts everything it did::

    with SandboxCarrier(api_key="k", webhook_url=url, webhook_secret=whsec) as carrier:
        carrier.reject_zips.add("99999")
        carrier.delay = 2.0
        ...
        carrier.push(shipment_id, "DLV")
        carrier.stats()  # {"bookings": 1, "booking_requests": 3, ...}

Run it on its own (``./dev run`` does, for the demo)::

    python sandbox_carrier.py --port 8070 --api-key KEY --webhook-url URL \
        --webhook-secret whsec_... --auto-advance 30
"""

import argparse
import base64
import html
import io
import json
import re
import socket
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

#: The carrier's own tracking codes, in the order a parcel goes through them.
JOURNEY = ("PU", "ITR", "OFD", "DLV")
#: Every code the sandbox may send (an Odoo code map translates them).
CODES = {
    "PU": "Picked up",
    "ITR": "In transit",
    "OFD": "Out for delivery",
    "DLV": "Delivered",
    "NDL": "Not delivered",
    "RTS": "Returned to sender",
    "EXC": "Exception",
}

_SHIPMENT_PATH = re.compile(r"^/v1/shipments/([^/]+)(/.*)?$")


def _now():
    return datetime.now(timezone.utc).replace(microsecond=0)


def _iso(moment):
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def label_pdf(carrier_name, tracking_number, reference, ship_to):
    """A 4x6 inch shipping label as PDF bytes."""
    from reportlab.lib.units import inch
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(4 * inch, 6 * inch))
    pdf.setTitle(f"Label {tracking_number}")
    pdf.setFont("Helvetica-Bold", 16)
    pdf.drawString(0.3 * inch, 5.5 * inch, carrier_name)
    pdf.setFont("Helvetica", 10)
    y = 5.0 * inch
    for line in [
        ship_to.get("name"),
        ship_to.get("street"),
        ship_to.get("zip"),
        ship_to.get("city"),
    ]:
        if line:
            pdf.drawString(0.3 * inch, y, str(line)[:40])
            y -= 0.2 * inch
    pdf.setFont("Helvetica-Bold", 14)
    pdf.drawString(0.3 * inch, 1.4 * inch, tracking_number)
    pdf.setFont("Helvetica", 7)
    pdf.drawString(0.3 * inch, 1.1 * inch, f"ref {reference}")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def signature_png(name):
    """A small PNG 'signature' of ``name``."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (240, 60), "white")
    draw = ImageDraw.Draw(image)
    draw.line([(10, 45), (60, 15), (110, 40), (160, 12), (230, 38)], fill="navy", width=3)
    draw.text((10, 2), name[:30], fill="black")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


class SandboxCarrier:
    """See the module docstring. Knobs (change them at any time, under ``lock`` if a
    request may be running): ``delay`` (seconds every API answer waits),
    ``booking_delay`` (seconds a booking answer waits, on top), ``fail_next``
    (the next N API calls answer 503 with Retry-After), ``reject_zips`` and
    ``reject_services`` (bookings refused with 422 and a reason), ``refuse_cancel`` (a
    cancellation is refused with 409: the parcel was picked up), ``label_errors``
    (references whose labels answer 422), ``drop_booking_answers`` (the next N bookings are
    made but their answer is lost: the connection closes)."""

    def __init__(
        self,
        api_key="sandbox-key",
        name="Sandbox Parcel",
        port=0,
        webhook_url=None,
        webhook_secret=None,
        delay=0.0,
    ):
        self.api_key = api_key
        self.name = name
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.delay = delay
        self.booking_delay = 0.0
        self.fail_next = 0
        self.reject_zips = set()
        self.reject_services = set()
        self.refuse_cancel = False
        self.label_errors = set()
        self.drop_booking_answers = 0  # the next N bookings are made, their answers lost
        self.lock = threading.RLock()
        self.requests = []  # (method, path, headers, json body), recorded on arrival
        self.shipments = {}  # carrier id -> shipment dict
        self.by_reference = {}  # the shipper's reference (idempotency key) -> carrier id
        self.counters = {
            "booking_requests": 0,
            "bookings": 0,
            "rejections": 0,
            "labels": 0,
            "cancellations": 0,
            "cancel_refusals": 0,
            "tracking_queries": 0,
            "rates": 0,
            "returns": 0,
            "webhooks_pushed": 0,
        }
        self._sequence = 0
        self._stop = threading.Event()
        carrier = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def setup(self):
                result = super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                return result

            def do_GET(self):
                carrier._handle(self, "GET")

            def do_POST(self):
                carrier._handle(self, "POST")

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

    def url(self, path="/v1"):
        return f"http://127.0.0.1:{self.port}{path}"

    def stats(self):
        with self.lock:
            return dict(self.counters, shipments=len(self.shipments))

    def received(self, path_prefix=""):
        with self.lock:
            return [r for r in self.requests if r["path"].startswith(path_prefix)]

    def reset(self):
        """Forget every request, shipment and count, and behave normally again."""
        with self.lock:
            self.requests.clear()
            self.shipments.clear()
            self.by_reference.clear()
            self.counters = dict.fromkeys(self.counters, 0)
            self.delay, self.fail_next, self.refuse_cancel = 0.0, 0, False
            self.booking_delay = 0.0
            self.drop_booking_answers = 0
            self.reject_zips.clear()
            self.reject_services.clear()
            self.label_errors.clear()

    # ------------------------------------------------------------------ HTTP
    def _handle(self, handler, method):
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        path = handler.path.split("?", 1)[0]
        with self.lock:
            self.requests.append(
                {"method": method, "path": path, "headers": dict(handler.headers), "body": body}
            )
            fail = self.fail_next > 0
            if fail:
                self.fail_next -= 1
            delay = self.delay
        if method == "GET" and path.startswith("/track/"):
            return self._tracking_page(handler, path[len("/track/") :])
        if method == "POST" and path == "/v1/shipments":
            delay += self.booking_delay
        if delay:
            time.sleep(delay)
        if handler.headers.get("Authorization") != f"Bearer {self.api_key}":
            return self._answer(handler, 401, {"error": "unauthorized", "reason": "bad key"})
        if fail:
            return self._answer(
                handler, 503, {"error": "unavailable", "reason": "try later"}, {"Retry-After": "1"}
            )
        try:
            status, answer, headers = self._route(method, path, body or {}, handler.headers)
        except KeyError:
            status, answer, headers = 404, {"error": "not_found", "reason": "no such shipment"}, {}
        if method == "POST" and path == "/v1/shipments" and status < 300:
            with self.lock:
                drop = self.drop_booking_answers > 0
                self.drop_booking_answers -= drop
            if drop:
                # booked, but the answer never reaches the shipper (a network cut)
                handler.connection.shutdown(socket.SHUT_RDWR)
                handler.close_connection = True
                return None
        if isinstance(answer, bytes):
            return self._answer(handler, status, answer, headers, "application/pdf")
        return self._answer(handler, status, answer, headers)

    def _tracking_page(self, handler, tracking_number):
        """The public page a customer opens from the tracking link."""
        with self.lock:
            shipment = next(
                (
                    s
                    for s in self.shipments.values()
                    if tracking_number in [p["tracking_number"] for p in s["packages"]]
                ),
                None,
            )
            events = list(shipment["events"]) if shipment else []
        rows = "".join(
            html.escape(f"{e['occurred_at']}: {e['description']} ({e['location'] or ''})").join(
                ["<li>", "</li>"]
            )
            for e in reversed(events)
        )
        title = html.escape(f"{self.name}: parcel {tracking_number}")
        page = f"<html><body><h1>{title}</h1><ul>{rows or '<li>Not found</li>'}</ul></body></html>"
        return self._answer(handler, 200 if shipment else 404, page.encode(), {}, "text/html")

    def _answer(self, handler, status, answer, headers=None, content_type="application/json"):
        data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
        handler.send_response(status)
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _route(self, method, path, body, headers):
        if method == "POST" and path == "/v1/rates":
            return self._rate(body)
        if method == "POST" and path == "/v1/shipments":
            return self._book(body, headers.get("Idempotency-Key"))
        match = _SHIPMENT_PATH.match(path)
        if not match:
            return 404, {"error": "not_found", "reason": f"no route {method} {path}"}, {}
        shipment = self._shipment(match.group(1))
        rest = match.group(2) or ""
        if method == "GET" and not rest:
            return 200, self._public(shipment), {}
        if method == "GET" and rest.startswith("/labels/"):
            return self._label(shipment, rest[len("/labels/") :])
        if method == "POST" and rest == "/cancel":
            return self._cancel(shipment)
        if method == "GET" and rest == "/tracking":
            return self._tracking(shipment)
        if method == "POST" and rest == "/return":
            return self._return(shipment)
        return 404, {"error": "not_found", "reason": f"no route {method} {path}"}, {}

    def _shipment(self, key):
        with self.lock:
            carrier_id = key if key in self.shipments else self.by_reference[key]
            return self.shipments[carrier_id]

    # ------------------------------------------------------------------ operations
    def _rate(self, body):
        packages = body.get("packages") or [{}]
        weight = sum(float(p.get("weight") or 0) for p in packages) or 1.0
        with self.lock:
            self.counters["rates"] += 1
        if body.get("service") in self.reject_services:
            return 422, {"error": "rejected", "reason": "service not offered"}, {}
        price = round(4.9 + 1.2 * weight + (3.0 if body.get("service") == "EXP-24" else 0), 2)
        return 200, {"price": price, "currency": "EUR", "transit_days": 2}, {}

    def _book(self, body, idempotency_key):
        reference = idempotency_key or body.get("reference")
        if not reference:
            return 400, {"error": "bad_request", "reason": "a reference is required"}, {}
        ship_to = body.get("ship_to") or {}
        with self.lock:
            self.counters["booking_requests"] += 1
            if reference in self.by_reference:
                # the same booking sent again (a retry): the same shipment, nothing new
                return 200, self._public(self.shipments[self.by_reference[reference]]), {}
            reason = None
            if str(ship_to.get("zip") or "") in self.reject_zips:
                reason = f"postcode {ship_to.get('zip')} is not served"
            elif body.get("service") in self.reject_services:
                reason = f"service {body.get('service')} is not offered"
            if reason:
                self.counters["rejections"] += 1
                return 422, {"error": "rejected", "reason": reason}, {}
            self._sequence += 1
            carrier_id = f"SBX{self._sequence:06d}{uuid.uuid4().hex[:4].upper()}"
            packages = []
            for index, package in enumerate(body.get("packages") or [{}], start=1):
                packages.append(
                    {
                        "reference": package.get("reference") or str(index),
                        "tracking_number": f"{carrier_id}-{index:02d}",
                        "weight": package.get("weight"),
                    }
                )
            shipment = {
                "id": carrier_id,
                "reference": reference,
                "service": body.get("service"),
                "ship_to": ship_to,
                "tracking_number": packages[0]["tracking_number"],
                "packages": packages,
                "price": round(4.9 + 1.2 * len(packages), 2),
                "currency": "EUR",
                "status": "booked",
                "events": [],
                "pod": None,
                "created": time.monotonic(),
            }
            self.shipments[carrier_id] = shipment
            self.by_reference[reference] = carrier_id
            self.counters["bookings"] += 1
        return 201, self._public(shipment), {}

    def _public(self, shipment):
        return {
            key: shipment[key]
            for key in (
                "id",
                "reference",
                "service",
                "tracking_number",
                "packages",
                "price",
                "currency",
                "status",
            )
        }

    def _label(self, shipment, package_reference):
        if shipment["reference"] in self.label_errors:
            return 422, {"error": "label_unavailable", "reason": "label service failed"}, {}
        package = next(
            (p for p in shipment["packages"] if p["reference"] == package_reference), None
        )
        if package is None:
            raise KeyError(package_reference)
        with self.lock:
            self.counters["labels"] += 1
        pdf = label_pdf(
            self.name, package["tracking_number"], shipment["reference"], shipment["ship_to"]
        )
        return 200, pdf, {}

    def _cancel(self, shipment):
        with self.lock:
            if shipment["status"] == "cancelled":
                return 200, {"id": shipment["id"], "status": "cancelled"}, {}
            if self.refuse_cancel or shipment["events"]:
                self.counters["cancel_refusals"] += 1
                return 409, {"error": "refused", "reason": "the parcel was already picked up"}, {}
            shipment["status"] = "cancelled"
            self.counters["cancellations"] += 1
        return 200, {"id": shipment["id"], "status": "cancelled"}, {}

    def _tracking(self, shipment):
        with self.lock:
            self.counters["tracking_queries"] += 1
            return (
                200,
                {"id": shipment["id"], "events": list(shipment["events"]), "pod": shipment["pod"]},
                {},
            )

    def _return(self, shipment):
        with self.lock:
            self.counters["returns"] += 1
            tracking = f"R{shipment['tracking_number']}"
        pdf = label_pdf(self.name, tracking, shipment["reference"], {"name": "Return to sender"})
        return 201, {"tracking_number": tracking, "label": base64.b64encode(pdf).decode()}, {}

    # ------------------------------------------------------------------ tracking
    def add_event(
        self,
        shipment_id,
        code,
        occurred_at=None,
        location="Hub 1",
        package=None,
        reason=None,
        push=True,
    ):
        """Record a tracking event of a shipment (its id or the shipper's reference); push
        it to Odoo as a signed webhook unless ``push`` is False (then only a tracking query
        sees it). Return the event, and the HTTP status Odoo answered when pushed."""
        shipment = self._shipment(shipment_id)
        event = {
            "code": code,
            "description": CODES.get(code, code),
            "occurred_at": _iso(occurred_at or _now()),
            "location": location,
            "package": package,
            "reason": reason,
        }
        with self.lock:
            shipment["events"].append(event)
            if code == "DLV":
                shipment["status"] = "delivered"
        status = None
        if push:
            status = self._push(
                "shipment.tracking",
                {
                    "shipment_id": shipment["id"],
                    "tracking_number": shipment["tracking_number"],
                    **event,
                },
            )
        return event, status

    def deliver_with_pod(self, shipment_id, signed_by="J. Doe", push=True, occurred_at=None):
        """Deliver a shipment and record its proof of delivery (signature and a receipt)."""
        moment = occurred_at or _now()
        _event, _status = self.add_event(shipment_id, "DLV", moment, push=push)
        shipment = self._shipment(shipment_id)
        pod = {
            "pod_id": f"POD-{shipment['id']}",
            "signed_by": signed_by,
            "signed_at": _iso(moment),
            "location": shipment["ship_to"].get("city") or "Front door",
            "latitude": 50.8466,
            "longitude": 4.3528,
            "signature_png": base64.b64encode(signature_png(signed_by)).decode(),
            "documents": [
                {
                    "name": f"receipt-{shipment['id']}.pdf",
                    "mimetype": "application/pdf",
                    "data": base64.b64encode(
                        label_pdf(
                            self.name,
                            f"Delivered {shipment['tracking_number']}",
                            shipment["reference"],
                            {"name": f"Signed by {signed_by}"},
                        )
                    ).decode(),
                }
            ],
        }
        with self.lock:
            shipment["pod"] = pod
        status = None
        if push:
            status = self._push(
                "shipment.pod",
                {
                    "shipment_id": shipment["id"],
                    "tracking_number": shipment["tracking_number"],
                    **pod,
                },
            )
        return pod, status

    def push(self, shipment_id, code, **kwargs):
        """Shorthand: record a tracking event and push it; return Odoo's HTTP status."""
        return self.add_event(shipment_id, code, **kwargs)[1]

    def _push(self, type_code, data, message_id=None):
        if not (self.webhook_url and self.webhook_secret):
            return None
        from standardwebhooks.webhooks import Webhook

        message_id = message_id or f"msg_{uuid.uuid4().hex}"
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
        except requests.RequestException:
            return 0
        with self.lock:
            self.counters["webhooks_pushed"] += 1
        return response.status_code

    def auto_advance(self, every):
        """Move every booked shipment one step along its journey every ``every`` seconds
        (the demo's carrier), delivering with a proof of delivery at the end."""

        def run():
            while not self._stop.wait(every):
                with self.lock:
                    active = [s for s in self.shipments.values() if s["status"] == "booked"]
                for shipment in active:
                    done = {e["code"] for e in shipment["events"]}
                    following = next((code for code in JOURNEY if code not in done), None)
                    if following == "DLV":
                        self.deliver_with_pod(shipment["id"], signed_by="A. Receiver")
                    elif following:
                        self.add_event(shipment["id"], following)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread


def main():
    parser = argparse.ArgumentParser(description="Sandbox carrier (generic JSON protocol)")
    parser.add_argument("--port", type=int, default=8070)
    parser.add_argument("--api-key", default="sandbox-key")
    parser.add_argument("--name", default="Sandbox Parcel")
    parser.add_argument("--webhook-url", help="Odoo's inbound webhook URL for this carrier")
    parser.add_argument("--webhook-secret", help="whsec_... secret Odoo verifies")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds every answer waits")
    parser.add_argument(
        "--auto-advance", type=float, default=0, help="move shipments along every N seconds"
    )
    parser.add_argument(
        "--reject-zip", action="append", default=[], help="refuse bookings to this postcode"
    )
    args = parser.parse_args()
    carrier = SandboxCarrier(
        api_key=args.api_key,
        name=args.name,
        port=args.port,
        webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret,
        delay=args.delay,
    )
    carrier.reject_zips.update(args.reject_zip)
    with carrier:
        if args.auto_advance:
            carrier.auto_advance(args.auto_advance)
        sys.stdout.write(f"sandbox carrier on {carrier.url()}\n")
        sys.stdout.flush()
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            sys.stdout.write("sandbox carrier stopped\n")


if __name__ == "__main__":
    main()
