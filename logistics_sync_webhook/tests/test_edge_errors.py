import psycopg2
from werkzeug.exceptions import MethodNotAllowed, NotFound, RequestEntityTooLarge

from odoo.tests import BaseCase, HttpCase, tagged

from .. import inbound
from .inbound_common import JsonErrorAssertions, raw_request


@tagged("post_install", "-at_install")
class TestEdgeErrors(JsonErrorAssertions, HttpCase):
    """Every path under /logistics_sync/ answers the JSON error body, also one that matches
    no route. Sent with http.client, byte for byte: a client that normalises the path would
    hide the cases a partner (or an attacker) can send."""

    def _raw(self, method, path, body=None, headers=None):
        return raw_request(self.http_port(), method, path, body, headers)

    def test_unmatched_paths_get_a_json_404(self):
        for method, path in [
            ("GET", "/logistics_sync"),
            ("GET", "/logistics_sync/"),
            ("GET", "/logistics_sync/nothing/here"),
            ("POST", "/logistics_sync/webhook/acme/extra"),
            ("POST", "/logistics_sync/webhook/acme%2Fextra"),
            ("GET", "/logistics_sync/api/v1/nothing"),
            ("DELETE", "/logistics_sync/api/v2/orders"),
            ("GET", "/logistics_sync/../web/login"),
            ("GET", "/logistics_sync/api/v1/../../../web/login"),
            ("GET", "/logistics_sync/api/v1/%2e%2e/v1/openapi.json"),
            ("GET", "/logistics_sync/static/no-such-file.txt"),
            ("PUT", "/logistics_sync/%ff%fe"),
        ]:
            with self.subTest(method=method, path=path):
                body = self.assertRawRefused(self._raw(method, path), 404, "not_found")
                self.assertEqual(body["message"], "No such route.")

    def test_dot_segments_and_nul_stay_ours(self):
        # Sent under /logistics_sync/, such a path is ours even though it would leave the
        # prefix once ".." is resolved: Odoo matches the raw path, and our fallback answers
        # before Odoo's attachment lookup, which cannot search for a NUL (the chaos fuzzer
        # found these; a client that resolves ".." itself sends "/orders/events/%00").
        for method, path in [
            ("GET", "/logistics_sync/../orders/events/%00"),
            ("POST", "/logistics_sync/../orders/events/%00"),
            ("DELETE", "/logistics_sync/%2e%2e/%2e%2e/stock/%00"),
            ("GET", "/logistics_sync/webhook/../../orders/%00/events"),
            ("PATCH", "/logistics_sync/api/v1/../../../%00"),
            ("GET", "/logistics_sync/%00"),
        ]:
            with self.subTest(method=method, path=path):
                body = self.assertRawRefused(self._raw(method, path, body=b"{}"), 404, "not_found")
                self.assertEqual(body["message"], "No such route.")

    def test_no_redirect_and_no_html_405_under_the_prefix(self):
        # Werkzeug redirects a path whose "//" merged would match a route (308), http_routing
        # any other path holding "//" (301): a partner is not redirected, the path it sent
        # matches no route. Both came as HTML pages, found by the chaos fuzzer.
        for method, path in [
            ("GET", "/logistics_sync/webhook//;/"),
            ("POST", "/logistics_sync//api/v1/orders"),
            ("GET", "/logistics_sync/api//v1/openapi.json"),
            ("PUT", "/logistics_sync/events/;/%2F/api/"),
            ("GET", "/logistics_sync//"),
        ]:
            with self.subTest(method=method, path=path):
                status, headers, body = self._raw(method, path)
                self.assertNotIn("Location", headers)
                self.assertRawRefused((status, headers, body), 404, "not_found")
        # a method the route does not take, refused by Odoo's routing map (methods=["GET"])
        answer = self._raw("DELETE", "/logistics_sync/metrics")
        self.assertRawRefused(answer, 405, "method_not_allowed")
        self.assertIn("GET", answer[1]["Allow"])
        # outside the prefix Odoo redirects as it always did
        status, headers, _body = self._raw("GET", "/web//health")
        self.assertIn(status, (301, 308))
        self.assertIn("Location", headers)

    def test_routes_still_match_and_other_paths_keep_odoo_pages(self):
        status, headers, _body = self._raw("GET", "/logistics_sync/api/v1/openapi.json")
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "application/json; charset=utf-8")
        # a known route refuses in JSON as before
        self.assertRawRefused(
            self._raw("GET", "/logistics_sync/webhook/acme"), 405, "method_not_allowed"
        )
        # outside the prefix Odoo answers as it always did
        status, headers, _body = self._raw("GET", "/logistics_sync_elsewhere/nothing")
        self.assertEqual(status, 404)
        self.assertTrue(headers["Content-Type"].startswith("text/html"))

    def test_a_request_werkzeug_refuses_gets_json_too(self):
        # a body far shorter than its Content-Length: refused before the route runs
        answer = self._raw(
            "POST",
            "/logistics_sync/webhook/acme",
            body=b"{}",
            headers={"Content-Type": "application/json", "Content-Length": str(17 * 2**20)},
        )
        self.assertRawRefused(answer, 400, "bad_request")


class TestEdgeErrorMapping(BaseCase):
    def test_escaped_exceptions_map_to_json_errors(self):
        cases = [
            (NotFound(), 404, "not_found"),
            (MethodNotAllowed(), 405, "method_not_allowed"),
            (RequestEntityTooLarge(), 413, "payload_too_large"),
            (psycopg2.errors.SerializationFailure(), 503, "busy"),
            # the database connection cut under the request (the chaos suite's postgres
            # scenario answered these with a 500)
            (
                psycopg2.OperationalError("server closed the connection unexpectedly"),
                503,
                "unavailable",
            ),
            (psycopg2.InterfaceError("connection already closed"), 503, "unavailable"),
            (psycopg2.errors.QueryCanceled(), 503, "unavailable"),
            (ZeroDivisionError("secret detail"), 500, "internal_error"),
        ]
        for exc, status, code in cases:
            error = inbound.error_for_exception(exc)
            self.assertEqual((error.status, error.code), (status, code))
            self.assertNotIn("secret detail", error.message)
        self.assertEqual(inbound.error_for_exception(cases[3][0]).headers["Retry-After"], "1")
        self.assertEqual(inbound.error_for_exception(cases[4][0]).headers["Retry-After"], "5")
        for path, inside in [
            ("/logistics_sync", True),
            ("/logistics_sync/x", True),
            ("/logistics_syncx", False),
            ("/web", False),
            ("", False),
        ]:
            self.assertEqual(inbound.is_edge_path(path), inside, path)
