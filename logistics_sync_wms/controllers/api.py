from odoo import http

from odoo.addons.logistics_sync_webhook.controllers.api import _ROUTE, BASE, PartnerApiController


class WmsPartnerApiController(PartnerApiController):
    """Fulfilment reports and inventory snapshots of warehouse systems on the partner REST
    API v1."""

    @http.route(f"{BASE}/fulfilments/<string:reference>/confirmations", **_ROUTE)
    def fulfilment_confirmations(self, reference, **_params):
        return self._serve(
            "/fulfilments/{id}/confirmations",
            "POST",
            "fulfilments:write",
            lambda api, key: api._api_fulfilment_report(
                key, reference, self._body(), "confirmation"
            ),
        )

    @http.route(f"{BASE}/fulfilments/<string:reference>/reservations", **_ROUTE)
    def fulfilment_reservations(self, reference, **_params):
        return self._serve(
            "/fulfilments/{id}/reservations",
            "POST",
            "fulfilments:write",
            lambda api, key: api._api_fulfilment_report(
                key, reference, self._body(), "reservation"
            ),
        )

    @http.route(f"{BASE}/inventory/snapshots", **_ROUTE)
    def inventory_snapshots(self, **_params):
        return self._serve(
            "/inventory/snapshots",
            "POST",
            "inventory:write",
            lambda api, key: api._api_inventory_snapshot(key, self._body()),
        )

    @http.route(f"{BASE}/inventory/snapshots/<path:reference>", **_ROUTE)
    def inventory_snapshot(self, reference, **_params):
        return self._serve(
            "/inventory/snapshots/{id}",
            "GET",
            "inventory:write",
            lambda api, key: api._api_inventory_snapshot_get(key, reference),
        )
