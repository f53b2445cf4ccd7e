import random
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

from odoo.tests import BaseCase, tagged

from .. import delivery
from .common import WebhookCase


class TestDeliveryRulesUnit(BaseCase):
    def test_classify_follows_standard_webhooks(self):
        self.assertEqual(
            [delivery.classify(code) for code in (200, 204, 299, 301, 302, 410, 429, 500, 503)],
            ["delivered"] * 3 + ["retry", "retry", "gone", "retry", "retry", "retry"],
        )

    def test_schedule_and_jitter(self):
        schedule = delivery.parse_schedule(delivery.DEFAULT_SCHEDULE)
        self.assertEqual(schedule, [0, 5, 300, 1800, 7200, 18000, 36000, 36000])
        rng = random.Random(7)
        delays = [delivery.retry_delay(schedule, 3, rng=rng) for _index in range(200)]
        self.assertTrue(all(1440 <= d <= 2160 for d in delays), "within +/-20 % of 30 min")
        self.assertGreater(len({round(d) for d in delays}), 50, "spread, not one value")
        self.assertEqual(delivery.retry_delay(schedule, 0), 0, "first attempt immediately")
        self.assertIsNone(delivery.retry_delay(schedule, len(schedule)), "then dead-letter")
        for bad in ("", "5, -1", "soon"):
            with self.assertRaises(ValueError):
                delivery.parse_schedule(bad)

    def test_retry_after_seconds_or_http_date(self):
        now = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)
        self.assertEqual(delivery.parse_retry_after("120"), 120)
        later = format_datetime(now + timedelta(minutes=10), usegmt=True)
        self.assertEqual(delivery.parse_retry_after(later, now=now), 600)
        self.assertIsNone(delivery.parse_retry_after("tomorrow-ish"))
        self.assertIsNone(delivery.parse_retry_after(None))


@tagged("post_install", "-at_install")
class TestServiceUnavailable(WebhookCase):
    def test_503_with_an_http_date_retry_after_is_honoured(self):
        when = datetime.now(timezone.utc) + timedelta(minutes=10)
        self.receiver.script["/hook"] = [(503, {"Retry-After": format_datetime(when, usegmt=True)})]
        order = self._confirmed_order()
        self.flow.deliver_pending()
        message = self._messages(order)
        self.assertEqual(message.state, "failed")
        self.assertGreaterEqual(
            message.next_attempt_at, when.replace(tzinfo=None) - timedelta(seconds=2)
        )
