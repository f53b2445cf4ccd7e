from contextlib import contextmanager

from freezegun import freeze_time

from odoo import fields
from odoo.tests import new_test_user

from odoo.addons.logistics_sync_carrier.tests.common import STATUS_CODES, CarrierCase
from odoo.addons.logistics_sync_core.tests.common import LogisticsSyncCase


@contextmanager
def at_moment(env, moment):
    """Make records at ``moment``: freezegun stops Python's clock, and the transaction
    timestamp Odoo stamps ``create_date`` with is set to the same moment."""
    cr = env.cr
    saved = cr._now
    with freeze_time(moment):
        cr._now = fields.Datetime.to_datetime(moment)
        try:
            yield
        finally:
            env.flush_all()
            cr._now = saved


class MonitorCase(LogisticsSyncCase):
    """Two warehouses, a warehouse clerk of the first, a flow that records order messages
    for the WMS (messages are dead-lettered through the webhook addon's own refusal)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Exception = cls.env["logistics.sync.exception"]
        # other addons' tests that commit (live server, committed outbox) leave the
        # exceptions their records opened: these tests count from a clean desk
        cls.Exception.search([]).unlink()
        cls.warehouse_b = cls.env["stock.warehouse"].create({"name": "Second", "code": "WH2"})
        cls.clerk = new_test_user(
            cls.env,
            login="ls_clerk",
            name="Clerk A",
            groups="base.group_user,logistics_sync_core.group_logistics_sync_user",
        )
        cls.clerk.logistics_sync_warehouse_ids = cls.warehouse
        cls.flow = cls.env["logistics.sync.flow"].create(
            {
                "name": "Orders to WMS",
                "system_id": cls.wms.id,
                "event_type_ids": [
                    (6, 0, cls.env["logistics.sync.event.type"]._get("order.confirmed").ids)
                ],
                "sla_minutes": 5,
                # a webhook subscription, paused: messages wait (nothing is sent)
                "transport": "http",
                "url": "http://127.0.0.1:9/hook",
                "delivery_state": "paused",
            }
        )

    def _at(self, moment):
        """Make records at ``moment`` (see :func:`at_moment`)."""
        return at_moment(self.env, moment)

    def _routed_order(self, warehouse=None):
        order = self._create_order()
        if warehouse:
            order.warehouse_id = warehouse
        order.action_confirm()
        self._events(order)._route()
        return order, self.env["logistics.sync.message"].search(
            [("event_id.aggregate_id", "=", order.id), ("flow_id", "=", self.flow.id)]
        )

    def _exceptions(self, kind=None):
        domain = [("kind", "=", kind)] if kind else []
        return self.Exception.search(domain)


class CarrierMonitorCase(CarrierCase, MonitorCase):
    """The monitor's case with the carrier addon's two real sandbox carriers."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Shipment = cls.env["logistics.sync.shipment"]

    def _track(self, shipment, code, when, **values):
        """Record what the carrier reports (as its webhook or a poll would hand it over)."""
        event = {"code": code, "occurred_at": when, **values}
        event["milestone"] = STATUS_CODES.get(code, code)
        return shipment._record_milestones([event], "poll")
