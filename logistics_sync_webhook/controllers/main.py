from odoo import SUPERUSER_ID, http
from odoo.http import request

from .. import inbound


class InboundWebhookController(http.Controller):
    @http.route(
        "/logistics_sync/webhook/<string:code>",
        type="http",
        auth="none",
        csrf=False,
        save_session=False,
        readonly=False,
        max_content_length=inbound.HARD_MAX_BYTES,
    )
    def receive(self, code, **_params):
        """Receive a signed webhook from system ``code``.

        202 ``{"status": "accepted", "id": ...}`` once stored, 200 ``"duplicate"`` for a
        message id already received; any refusal is ``{"error": code, "message": ...}`` with
        a 4xx status (see ``inbound.InboundError``).
        """
        seen = {}
        try:
            created, message_id = self._receive(code, seen)
        except inbound.InboundError as exc:
            self._log_edge("refused", seen.get("system"), exc.status, exc.code)
            return request.make_json_response(
                exc.body(), headers=list(exc.headers.items()), status=exc.status
            )
        if not created:
            self._log_edge("duplicate", seen["system"], 200)
        return request.make_json_response(
            {"status": "accepted" if created else "duplicate", "id": message_id},
            status=202 if created else 200,
        )

    def _log_edge(self, outcome, system, status, error=None):
        # counted for the monitor: a refusal or a duplicate leaves no message of its own
        request.update_env(user=SUPERUSER_ID)
        request.env["logistics.sync.edge.log"]._log("inbound", outcome, system, status, error)

    def _receive(self, code, seen):
        httprequest = request.httprequest
        if httprequest.method != "POST":
            raise inbound.InboundError(
                405, "method_not_allowed", "Use POST.", headers={"Allow": "POST"}
            )
        # the sender is authenticated below by its signature, not by an Odoo user
        request.update_env(user=SUPERUSER_ID)
        System = request.env["logistics.sync.system"]
        system = System._inbound_by_code(code) if inbound.SYSTEM_CODE_RE.fullmatch(code) else System
        seen["system"] = system
        limit = (system.inbound_max_bytes if system else 0) or inbound.DEFAULT_MAX_BYTES
        if httprequest.content_length is not None and httprequest.content_length > limit:
            raise inbound.too_large(limit)
        inbound.check_content_type(httprequest.mimetype)
        # cached by Werkzeug: Odoo retries the whole request after a serialization failure
        # (a concurrent duplicate committed first) and the stream cannot be read twice
        body = inbound.read_body(
            lambda: httprequest.get_data(cache=True), httprequest.content_length, limit
        )
        if not system:
            raise inbound.unauthorized()
        headers = dict(httprequest.headers.items())
        message_id = system._inbound_authenticate(headers, body)
        if system.state == "paused":
            raise inbound.InboundError(
                403, "system_paused", "Odoo does not accept messages from this system now."
            )
        system._inbound_check_rate()
        message, created = request.env["logistics.sync.inbound.message"]._receive_body(
            system, headers, body, message_id
        )
        return created, message.message_id
