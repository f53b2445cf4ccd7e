"""Delivery rules that need no database: the envelope sent to partners, how an answer is
classified, and when to try again. Follows Standard Webhooks' retry semantics."""

import email.utils
import random
from datetime import datetime, timezone

from odoo.addons.logistics_sync_core.payload import canonical_json

# Standard Webhooks' example schedule, in seconds: immediately, 5 s, 5 min, 30 min, 2 h,
# 5 h, 10 h, 10 h.
DEFAULT_SCHEDULE = "0, 5, 300, 1800, 7200, 18000, 36000, 36000"
SLOW_DOWN = {429, 502, 503, 504}

DELIVERED = "delivered"
RETRY = "retry"
GONE = "gone"  # 410: the partner asks us to stop


def parse_schedule(text):
    """``"0, 5, 300"`` -> ``[0, 5, 300]``; raises ``ValueError`` on anything else."""
    delays = [int(part) for part in (text or "").replace(";", ",").split(",") if part.strip()]
    if not delays or any(delay < 0 for delay in delays):
        raise ValueError("a retry schedule is a comma-separated list of seconds >= 0")
    return delays


def retry_delay(schedule, attempts_done, jitter=0.2, rng=random):
    """Seconds to wait before the next attempt, or ``None`` when the schedule is exhausted.

    ``attempts_done`` counts the attempts already made (the first is immediate and is the
    schedule's first entry). Jitter spreads retries by +/- ``jitter`` of the delay.
    """
    if attempts_done >= len(schedule):
        return None
    base = schedule[attempts_done]
    return base * (1 + rng.uniform(-jitter, jitter)) if base else 0


def parse_retry_after(value, now=None):
    """Seconds asked for by a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = now or datetime.now(timezone.utc)
    return max(0, int((when - now).total_seconds()))


def classify(status_code):
    """What an HTTP status means for the message: delivered, retry or gone.

    2xx is delivered. 3xx is a failure (redirects are not followed: a partner that moved
    must be reconfigured). 410 disables the subscription. Everything else is retried.
    """
    if 200 <= status_code < 300:
        return DELIVERED
    if status_code == 410:
        return GONE
    return RETRY


def envelope(
    message_id,
    type_code,
    version,
    occurred_at,
    aggregate,
    data,
    correlation_id=None,
    causation_id=None,
    origin=None,
):
    """The JSON object partners receive (``data`` holds the shaped event payload)."""
    return {
        "id": message_id,
        "type": type_code,
        "version": version,
        "timestamp": occurred_at,
        "aggregate": aggregate,
        "correlation_id": correlation_id,
        "causation_id": causation_id,
        "origin": origin,
        "data": data,
    }


def canonical_bytes(value):
    """The exact bytes sent and signed for ``value``."""
    return canonical_json(value).encode()
