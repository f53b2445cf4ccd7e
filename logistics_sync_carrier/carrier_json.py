"""The generic JSON-over-HTTPS carrier protocol, client side, without the ORM.

One carrier API, described in the addon's README (*Carrier protocol*), reached through the
SSRF-guarded session of ``logistics_sync_webhook``. Every answer is classified once, here:

* 2xx: the call worked;
* 401 / 403: :class:`CarrierConfigError` (wrong key or account: a person must fix the
  configuration; retrying would not help);
* 408, 425, 429 and 5xx, timeouts, refused or reset connections: :class:`CarrierUnavailable`
  (transient: try again later, honouring ``Retry-After``);
* any other 4xx: :class:`CarrierRejected` with the carrier's reason (the carrier said no).

Example::

    client = JsonCarrierClient(session, "https://api.carrier.example/v1", api_key, timeout=10)
    shipment = client.book(reference, {"service": "EXP-24", "packages": [...], ...})
    pdf = client.label(shipment["id"], "1")
"""

import requests

from odoo.addons.logistics_sync_webhook import delivery, http_client

from .exceptions import CarrierConfigError, CarrierRejected, CarrierUnavailable

#: Statuses that mean "not now" rather than "no".
TRANSIENT_STATUSES = {408, 425, 429}


class JsonCarrierClient:
    """Calls of the generic protocol; see the module docstring for the errors raised."""

    def __init__(self, session, base_url, api_key, timeout):
        if not base_url:
            raise CarrierConfigError("The carrier system has no API base URL.")
        if not api_key:
            raise CarrierConfigError(
                "The carrier system has no credential named 'carrier_api_key'."
            )
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout

    # ------------------------------------------------------------------ operations
    def rate(self, payload):
        """``{"price": float, "currency": "EUR", "transit_days": int}``."""
        return self._call("POST", "/rates", payload)

    def book(self, reference, payload):
        """Book a shipment; ``reference`` is our idempotency key: booking the same
        reference again returns the same shipment, never a second one."""
        return self._call("POST", "/shipments", {**payload, "reference": reference}, reference)

    def label(self, shipment_id, package_reference):
        """The PDF label of one package, as bytes."""
        path = f"/shipments/{_segment(shipment_id)}/labels/{_segment(package_reference)}"
        return self._call("GET", path, binary=True)

    def cancel(self, shipment_id):
        """Cancel a booking (our reference works too, for a booking whose answer was lost)."""
        return self._call("POST", f"/shipments/{_segment(shipment_id)}/cancel", {})

    def tracking(self, shipment_id):
        """``{"events": [{"code", "occurred_at", "location", "package", "reason"}], "pod"}``."""
        return self._call("GET", f"/shipments/{_segment(shipment_id)}/tracking")

    def return_label(self, shipment_id, payload):
        """``{"tracking_number": str, "label": base64 PDF}`` of a return parcel."""
        return self._call("POST", f"/shipments/{_segment(shipment_id)}/return", payload)

    # ------------------------------------------------------------------ plumbing
    def _call(self, method, path, payload=None, idempotency_key=None, binary=False):
        headers = {
            "Authorization": f"Bearer {self.api_key}",
            "Accept": "application/pdf" if binary else "application/json",
            "User-Agent": "Odoo-Logistics-Sync/1",
        }
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        try:
            response = self.session.request(
                method,
                self.base_url + path,
                json=payload,
                headers=headers,
                timeout=(min(5, self.timeout), self.timeout),
                allow_redirects=False,
            )
        except http_client.DestinationNotAllowed as refused:
            raise CarrierConfigError(f"Address refused by the SSRF guard: {refused}") from None
        except requests.RequestException as exc:
            raise CarrierUnavailable(f"{type(exc).__name__}: {exc}") from None
        status = response.status_code
        if 200 <= status < 300:
            if binary:
                return response.content
            try:
                return response.json()
            except ValueError:
                raise CarrierUnavailable(
                    f"The carrier answered {status} without JSON.", status
                ) from None
        reason = _reason(response)
        if status in (401, 403):
            raise CarrierConfigError(
                f"The carrier refused our credentials ({status}): {reason}", status
            )
        if status in TRANSIENT_STATUSES or status >= 500 or 300 <= status < 400:
            retry_after = delivery.parse_retry_after(response.headers.get("Retry-After"))
            raise CarrierUnavailable(
                f"The carrier answered {status}: {reason}", status, retry_after
            )
        raise CarrierRejected(reason, status)


def _reason(response):
    try:
        body = response.json()
    except ValueError:
        return (response.text or "").strip()[:300] or f"HTTP {response.status_code}"
    if isinstance(body, dict):
        return str(body.get("reason") or body.get("message") or body.get("error") or body)[:300]
    return str(body)[:300]


def _segment(value):
    return requests.utils.quote(str(value), safe="")
