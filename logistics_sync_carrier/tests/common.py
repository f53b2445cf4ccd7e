from contextlib import contextmanager

from odoo.addons.logistics_sync_core.tests.common import LogisticsSyncCase
from odoo.addons.logistics_sync_webhook.tests.common import LocalPartnerMixin
from odoo.addons.queue_job.tests.common import trap_jobs

from .sandbox_carrier import SandboxCarrier

API_KEY = "sandbox-api-key-0123456789"
BACKUP_KEY = "backup-api-key-9876543210"
#: The carrier's tracking codes and the milestones they map to.
STATUS_CODES = {
    "PU": "picked_up",
    "ITR": "in_transit",
    "OFD": "out_for_delivery",
    "DLV": "delivered",
    "NDL": "delivery_failed",
    "RTS": "returned",
}


class CarrierCase(LocalPartnerMixin, LogisticsSyncCase):
    """Two real sandbox carriers on 127.0.0.1 (the main one and a fallback), their carrier
    systems and shipping methods, and a customer they serve."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._allow_local_partners()
        cls.sandbox = cls._start_sandbox(API_KEY, "Swift Sandbox")
        cls.backup_sandbox = cls._start_sandbox(BACKUP_KEY, "Backup Sandbox")
        cls.carrier_system = cls.carrier
        cls.backup_system = cls.env["logistics.sync.system"].create(
            {"name": "Backup Carrier", "code": "t_backup", "kind": "carrier"}
        )
        cls.express = cls._shipping_method(
            "Swift Express", cls.carrier_system, cls.sandbox, API_KEY
        )
        cls.backup = cls._shipping_method(
            "Backup Road", cls.backup_system, cls.backup_sandbox, BACKUP_KEY
        )
        cls.express.logistics_sync_fallback_ids = cls.backup
        cls.partner.write(
            {
                "street": "1 Main Street",
                "zip": "1000",
                "city": "Brussels",
                "country_id": cls.env.ref("base.be").id,
            }
        )
        cls.product.weight = 1.5

    @classmethod
    def _start_sandbox(cls, api_key, name):
        sandbox = SandboxCarrier(api_key=api_key, name=name).__enter__()
        cls.addClassCleanup(sandbox.__exit__, None, None, None)
        return sandbox

    @classmethod
    def _shipping_method(cls, name, system, sandbox, api_key):
        system.write({"carrier_base_url": sandbox.url(), "carrier_timeout": 5})
        cls.env["logistics.sync.secret"].create(
            {"system_id": system.id, "name": "carrier_api_key", "value": api_key}
        )
        CodeMap = cls.env["logistics.sync.code.map"]
        CodeMap.create(
            {
                "system_id": system.id,
                "domain": "carrier_service",
                "external_code": "EXP-24",
                "canonical_value": "express",
            }
        )
        for code, milestone in STATUS_CODES.items():
            CodeMap.create(
                {
                    "system_id": system.id,
                    "domain": "status",
                    "external_code": code,
                    "canonical_value": milestone,
                }
            )
        product = cls.env["product.product"].create({"name": f"{name} shipping", "type": "service"})
        return cls.env["delivery.carrier"].create(
            {
                "name": name,
                "delivery_type": "ls_json",
                "product_id": product.id,
                "logistics_sync_system_id": system.id,
                "logistics_sync_service": "express",
            }
        )

    def setUp(self):
        super().setUp()
        for sandbox in (self.sandbox, self.backup_sandbox):
            sandbox.reset()

    def _ready_delivery(self, carrier=None, quantity=2, partner=None):
        """A confirmed order's delivery, reserved, with ``carrier`` as shipping method."""
        order = self._create_order(quantity=quantity, partner=partner)
        order.action_confirm()
        picking = order.picking_ids
        picking.carrier_id = carrier or self.express
        return picking

    @staticmethod
    def _validate(pickings):
        for move in pickings.move_ids:
            move.quantity = move.product_uom_qty
        pickings.move_ids.picked = True
        return pickings.button_validate()

    @contextmanager
    def _jobs(self):
        """Trap the jobs enqueued inside the block; ``run()`` then performs them, and the
        ones they enqueue, as the job runner would (without waiting for ETAs)."""
        with trap_jobs() as trap:

            def run(rounds=None):
                """Perform the waiting jobs, round after round, until none is left (or
                only ``rounds`` rounds)."""
                performed = []
                for _round in range(rounds or 60):
                    jobs, trap.enqueued_jobs = trap.enqueued_jobs, []
                    if not jobs:
                        return performed
                    for job in jobs:
                        # a job enqueued by an HTTP request still holds that request's
                        # (closed) cursor: run it in the test's transaction
                        job.recordset = job.recordset.with_env(self.env)
                        job.perform()
                        performed.append(job)
                if not rounds:
                    self.fail("the jobs kept enqueueing new ones")
                return performed

            trap.run = run
            yield trap

    def _book(self, picking):
        """Validate ``picking`` and run the booking to its end; return its shipment."""
        with self._jobs() as jobs:
            self._validate(picking)
            jobs.run()
        return picking.logistics_sync_shipment_ids.sorted("id")

    def _shipment_events(self, picking, type_code):
        return self._events(picking, type_code)
