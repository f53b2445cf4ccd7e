from odoo import models
from odoo.http import request

from .. import inbound


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    @classmethod
    def _serve_fallback(cls):
        # A path under /logistics_sync/ that no route matches (unknown sub-path, an encoded
        # slash in an id, ".." segments) is a partner's mistake: a JSON 404, not the HTML page.
        if inbound.is_edge_path(request.httprequest.path):
            return cls._edge_error_response(
                inbound.InboundError(404, "not_found", "No such route.")
            )
        return super()._serve_fallback()

    @classmethod
    def _handle_error(cls, exception):
        # What escapes a route under /logistics_sync/ (a body larger than Werkzeug accepts,
        # concurrency errors still failing after Odoo's retries, a bug) gets the JSON body.
        if inbound.is_edge_path(request.httprequest.path):
            return cls._edge_error_response(inbound.error_for_exception(exception))
        return super()._handle_error(exception)

    @classmethod
    def _edge_error_response(cls, error):
        return request.make_json_response(
            error.body(), headers=list(error.headers.items()), status=error.status
        )
