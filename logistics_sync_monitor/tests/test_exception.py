import json

import psycopg2

from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.logistics_sync_core.saga import Step, Workflow

from .common import MonitorCase

WORKFLOW = Workflow(
    code="test_monitor", name="Monitor test", steps=[Step("book", "_test_book", "_test_unbook")]
)


@tagged("post_install", "-at_install")
class TestExceptionSources(MonitorCase):
    def test_dead_letters_make_one_exception_per_record_and_destination(self):
        order, message = self._routed_order()
        message._refuse("HTTP 500 from the WMS")
        [exception] = self._exceptions("dead_letter")
        self.assertEqual(
            (exception.state, exception.occurrences, exception.severity),
            ("new", 1, "high"),
        )
        self.assertEqual(exception.system_id, self.wms)
        self.assertEqual((exception.res_model, exception.res_id), ("sale.order", order.id))
        self.assertEqual(exception.warehouse_id, self.warehouse)
        self.assertEqual((exception.source_model, exception.source_id), (message._name, message.id))
        self.assertEqual(exception.detail, "HTTP 500 from the WMS")
        self.assertIn(order.name, exception.name)
        # the same message replayed and dead again: counted on the same exception
        message._replay()
        self.assertEqual(exception.state, "resolved", "replayed: no dead message left")
        self.assertEqual(exception.resolution, "auto")
        message._refuse("HTTP 500 again")
        self.assertEqual(self._exceptions("dead_letter"), exception)
        self.assertEqual((exception.state, exception.occurrences), ("new", 2))
        self.assertEqual(exception.detail, "HTTP 500 again")
        # another order: another exception
        _other, other_message = self._routed_order()
        other_message._refuse("HTTP 500")
        self.assertEqual(len(self._exceptions("dead_letter")), 2)

    def test_the_dedup_key_is_enforced_by_postgresql(self):
        _order, message = self._routed_order()
        message._refuse("boom")
        exception = self._exceptions("dead_letter")
        with mute_logger("odoo.sql_db"), self.assertRaises(psycopg2.errors.UniqueViolation):
            with self.env.cr.savepoint():
                self.env.cr.execute(
                    """
                    INSERT INTO logistics_sync_exception
                        (dedup_key, kind, name, severity, state, occurrences)
                    VALUES (%s, 'dead_letter', 'copy', 'low', 'new', 1)
                    """,
                    (exception.dedup_key,),
                )

    def test_retry_from_the_exception_replays_the_dead_messages_for_managers_only(self):
        _order, message = self._routed_order()
        message._refuse("boom")
        exception = self._exceptions("dead_letter")
        with self.assertRaises(AccessError):
            exception.with_user(self.clerk).action_retry()
        exception.with_user(self.manager).action_retry()
        self.assertEqual(message.state, "pending")
        self.assertEqual(exception.state, "resolved")
        log = self.env["logistics.sync.console.log"].search([])
        self.assertEqual((log.action, log.count, log.user_id), ("replay", 1, self.manager))

    def test_unknown_code_and_inbound_error_then_map_and_retry_resolve_both(self):
        picking = self._routed_order()[0].picking_ids
        canonical = self.env["logistics.sync.record"]._canonical_id(picking)
        Inbound = self.env["logistics.sync.inbound.message"]
        body = json.dumps(
            {"type": "shipment.status", "data": {"picking_id": canonical, "status": "XX9"}}
        )
        message = Inbound.create(
            {
                "system_id": self.carrier.id,
                "message_id": "in-1",
                "type_code": "shipment.status",
                "body": body,
            }
        )
        message.process()
        self.assertEqual(message.state, "error")
        inbound_error = self._exceptions("inbound_error")
        unknown = self._exceptions("unknown_code")
        self.assertEqual(len(inbound_error), 1)
        self.assertEqual(unknown.system_id, self.carrier)
        self.assertIn("XX9", unknown.name)
        self.assertIn("XX9", inbound_error.detail)
        # map the code from the desk: the quarantine form opens, the manager maps it
        action = unknown.with_user(self.manager).action_map()
        quarantine = self.env[action["res_model"]].browse(action["res_id"])
        quarantine.canonical_value = "in_transit"
        quarantine.with_user(self.manager).action_map()
        self.assertEqual(unknown.state, "resolved")
        # retry from the desk: the message is queued again, applied by its drain
        inbound_error.with_user(self.manager).action_retry()
        self.assertEqual(inbound_error.state, "new", "queued again, not applied yet")
        self.carrier.inbound_drain()
        self.assertEqual(message.state, "done")
        self.assertEqual(inbound_error.state, "resolved")

    def test_parked_change_accepted_from_the_exception(self):
        order, _message = self._routed_order(self.warehouse_b)
        picking = order.picking_ids
        self.env["logistics.sync.ownership.rule"].create(
            {
                "name": "The carrier owns the tracking reference",
                "model_id": self.env["ir.model"]._get_id("stock.picking"),
                "scope": "fields",
                "field_names": "carrier_tracking_ref",
                "owner_system_id": self.carrier.id,
                "on_violation": "park",
            }
        )
        allowed = self.env["logistics.sync.ownership.rule"]._check_change(
            self.wms, picking, {"carrier_tracking_ref": "TRK-1"}
        )
        self.assertFalse(allowed)
        exception = self._exceptions("parked_change")
        self.assertEqual(exception.warehouse_id, self.warehouse_b)
        self.assertEqual((exception.res_model, exception.res_id), ("stock.picking", picking.id))
        exception.with_user(self.manager).action_accept()
        self.assertEqual(picking.carrier_tracking_ref, "TRK-1")
        self.assertEqual(exception.state, "resolved")

    def test_failed_saga_opens_an_exception_and_retry_is_offered(self):
        Saga = type(self.env["logistics.sync.saga"])

        def fail(saga):
            raise ValueError("carrier refused")

        patches = {
            "_get_workflows": lambda model: {WORKFLOW.code: WORKFLOW},
            "_test_book": lambda saga: None,
            "_test_unbook": fail,
        }
        for attribute, function in patches.items():
            patcher = self._patch(Saga, attribute, function)
            patcher.start()
            self.addCleanup(patcher.stop)
        saga = self.env["logistics.sync.saga"].create(
            {"name": "Book", "workflow": WORKFLOW.code, "state": "compensating"}
        )
        saga.step_ids.create(
            {"saga_id": saga.id, "name": "book", "kind": "action", "state": "done"}
        )
        saga._run_next_step()
        self.assertEqual(saga.state, "failed")
        exception = self._exceptions("saga_failed")
        self.assertEqual((exception.severity, exception.state), ("critical", "new"))
        self.assertTrue(exception.can_retry)
        exception.action_retry()
        self.assertEqual(saga.state, "compensating")

    def _patch(self, cls, attribute, function):
        from unittest import mock

        return mock.patch.object(cls, attribute, function, create=True)


@tagged("post_install", "-at_install")
class TestExceptionDesk(MonitorCase):
    def _open(self, key, warehouse=None, system=None, kind="dead_letter"):
        return self.Exception._open(
            kind,
            key,
            {
                "name": key,
                "warehouse_id": warehouse.id if warehouse else False,
                "system_id": (system or self.wms).id,
            },
        )[0]

    def test_staff_see_their_warehouses_and_those_of_none_managers_all(self):
        mine = self._open("a", self.warehouse)
        other = self._open("b", self.warehouse_b)
        nowhere = self._open("c")
        as_clerk = self.Exception.with_user(self.clerk).search([])
        self.assertEqual(as_clerk, mine | nowhere)
        self.assertEqual(self.Exception.with_user(self.manager).search([]), mine | other | nowhere)
        with self.assertRaises(AccessError):
            other.with_user(self.clerk).read(["name"])
        mine_filter = self.Exception.with_user(self.clerk).search([("is_my_warehouse", "=", True)])
        self.assertEqual(mine_filter, mine)

    def test_assignment_rules_assign_the_first_match(self):
        team = self.env["logistics.sync.exception.team"].create(
            {"name": "Night shift", "member_ids": [(6, 0, self.user.ids)]}
        )
        Rule = self.env["logistics.sync.exception.rule"]
        Rule.create(
            {
                "sequence": 1,
                "kind": "unknown_code",
                "system_id": self.carrier.id,
                "user_id": self.manager.id,
            }
        )
        Rule.create({"sequence": 2, "warehouse_id": self.warehouse.id, "user_id": self.clerk.id})
        Rule.create({"sequence": 3, "team_id": team.id})
        code = self._open("code", system=self.carrier, kind="unknown_code")
        in_a = self._open("in_a", self.warehouse)
        in_b = self._open("in_b", self.warehouse_b)
        self.assertEqual((code.user_id, code.state), (self.manager, "assigned"))
        self.assertEqual((in_a.user_id, in_a.state), (self.clerk, "assigned"))
        self.assertEqual(
            (in_b.user_id, in_b.team_id, in_b.state), (self.env["res.users"], team, "new")
        )

    def test_suggestion_learns_from_who_resolved_similar_exceptions_and_is_not_applied(self):
        for index, user in enumerate([self.clerk, self.clerk, self.clerk, self.manager]):
            self._open(f"old{index}").with_user(user).action_resolve()
        self._open("other kind", kind="unknown_code").with_user(self.manager).action_resolve()
        fresh = self._open("fresh")
        self.assertEqual(fresh.suggested_user_id, self.clerk)
        self.assertIn("3 of the 4", fresh.suggestion_basis)
        self.assertFalse(fresh.user_id, "a suggestion is never applied by itself")
        fresh.action_assign_suggested()
        self.assertEqual((fresh.user_id, fresh.state), (self.clerk, "assigned"))
        unlike = self._open("unlike", system=self.market)
        self.assertFalse(unlike.suggested_user_id, "no history for this system")

    def test_dismissed_with_a_reason_stays_dismissed_but_counts(self):
        exception = self._open("noise")
        wizard = (
            self.env["logistics.sync.exception.dismiss.wizard"]
            .with_user(self.clerk)
            .create({"exception_ids": [(6, 0, exception.ids)], "reason": "Known test partner"})
        )
        wizard.action_dismiss()
        self.assertEqual((exception.state, exception.resolved_by_id), ("dismissed", self.clerk))
        self.assertIn("Known test partner", exception.resolution_note)
        again, status = self.Exception._open("dead_letter", "noise", {"name": "noise"})
        self.assertEqual(
            (again, status, again.state, again.occurrences),
            (exception, "dismissed", "dismissed", 2),
        )

    def test_reconcile_resolves_exceptions_whose_cause_went_away_behind_the_orm(self):
        _order, message = self._routed_order()
        message._refuse("boom")
        exception = self._exceptions("dead_letter")
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE logistics_sync_message SET state = 'sent' WHERE id = %s", (message.id,)
        )
        message.invalidate_recordset(["state"])
        self.assertEqual(self.Exception._cron_reconcile(), 1)
        self.assertEqual(exception.state, "resolved")
