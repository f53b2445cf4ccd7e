from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import RequestRedirect

from odoo import models
from odoo.http import request

from .. import inbound


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    @classmethod
    def _match(cls, path_info):
        try:
            return super()._match(path_info)
        except HTTPException as exc:
            if not inbound.is_edge_path(path_info) or isinstance(exc, NotFound):
                raise
            if isinstance(exc, RequestRedirect) or exc.code is None:
                # Werkzeug redirects "//" to "/", http_routing "//" and language prefixes:
                # a partner is not redirected, the path it sent matches no route (JSON 404).
                raise NotFound() from exc
            # Odoo answers what matching raises (a method the route does not take) with
            # Werkzeug's HTML page, without asking _handle_error: give it the JSON one.
            exc.error_response = cls._handle_error(exc)
            raise

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
