"""Standard Webhooks (v1.0.0) signing and verification, without the ORM.

The signed content is ``{webhook-id}.{webhook-timestamp}.`` followed by the exact body bytes.
Two schemes are supported:

* ``v1``  -- HMAC-SHA256 with a symmetric secret ``whsec_<base64>``;
* ``v1a`` -- Ed25519 with a signing key ``whsk_<base64 seed>`` (sender) and its public key
  ``whpk_<base64>`` (receiver).

Example::

    secret = generate_hmac_secret()
    hdrs = headers("msg_1", int(time.time()), body, [secret])
    msg_id = verify(hdrs, body, [secret])  # raises SignatureError when it does not match

Specification: https://github.com/standard-webhooks/standard-webhooks (spec/standard-webhooks.md)
"""

import base64
import binascii
import hashlib
import hmac
import re
import time
from secrets import token_bytes

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

HMAC_SECRET_PREFIX = "whsec_"
ED25519_SECRET_PREFIX = "whsk_"
ED25519_PUBLIC_PREFIX = "whpk_"

HMAC_VERSION = "v1"
ED25519_VERSION = "v1a"

#: Receivers reject timestamps further than this from now (spec: 5 minutes).
DEFAULT_TOLERANCE = 300

HEADER_ID = "webhook-id"
HEADER_TIMESTAMP = "webhook-timestamp"
HEADER_SIGNATURE = "webhook-signature"

# Svix sends the same three values under its own names; partners using Svix must be accepted.
_HEADER_PREFIXES = ("webhook-", "svix-")
_HEADER_SUFFIXES = ("id", "timestamp", "signature")

# Unix seconds as plain ASCII digits: int() alone would also accept "+1", " 1", "1_000" and
# non-ASCII digits, none of which a conforming sender produces.
_TIMESTAMP_RE = re.compile(r"[0-9]{1,15}")

_ED25519_KEY_SIZE = 32
_ED25519_SIGNATURE_SIZE = 64


class SignatureError(ValueError):
    """The request does not carry a valid Standard Webhooks signature.

    ``reason`` is a human readable explanation, safe to return to the sender; ``code`` is one of
    the ``SignatureError.*`` constants, for callers that branch on the cause.
    """

    MISSING_HEADERS = "missing_headers"
    BAD_TIMESTAMP = "bad_timestamp"
    TIMESTAMP_TOO_OLD = "timestamp_too_old"
    TIMESTAMP_TOO_NEW = "timestamp_too_new"
    NO_MATCHING_SIGNATURE = "no_matching_signature"

    def __init__(self, reason, code=None):
        super().__init__(reason)
        self.reason = reason
        self.code = code


def generate_hmac_secret():
    """Return a new symmetric secret: ``"whsec_"`` + base64 of 32 random bytes."""
    return HMAC_SECRET_PREFIX + _b64encode(token_bytes(32))


def generate_ed25519_keypair():
    """Return a new Ed25519 key pair as ``(signing_key, public_key)``.

    ``signing_key`` is ``"whsk_"`` + base64 of the 32-byte seed (keep it secret, give it to
    :func:`sign`); ``public_key`` is ``"whpk_"`` + base64 of the 32-byte raw public key (give it
    to the receiver, which passes it to :func:`verify`).
    """
    private_key = Ed25519PrivateKey.generate()
    seed = private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    public = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return ED25519_SECRET_PREFIX + _b64encode(seed), ED25519_PUBLIC_PREFIX + _b64encode(public)


def public_key_from_secret(signing_key):
    """Return the ``whpk_`` public key that matches a ``whsk_`` signing key."""
    private_key = _load_ed25519_private(signing_key)
    public = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return ED25519_PUBLIC_PREFIX + _b64encode(public)


def sign(msg_id, timestamp, body, secrets):
    """Return the ``webhook-signature`` header value for one message.

    :param str msg_id: the ``webhook-id``; must stay the same across retries.
    :param int timestamp: the ``webhook-timestamp`` (Unix seconds).
    :param bytes body: the exact bytes that will be sent.
    :param secrets: ``whsec_`` and/or ``whsk_`` keys; one signature entry per key, space
        separated, so a receiver still holding the previous key accepts during a rotation.
    :raises ValueError: on an empty key list or a key that cannot sign (unknown prefix,
        ``whpk_`` public key, bad base64).
    """
    content = _signed_content(msg_id, timestamp, body)
    keys = _as_key_list(secrets)
    entries = []
    for secret in keys:
        if secret.startswith(HMAC_SECRET_PREFIX):
            digest = hmac.new(_load_hmac_key(secret), content, hashlib.sha256).digest()
            entries.append(f"{HMAC_VERSION},{_b64encode(digest)}")
        elif secret.startswith(ED25519_SECRET_PREFIX):
            signature = _load_ed25519_private(secret).sign(content)
            entries.append(f"{ED25519_VERSION},{_b64encode(signature)}")
        else:
            raise ValueError(
                f"cannot sign with key {_describe_key(secret)}: expected a "
                f"{HMAC_SECRET_PREFIX!r} or {ED25519_SECRET_PREFIX!r} key"
            )
    return " ".join(entries)


def headers(msg_id, timestamp, body, secrets):
    """Return the three Standard Webhooks headers for one message, as a dict.

    Same parameters as :func:`sign`.
    """
    return {
        HEADER_ID: msg_id,
        HEADER_TIMESTAMP: str(timestamp),
        HEADER_SIGNATURE: sign(msg_id, timestamp, body, secrets),
    }


def verify(headers, body, secrets, tolerance=DEFAULT_TOLERANCE, now=None):
    """Check the signature of an inbound webhook and return its ``webhook-id``.

    :param headers: a mapping of request headers; names are matched case-insensitively and
        ``svix-id`` / ``svix-timestamp`` / ``svix-signature`` are accepted too.
    :param bytes body: the raw request body, exactly as received.
    :param secrets: ``whsec_`` and/or ``whpk_`` keys; the message is accepted if any signature
        entry matches any key (rotation). Entries with an unknown version or that are malformed
        are skipped.
    :param int tolerance: accepted distance, in seconds, between the timestamp and ``now``.
    :param now: current Unix time (defaults to :func:`time.time`), for tests.
    :returns: the ``webhook-id``, to be used as the idempotency key.
    :raises SignatureError: when the message must be refused (answer 4xx), with a reason.
    :raises ValueError: when ``secrets`` is empty or holds a key that cannot verify; this is a
        configuration error, not the sender's fault.
    """
    if not isinstance(body, bytes):
        raise TypeError("body must be the raw request bytes")
    hmac_keys, public_keys = _load_verification_keys(secrets)

    msg_id, timestamp_str, signature_header = _read_headers(headers)
    timestamp = check_timestamp(timestamp_str, tolerance, now)

    content = _signed_content(msg_id, timestamp, body)
    # Computed once, so a header with many entries costs one HMAC per key, not per entry.
    expected_macs = [hmac.new(key, content, hashlib.sha256).digest() for key in hmac_keys]
    for entry in signature_header.split():
        version, sep, encoded = entry.partition(",")
        if not sep:
            continue
        if version == HMAC_VERSION and expected_macs:
            received = _b64decode_or_none(encoded)
            if received is None:
                continue
            # Check every key, without stopping early, so timing does not tell which one matched.
            matched = False
            for expected in expected_macs:
                matched |= hmac.compare_digest(expected, received)
            if matched:
                return msg_id
        elif version == ED25519_VERSION and public_keys:
            received = _b64decode_or_none(encoded)
            if received is None or len(received) != _ED25519_SIGNATURE_SIZE:
                continue
            for public_key in public_keys:
                try:
                    public_key.verify(received, content)
                except InvalidSignature:
                    continue
                return msg_id
    raise SignatureError(
        f"no {HEADER_SIGNATURE} entry matches the message and a configured key",
        SignatureError.NO_MATCHING_SIGNATURE,
    )


def check_timestamp(timestamp_str, tolerance=DEFAULT_TOLERANCE, now=None, header=HEADER_TIMESTAMP):
    """Return the Unix seconds in ``timestamp_str`` (the value of ``header``); raise
    :class:`SignatureError` when it is not an integer or lies more than ``tolerance``
    seconds from ``now`` (a replay of an old request, or a clock far off)."""
    if not _TIMESTAMP_RE.fullmatch(timestamp_str or ""):
        raise SignatureError(
            f"invalid {header} {(timestamp_str or '')[:32]!r}: expected integer Unix seconds",
            SignatureError.BAD_TIMESTAMP,
        )
    timestamp = int(timestamp_str)
    now = time.time() if now is None else now
    if timestamp < now - tolerance:
        raise SignatureError(
            f"{header} {timestamp} is more than {tolerance} seconds in the past",
            SignatureError.TIMESTAMP_TOO_OLD,
        )
    if timestamp > now + tolerance:
        raise SignatureError(
            f"{header} {timestamp} is more than {tolerance} seconds in the future",
            SignatureError.TIMESTAMP_TOO_NEW,
        )
    return timestamp


def _signed_content(msg_id, timestamp, body):
    if not isinstance(body, bytes):
        raise TypeError("body must be bytes: the exact bytes sent are signed")
    if isinstance(timestamp, bool) or not isinstance(timestamp, int):
        raise TypeError("timestamp must be an int (Unix seconds)")
    if not msg_id:
        raise ValueError("msg_id must not be empty")
    return f"{msg_id}.{timestamp}.".encode() + body


def _read_headers(headers):
    lowered = {str(name).lower(): value for name, value in headers.items()}
    for prefix in _HEADER_PREFIXES:
        names = [prefix + suffix for suffix in _HEADER_SUFFIXES]
        # Take one family as a whole rather than mixing e.g. a webhook-id with a svix-signature.
        if any(name in lowered for name in names):
            values = [str(lowered.get(name) or "").strip() for name in names]
            missing = [name for name, value in zip(names, values, strict=True) if not value]
            if missing:
                raise SignatureError(
                    f"missing header(s): {', '.join(missing)}", SignatureError.MISSING_HEADERS
                )
            return values
    raise SignatureError(
        f"missing headers: {HEADER_ID}, {HEADER_TIMESTAMP}, {HEADER_SIGNATURE}",
        SignatureError.MISSING_HEADERS,
    )


def _load_verification_keys(secrets):
    hmac_keys, public_keys = [], []
    for secret in _as_key_list(secrets):
        if secret.startswith(HMAC_SECRET_PREFIX):
            hmac_keys.append(_load_hmac_key(secret))
        elif secret.startswith(ED25519_PUBLIC_PREFIX):
            public_keys.append(_load_ed25519_public(secret))
        else:
            raise ValueError(
                f"cannot verify with key {_describe_key(secret)}: expected a "
                f"{HMAC_SECRET_PREFIX!r} secret or a {ED25519_PUBLIC_PREFIX!r} public key"
            )
    return hmac_keys, public_keys


def _as_key_list(secrets):
    if isinstance(secrets, str):
        # A bare string would otherwise be iterated character by character.
        secrets = [secrets]
    keys = list(secrets or ())
    if not keys:
        raise ValueError("at least one key is required")
    for key in keys:
        if not isinstance(key, str):
            raise TypeError("keys must be strings such as 'whsec_...'")
    return keys


def _describe_key(secret):
    # Never echo key material in an error message: only the prefix, if any.
    prefix, sep, _rest = secret.partition("_")
    return f"{prefix}_..." if sep else "without a known prefix"


def _load_hmac_key(secret):
    key = _decode_key(secret, HMAC_SECRET_PREFIX)
    if not key:
        raise ValueError("the whsec_ secret is empty")
    return key


def _load_ed25519_private(secret):
    if not secret.startswith(ED25519_SECRET_PREFIX):
        raise ValueError(f"expected a {ED25519_SECRET_PREFIX!r} signing key")
    seed = _decode_key(secret, ED25519_SECRET_PREFIX)
    if len(seed) != _ED25519_KEY_SIZE:
        raise ValueError(f"a whsk_ key must hold {_ED25519_KEY_SIZE} bytes, got {len(seed)}")
    return Ed25519PrivateKey.from_private_bytes(seed)


def _load_ed25519_public(secret):
    raw = _decode_key(secret, ED25519_PUBLIC_PREFIX)
    if len(raw) != _ED25519_KEY_SIZE:
        raise ValueError(f"a whpk_ key must hold {_ED25519_KEY_SIZE} bytes, got {len(raw)}")
    return Ed25519PublicKey.from_public_bytes(raw)


def _decode_key(secret, prefix):
    encoded = secret[len(prefix) :].strip()
    # Some providers hand out unpadded base64; restore the padding instead of refusing the key.
    encoded += "=" * (-len(encoded) % 4)
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"the {prefix}... key is not valid base64") from None


def _b64decode_or_none(encoded):
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return None


def _b64encode(raw):
    return base64.b64encode(raw).decode("ascii")
