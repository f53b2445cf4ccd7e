import logging
import time

import psycopg2

from odoo import SUPERUSER_ID, http
from odoo.http import request

from .. import api as api_tools
from .. import inbound, openapi

_logger = logging.getLogger(__name__)

BASE = "/logistics_sync/api/v1"

_ROUTE = {
    "type": "http",
    "auth": "none",
    "csrf": False,
    "save_session": False,
    "readonly": False,
    "max_content_length": inbound.DEFAULT_MAX_BYTES,
}


class PartnerApiController(http.Controller):
    """Partner REST API v1: authenticate the Bearer key, check method, rate and scope, hand
    over to ``logistics.sync.api``, log the call. Every answer is JSON; a refusal is
    ``{"error": code, "message": ...}`` (see ``inbound.InboundError``), also for a path no
    route matches (``ir.http``). Every POST honours an ``Idempotency-Key`` header
    (``logistics.sync.api.idempotency``). ``{id}`` segments take the rest of the path, so an id
    holding ``/`` (sent encoded as ``%2F``, which the server decodes) reaches its route."""

    @http.route(f"{BASE}/openapi.json", **_ROUTE)
    def openapi_document(self, **_params):
        document = request.env["logistics.sync.api"].sudo()._openapi_document()
        return request.make_json_response(openapi.declare_idempotency(document))

    @http.route(f"{BASE}/orders", **_ROUTE)
    def orders(self, **_params):
        return self._serve(
            "/orders",
            "POST",
            "orders:write",
            lambda api, key: api._api_order_create(key, self._body()),
        )

    @http.route(f"{BASE}/orders/<path:reference>", **_ROUTE)
    def order(self, reference, **_params):
        return self._serve(
            "/orders/{id}",
            "GET",
            "orders:read",
            lambda api, key: api._api_order_get(key, reference),
        )

    @http.route(f"{BASE}/stock", **_ROUTE)
    def stock(self, **_params):
        args = request.httprequest.args
        return self._serve(
            "/stock",
            "GET",
            "stock:read",
            lambda api, key: api._api_stock(key, args.get("sku"), args.get("warehouse")),
        )

    @http.route(f"{BASE}/shipments", **_ROUTE)
    def shipments(self, **_params):
        return self._serve(
            "/shipments",
            "POST",
            "shipments:write",
            lambda api, key: api._api_shipment_request(key, self._body()),
        )

    @http.route(f"{BASE}/shipments/<path:reference>", **_ROUTE)
    def shipment(self, reference, **_params):
        return self._serve(
            "/shipments/{id}",
            "GET",
            "shipments:read",
            lambda api, key: api._api_shipment_get(key, reference),
        )

    @http.route(f"{BASE}/events", **_ROUTE)
    def events(self, **_params):
        args = request.httprequest.args
        return self._serve(
            "/events",
            "GET",
            "events:read",
            lambda api, key: api._api_events(key, args.get("cursor"), args.get("limit")),
        )

    # ------------------------------------------------------------ plumbing

    def _body(self):
        httprequest = request.httprequest
        inbound.check_content_type(httprequest.mimetype)
        # cached: Odoo retries the whole request after a serialization failure
        return inbound.read_body(
            lambda: httprequest.get_data(cache=True),
            httprequest.content_length,
            inbound.DEFAULT_MAX_BYTES,
        )

    def _serve(self, route, method, scope, handler):
        started = time.monotonic()
        # the caller is authenticated by its API key, not by an Odoo user
        request.update_env(user=SUPERUSER_ID)
        env = request.env
        key = env["logistics.sync.api.key"]
        headers = {}
        try:
            if request.httprequest.method != method:
                raise inbound.InboundError(
                    405, "method_not_allowed", f"Use {method}.", headers={"Allow": method}
                )
            key = key._authenticate(
                api_tools.bearer_key(request.httprequest.headers.get("Authorization"))
            )
            key._check_rate()
            key._check_scope(scope)
            key._touch()
            company = key.system_id.company_id or env.company
            api = env["logistics.sync.api"].with_company(company)
            key = key.with_company(company)
            idempotency_key = request.httprequest.headers.get("Idempotency-Key")
            with env.cr.savepoint():
                if method == "POST" and idempotency_key is not None:
                    status, body, *extra = env["logistics.sync.api.idempotency"]._serve(
                        key, method, route, self._body(), idempotency_key, lambda: handler(api, key)
                    )
                else:
                    status, body, *extra = handler(api, key)
            headers = extra[0] if extra else {}
        except inbound.InboundError as exc:
            status, body, headers = exc.status, exc.body(), exc.headers
        except (*inbound.RETRYABLE_ERRORS, *inbound.UNAVAILABLE_ERRORS):
            raise  # Odoo retries the first; ir.http answers both with a 503
        except psycopg2.DataError as exc:
            # a value the database refuses (out of range...): the caller's, not a server fault
            _logger.info("Partner API %s %s refused by the database: %s", method, route, exc)
            status = 422
            body = {"error": "invalid_request", "message": "A value cannot be stored."}
        except Exception:  # noqa: BLE001 - a partner gets JSON, never an HTML error page
            _logger.exception("Partner API %s %s failed", method, route)
            status = 500
            body = {"error": "internal_error", "message": "Unexpected error; it was logged."}
        env["logistics.sync.api.call"].create(
            {
                "system_id": key.system_id.id,
                "key_id": key.id,
                "method": request.httprequest.method[:10],
                "route": route,
                "status": status,
                "error": body.get("error") if status >= 400 else False,
                "duration_ms": int((time.monotonic() - started) * 1000),
            }
        )
        return request.make_json_response(body, headers=list(headers.items()), status=status)
