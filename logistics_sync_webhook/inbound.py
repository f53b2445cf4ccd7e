"""Inbound webhooks: request checks that need no ORM.

Everything a partner can send is turned into an :class:`InboundError` carrying the HTTP status
and a stable error code, never into an unexpected exception (which Odoo would answer with a
500). The controller maps an :class:`InboundError` to the JSON body
``{"error": code, "message": text}`` (plus ``"path"`` for a schema violation).

Example::

    verify_hmac_header(headers, body, ["s3cret"], "X-Signature", "sha256", "hex")
    envelope = parse_envelope(body)  # InboundError(400/422) when malformed
"""

import base64
import binascii
import hashlib
import hmac
import json
import re

import psycopg2
from werkzeug.exceptions import HTTPException

from odoo.addons.logistics_sync_core import payload as payload_tools

#: Default largest body accepted, in bytes (1 MiB).
DEFAULT_MAX_BYTES = 1024 * 1024
#: No system may accept more; also caps what Werkzeug parses before the controller runs.
HARD_MAX_BYTES = 16 * 1024 * 1024

#: Message ids, correlation ids: printable ASCII, no space, bounded (they are stored and
#: indexed: an unbounded or binary id would fail in PostgreSQL instead of getting a 4xx).
ID_RE = re.compile(r"[\x21-\x7e]{1,200}")

SYSTEM_CODE_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")

#: Concurrency errors (another transaction changed or holds the same rows): not the
#: sender's fault nor a bug; the request or job is tried again, so they must reach Odoo.
RETRYABLE_ERRORS = (
    psycopg2.errors.SerializationFailure,
    psycopg2.errors.DeadlockDetected,
    psycopg2.errors.LockNotAvailable,
)

#: The database connection failed or was cut (restart, failover, ``pg_terminate_backend``,
#: a statement timeout): the request did not commit, the caller retries it. Checked after
#: :data:`RETRYABLE_ERRORS`, which are operational errors too.
UNAVAILABLE_ERRORS = (psycopg2.OperationalError, psycopg2.InterfaceError)

# Header names whose value is a credential: never stored, whatever the scheme.
_SECRET_HEADER_WORDS = ("authorization", "cookie", "token", "secret", "password", "api-key")
REDACTED = "***"

# The body a partner sends: the same envelope Odoo sends out, "data" being the canonical
# payload of "type" (validated against the catalog's JSON Schema of that type).
_ID_SCHEMA = {"type": "string", "pattern": r"^[\x21-\x7e]{1,200}$"}
ENVELOPE_SCHEMA = json.dumps(
    {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "required": ["type", "data"],
        "properties": {
            "id": _ID_SCHEMA,
            "type": {"type": "string", "pattern": r"^[a-z0-9_]+(\.[a-z0-9_]+)+$", "maxLength": 100},
            "version": {"type": "integer", "minimum": 1, "maximum": 1000},
            "timestamp": {"type": ["string", "null"], "maxLength": 64},
            "correlation_id": {"anyOf": [_ID_SCHEMA, {"type": "null"}]},
            "causation_id": {"anyOf": [_ID_SCHEMA, {"type": "null"}]},
            "data": {"type": "object"},
        },
        "additionalProperties": True,
    }
)


class InboundError(Exception):
    """A request refused with ``status``; ``code`` and ``message`` are safe to send back."""

    def __init__(self, status, code, message, path=None, headers=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.path = path
        self.headers = headers or {}

    def body(self):
        body = {"error": self.code, "message": self.message}
        if self.path:
            body["path"] = self.path
        return body


#: Every path under this prefix answers errors with the JSON body of :class:`InboundError`.
EDGE_PREFIX = "/logistics_sync"

# HTTP errors Werkzeug or Odoo raise before or around a route, by status.
_HTTP_ERROR_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    411: "length_required",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def is_edge_path(path):
    """Whether a request path is under ``/logistics_sync/`` (answered in JSON)."""
    return path == EDGE_PREFIX or (path or "").startswith(EDGE_PREFIX + "/")


def error_for_exception(exc):
    """The :class:`InboundError` to answer for an exception that escaped a route: an HTTP
    error keeps its status; concurrency errors left after Odoo's retries and a lost database
    connection are a 503 to retry; anything else a 500 that tells nothing about the server."""
    if isinstance(exc, InboundError):
        return exc
    if isinstance(exc, HTTPException) and exc.code and 400 <= exc.code < 500:
        code = _HTTP_ERROR_CODES.get(exc.code, "bad_request")
        allowed = getattr(exc, "valid_methods", None)  # a MethodNotAllowed
        headers = {"Allow": ", ".join(allowed)} if allowed else None
        return InboundError(exc.code, code, exc.name + ".", headers=headers)
    if isinstance(exc, RETRYABLE_ERRORS):
        return InboundError(
            503,
            "busy",
            "Concurrent requests changed the same data; retry shortly.",
            headers={"Retry-After": "1"},
        )
    if isinstance(exc, UNAVAILABLE_ERRORS):
        return InboundError(
            503,
            "unavailable",
            "The database is unavailable; retry shortly.",
            headers={"Retry-After": "5"},
        )
    return InboundError(500, "internal_error", "Unexpected error; it was logged.")


def unauthorized():
    """The one answer for an unknown system, a missing or wrong signature or key: a caller
    cannot tell which it was."""
    return InboundError(401, "unauthorized", "Invalid or missing signature or API key.")


def too_large(limit):
    return InboundError(413, "payload_too_large", f"The body is larger than {limit} bytes.")


def check_content_type(mimetype):
    if (mimetype or "").lower() != "application/json":
        raise InboundError(
            415, "unsupported_media_type", "The body must be JSON (Content-Type: application/json)."
        )


def read_body(get_data, content_length, limit):
    """Read the body with ``get_data`` (werkzeug's, which caches it), at most ``limit`` bytes:
    refused on the announced length before reading, and on the real length after.

    A body without Content-Length (chunked) is refused with 411: this Werkzeug reads such a
    body to its end whatever its size, so it cannot be bounded.
    """
    if content_length is None:
        raise InboundError(
            411, "length_required", "Send the body with a Content-Length header (no chunking)."
        )
    if content_length > limit:
        raise too_large(limit)
    body = get_data()
    if len(body) > limit:
        raise too_large(limit)
    return body


def _reject_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def load_json(body):
    """The JSON value of a raw body (UTF-8, no NaN/Infinity); :class:`InboundError` 400."""
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        # UnicodeDecodeError and JSONDecodeError are ValueErrors; very deep nesting recurses
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise InboundError(400, "malformed_json", f"The body is not valid JSON: {reason}") from None


def parse_envelope(body):
    """Return the envelope dict of a raw body; :class:`InboundError` 400 or 422 otherwise."""
    envelope = load_json(body)
    check_schema(ENVELOPE_SCHEMA, envelope, "$")
    check_text(envelope, "$")
    return envelope


# JSON may escape characters PostgreSQL text cannot hold (NUL) or UTF-8 cannot encode (lone
# surrogates): refused here with their path rather than failing later in the database.
_UNSTORABLE_RE = re.compile("[\x00\ud800-\udfff]")


def check_text(node, path):
    """:class:`InboundError` 422 naming the path of the first text (key or value) under
    ``node`` that cannot be stored."""
    stack = [(node, path)]
    while stack:
        value, where = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                stack.append((key, where))
                stack.append((item, f"{where}.{key}"))
        elif isinstance(value, list):
            stack.extend((item, f"{where}[{index}]") for index, item in enumerate(value))
        elif isinstance(value, str) and _UNSTORABLE_RE.search(value):
            raise InboundError(
                422,
                "schema_violation",
                f"Invalid text at {where}: NUL characters and lone surrogates are not accepted.",
                path=where,
            )


def check_schema(schema_text, value, prefix):
    """Raise :class:`InboundError` 422 naming the JSON path (under ``prefix``) of the first
    schema violation of ``value``."""
    try:
        error = payload_tools.schema_errors(schema_text, value)
    except RecursionError:
        error = ("$", "the document is nested too deeply")
    if error:
        path, message = error
        full_path = prefix + path[1:] if path.startswith("$") else f"{prefix}.{path}"
        raise InboundError(
            422,
            "schema_violation",
            f"Invalid value at {full_path}: {message[:300]}",
            path=full_path,
        )


def header(headers, name):
    """Value of header ``name`` (case-insensitive), stripped; ``""`` when absent."""
    wanted = name.lower()
    for key, value in headers.items():
        if str(key).lower() == wanted:
            return str(value).strip()
    return ""


def verify_hmac_header(headers, body, secrets, header_name, algorithm, encoding, prefix=""):
    """Check a provider-style HMAC of the raw body in one header (GitHub, Shopify, ...).

    :param secrets: the shared secrets (text) accepted, several during a rotation.
    :param algorithm: ``"sha256"`` or ``"sha512"``; :param encoding: ``"hex"`` or ``"base64"``.
    :param prefix: text before the digest in the header, e.g. ``"sha256="``.
    :raises InboundError: 401 when no secret matches (the same answer as any other refusal).
    """
    value = header(headers, header_name)
    if prefix and value.startswith(prefix):
        value = value[len(prefix) :]
    if not value or not secrets:
        raise unauthorized()
    digestmod = {"sha256": hashlib.sha256, "sha512": hashlib.sha512}[algorithm]
    try:
        if encoding == "hex":
            received = bytes.fromhex(value)
        else:
            received = base64.b64decode(value, validate=True)
    except (ValueError, binascii.Error):
        raise unauthorized()
    matched = False
    # every secret is checked, so the timing does not tell which one matched
    for secret in secrets:
        expected = hmac.new(secret.encode(), body, digestmod).digest()
        matched |= hmac.compare_digest(expected, received)
    if not matched:
        raise unauthorized()


def verify_api_key(headers, keys, header_name):
    """Check that header ``header_name`` holds one of ``keys`` (constant-time compare)."""
    value = header(headers, header_name).encode("utf-8", "surrogateescape")
    if not value or not keys:
        raise unauthorized()
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(key.encode(), value)
    if not matched:
        raise unauthorized()


def redact_headers(headers, extra_secret_headers=()):
    """Return the headers as a dict safe to store: credential values replaced by ``***``."""
    secret_names = {name.lower() for name in extra_secret_headers if name}
    result = {}
    for key, value in headers.items():
        name = str(key)
        lowered = name.lower()
        if lowered in secret_names or any(word in lowered for word in _SECRET_HEADER_WORDS):
            result[name] = REDACTED
        else:
            # PostgreSQL text cannot hold NUL; header values are latin-1 text otherwise
            result[name] = str(value).replace("\x00", "")[:2000]
    return result


def rate_limited(limit, window, wait):
    """The 429 for more than ``limit`` requests in ``window`` seconds; retry in ``wait``."""
    return InboundError(
        429,
        "rate_limited",
        f"Too many requests: at most {limit} per {window} s. Retry after {wait} s.",
        headers={"Retry-After": str(wait)},
    )
