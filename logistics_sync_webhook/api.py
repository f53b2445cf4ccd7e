"""Partner REST API v1: helpers that need no ORM (keys, scopes, cursors, request hashes).

Errors are :class:`~odoo.addons.logistics_sync_webhook.inbound.InboundError`, answered with
the same JSON body and status codes as inbound webhooks.

Example::

    key, prefix, digest = generate_key()  # give ``key`` to the partner, store ``digest``
    hash_key(key) == digest
    cursor = encode_cursor(42); decode_cursor(cursor) == 42
"""

import base64
import binascii
import hashlib
import json
import re
import secrets

from . import inbound
from .inbound import InboundError

#: The scopes a key may hold.
SCOPES = [
    ("orders:write", "Create orders"),
    ("orders:read", "Read orders"),
    ("stock:read", "Read stock availability"),
    ("shipments:write", "Request shipment bookings"),
    ("shipments:read", "Read shipments"),
    ("events:read", "Read the event feed"),
]
SCOPE_CODES = [code for code, _label in SCOPES]

KEY_PREFIX = "lsk_"
# lsk_ + 8 characters shown in Odoo (to tell keys apart) + the secret part
_KEY_RE = re.compile(r"lsk_[A-Za-z0-9_-]{8}_[A-Za-z0-9_-]{20,100}")

#: Largest quantity or unit price accepted (the database stores amounts as numeric).
MAX_AMOUNT = 1e12


def line_amount_error(line, index):
    """``(message, json_path)`` when an order line's quantity or unit price is out of
    range (JSON allows 1e308, which rounding to the product's digits turns into an
    overflow), else ``None``. Shared by the partner API and the inbound webhooks."""
    for name in ("quantity", "price_unit"):
        if abs(line.get(name) or 0) > MAX_AMOUNT:
            return f"{name} must not exceed {MAX_AMOUNT:g}.", f"$.lines[{index}].{name}"
    return None


DEFAULT_EVENT_LIMIT = 50
MAX_EVENT_LIMIT = 200


def generate_key():
    """Return ``(key, prefix, sha256 hex digest)`` of a new random API key."""
    prefix = KEY_PREFIX + secrets.token_urlsafe(6)[:8].ljust(8, "x")
    key = f"{prefix}_{secrets.token_urlsafe(32)}"
    return key, prefix, hash_key(key)


def hash_key(key):
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()


def bearer_key(authorization):
    """The key in an ``Authorization: Bearer <key>`` header; 401 when missing or malformed."""
    scheme, _sep, value = (authorization or "").strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not _KEY_RE.fullmatch(value):
        raise unauthorized()
    return value


def unauthorized():
    """The inbound webhooks' one 401, with the Bearer challenge."""
    error = inbound.unauthorized()
    error.headers["WWW-Authenticate"] = 'Bearer realm="logistics_sync"'
    return error


def forbidden(scope):
    return InboundError(403, "insufficient_scope", f"This API key lacks the scope {scope!r}.")


def not_found(what="resource"):
    return InboundError(404, "not_found", f"No such {what}.")


def invalid(message, path=None):
    return InboundError(422, "invalid_request", message, path=path)


_QUERY_TEXT_RE = re.compile(r"[^\x00\ud800-\udfff]{1,200}")


def check_query_text(value, name):
    """422 for a query parameter the database cannot search for (NUL, lone surrogates,
    longer than 200 characters)."""
    if value and not _QUERY_TEXT_RE.fullmatch(value):
        raise invalid(f"{name} must be 1-200 characters without NUL.", path=name)


def request_hash(method, route, body):
    """Fingerprint of a request, to tell a replay from a different request reusing an
    Idempotency-Key. JSON bodies are compared by value (key order and spacing ignored)."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"))
    except (ValueError, RecursionError):
        canonical = body.decode("utf-8", "replace")
    return hashlib.sha256(f"{method} {route}\n{canonical}".encode()).hexdigest()


def encode_cursor(last_id):
    return base64.urlsafe_b64encode(f"ev1:{int(last_id)}".encode()).decode().rstrip("=")


def decode_cursor(cursor):
    """The last id a cursor points after; 0 for none; 422 for a cursor not made here."""
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        tag, _sep, value = text.partition(":")
        if tag != "ev1" or not value.isdigit() or len(value) > 18:
            raise ValueError(text)
        return int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid("The cursor is not one this API returned.", path="cursor") from None


def parse_limit(value):
    if value in (None, ""):
        return DEFAULT_EVENT_LIMIT
    if not str(value).isdigit() or not 1 <= int(value) <= MAX_EVENT_LIMIT:
        raise invalid(f"limit must be an integer from 1 to {MAX_EVENT_LIMIT}.", path="limit")
    return int(value)
