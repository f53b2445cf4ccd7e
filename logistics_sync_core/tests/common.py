from contextlib import contextmanager

from odoo import SUPERUSER_ID, Command, api
from odoo.tests import TransactionCase, new_test_user

from odoo.addons.queue_job.tests.common import trap_jobs

from ..models.logistics_sync_event import ROUTE_CHANNEL


class LogisticsSyncCase(TransactionCase):
    """Base class: a company's worth of sync data built once per class, no demo data."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls._setup_users()
        cls._setup_systems()
        cls._setup_products()

    @classmethod
    def _setup_users(cls):
        cls.user = new_test_user(
            cls.env,
            login="ls_user",
            groups="base.group_user,logistics_sync_core.group_logistics_sync_user",
        )
        cls.manager = new_test_user(
            cls.env,
            login="ls_manager",
            groups="base.group_user,logistics_sync_core.group_logistics_sync_manager",
        )

    @classmethod
    def _setup_systems(cls):
        System = cls.env["logistics.sync.system"]
        cls.wms = System.create({"name": "Test WMS", "code": "t_wms", "kind": "wms"})
        cls.carrier = System.create(
            {"name": "Test Carrier", "code": "t_carrier", "kind": "carrier"}
        )
        cls.market = System.create(
            {"name": "Test Market", "code": "t_market", "kind": "marketplace"}
        )

    @classmethod
    def _setup_products(cls):
        cls.warehouse = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.env.company.id)], limit=1
        )
        cls.partner = cls.env["res.partner"].create(
            {"name": "Jane Customer", "email": "jane@example.com", "phone": "+1 555 0100"}
        )
        cls.product = cls.env["product.product"].create(
            {"name": "Widget", "default_code": "WID-1", "is_storable": True, "list_price": 10}
        )
        cls.env["stock.quant"]._update_available_quantity(
            cls.product, cls.warehouse.lot_stock_id, 100
        )

    @classmethod
    def _create_order(cls, quantity=2, product=None, partner=None):
        return cls.env["sale.order"].create(
            {
                "partner_id": (partner or cls.partner).id,
                "warehouse_id": cls.warehouse.id,
                "order_line": [
                    Command.create(
                        {"product_id": (product or cls.product).id, "product_uom_qty": quantity}
                    )
                ],
            }
        )

    def _events(self, record, type_code=None):
        domain = [("aggregate_model", "=", record._name), ("aggregate_id", "=", record.id)]
        if type_code:
            domain.append(("type_code", "=", type_code))
        return self.env["logistics.sync.event"].search(domain, order="sequence")

    @contextmanager
    def _trap_routing(self):
        """Trap jobs, and run the pre-commit hooks (as a commit would) on exit."""
        with trap_jobs() as trap:
            yield trap
            self.env.cr.flush()


class CommittedCase(TransactionCase):
    """For promises only real commits and rollbacks can show: works on separate cursors
    that commit, and deletes what it committed afterwards."""

    def setUp(self):
        super().setUp()
        self._created = []  # (table, id) committed by the test, deleted on cleanup
        self.addCleanup(self._delete_committed)

    @contextmanager
    def _cursor(self):
        with self.registry.cursor() as cr:
            yield api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})

    def _remember(self, records):
        self._created.extend((records._table, rid) for rid in records.ids)
        return records

    def _delete_committed(self):
        with self.registry.cursor() as cr:
            for table, rid in reversed(self._created):
                cr.execute(f'DELETE FROM "{table}" WHERE id = %s', (rid,))  # noqa: S608
            # a routing job still waiting for events deleted above would take the events
            # of the next test's transactions (they join a waiting job): on a database
            # kept between runs, that test would find no job of its own
            env = api.Environment(cr, SUPERUSER_ID, {})
            waiting = env["queue.job"].search(
                [
                    ("channel", "=", ROUTE_CHANNEL),
                    ("model_name", "=", "logistics.sync.event"),
                    ("method_name", "=", "route"),
                    # a started one would also give the next test's first job an eta
                    ("state", "in", ("pending", "enqueued", "started")),
                ]
            )
            orphans = waiting.filtered(lambda job: not job.records.exists())
            if orphans:
                cr.execute("DELETE FROM queue_job WHERE id IN %s", (tuple(orphans.ids),))

    def _remember_emitted(self, env, record):
        """Remember the events emitted about ``record``, their routing jobs and its
        canonical record (deleted after the test, before ``record``); return the jobs."""
        domain = [("aggregate_model", "=", record._name), ("aggregate_id", "=", record.id)]
        events = env["logistics.sync.event"].search(domain)
        jobs = (
            env["queue.job"]
            .search([("model_name", "=", "logistics.sync.event"), ("method_name", "=", "route")])
            .filtered(lambda j: j.records & events)
        )
        self._remember(jobs)
        self._remember(events)
        self._remember(
            env["logistics.sync.record"].search(
                [("res_model", "=", record._name), ("res_id", "=", record.id)]
            )
        )
        return jobs
