from odoo.tests.common import _super_send

from odoo.addons.logistics_sync_core.tests.common import LogisticsSyncCase

from .receiver import Receiver


def api_key_with_secret(env, system, scope_domain, name=None, **values):
    """An API key of ``system`` holding the scopes that match ``scope_domain``, and its
    secret as the manager who generates the key is shown it (once)."""
    key = env["logistics.sync.api.key"].create(
        {
            "name": name or f"{system.code} key",
            "system_id": system.id,
            "scope_ids": [(6, 0, env["logistics.sync.api.scope"].search(scope_domain).ids)],
            **values,
        }
    )
    return key, key.action_generate()["params"]["message"].rsplit(" ", 1)[-1]


class LocalPartnerMixin:
    """For tests whose partner is a real server on 127.0.0.1: the SSRF guard allows it, and
    requests keep their own timeouts."""

    @classmethod
    def _allow_local_partners(cls):
        cls.env["ir.config_parameter"].set_param(
            "logistics_sync_webhook.allowed_networks", "127.0.0.1/32"
        )

    @classmethod
    def _request_handler(cls, session, request, /, **kwargs):
        # Odoo's test harness raises every timeout under 10 s to 10 s (and cannot compare a
        # (connect, read) pair); timeouts are what these tests check, and they only ever
        # reach local partners.
        assert request.url.startswith("http://127.0.0.1:"), request.url
        return _super_send(session, request, **kwargs)


class WebhookCase(LocalPartnerMixin, LogisticsSyncCase):
    """A live local receiver, allowed by the SSRF guard, and an HTTP subscription to it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.receiver = Receiver(hang_seconds=3)
        cls.receiver.__enter__()
        cls.addClassCleanup(cls.receiver.__exit__, None, None, None)
        cls._allow_local_partners()
        cls.types = cls.env["logistics.sync.event.type"]
        cls.flow = cls._subscription("Orders to WMS", cls.wms, "/hook")
        cls.secret = cls.flow.signing_key_ids._secrets()[0]

    @classmethod
    def _subscription(
        cls, name, system, path, codes=("order.confirmed", "order.cancelled"), **values
    ):
        flow = cls.env["logistics.sync.flow"].create(
            {
                "name": name,
                "system_id": system.id,
                "event_type_ids": [(6, 0, [cls.types._get(code).id for code in codes])],
                "transport": "http",
                "url": cls.receiver.url(path),
                "timeout": 2,
                **values,
            }
        )
        cls.env["logistics.sync.signing.key"]._generate(flow)
        return flow

    def setUp(self):
        super().setUp()
        with self.receiver.lock:
            self.receiver.requests.clear()
            self.receiver.script.clear()

    def _confirmed_order(self):
        order = self._create_order()
        order.action_confirm()
        (self._events(order) | self._events(order.picking_ids))._route()
        return order

    def _messages(self, order, flow=None):
        return self.env["logistics.sync.message"].search(
            [
                ("event_id.aggregate_model", "=", "sale.order"),
                ("event_id.aggregate_id", "=", order.id),
                ("flow_id", "=", (flow or self.flow).id),
            ],
            order="id",
        )
