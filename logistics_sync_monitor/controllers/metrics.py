from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from odoo import SUPERUSER_ID, http
from odoo.http import request

from odoo.addons.logistics_sync_webhook import inbound

from ..metrics import Collector


class MetricsController(http.Controller):
    @http.route(
        "/logistics_sync/metrics",
        type="http",
        auth="none",
        methods=["GET"],
        csrf=False,
        save_session=False,
        readonly=False,
    )
    def metrics(self, **_params):
        """Prometheus text exposition of the Logistics Sync figures; ``Authorization:
        Bearer <token>`` (a metrics token) required, 401 otherwise."""
        request.update_env(user=SUPERUSER_ID)
        env = request.env
        if not env["logistics.sync.metrics.token"]._authenticate(
            request.httprequest.headers.get("Authorization")
        ):
            # the JSON error body of every /logistics_sync/ path; a scraper reads the status
            return env["ir.http"]._edge_error_response(
                inbound.InboundError(
                    401,
                    "unauthorized",
                    "Invalid or missing metrics token.",
                    headers={"WWW-Authenticate": "Bearer"},
                )
            )
        registry = CollectorRegistry(auto_describe=False)
        registry.register(Collector(env))
        return request.make_response(
            generate_latest(registry), headers=[("Content-Type", CONTENT_TYPE_LATEST)]
        )
