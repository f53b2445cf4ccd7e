from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import MonitorCase


@tagged("post_install", "-at_install")
class TestConsole(MonitorCase):
    def _failed_job(self, channel, records):
        job = records.with_delay(channel=channel).deliver_pending()
        record = self.env["queue.job"].search([("uuid", "=", job.uuid)])
        record.write(
            {
                "state": "failed",
                "exc_message": "ConnectionError: refused",
                "exc_name": "ConnectionError",
            }
        )
        return record

    def test_failed_jobs_of_our_channels_are_listed_per_system_and_requeued_with_a_log(self):
        ours = self._failed_job("root.logistics_sync.deliver.t_wms", self.flow)
        theirs = self._failed_job("root", self.flow)
        self.assertEqual(ours.logistics_sync_system_id, self.wms)
        visible = self.env["queue.job"].with_user(self.manager).search([("state", "=", "failed")])
        self.assertEqual(visible, ours, "the console shows our channels only")
        with self.assertRaises(AccessError):
            ours.with_user(self.user).action_logistics_sync_requeue()
        (ours | theirs).with_user(self.manager).action_logistics_sync_requeue()
        self.assertEqual(ours.state, "pending")
        self.assertEqual(theirs.state, "failed", "jobs of other channels are left alone")
        log = self.env["logistics.sync.console.log"].search([])
        self.assertEqual(
            (log.action, log.count, log.user_id, log.res_ids),
            ("requeue", 1, self.manager, ours.ids),
        )

    def test_bulk_replay_through_the_webhook_wizard_is_logged(self):
        messages = self._routed_order()[1] | self._routed_order()[1]
        messages._refuse("boom")
        wizard = (
            self.env["logistics.sync.replay.wizard"]
            .with_user(self.manager)
            .with_context(active_model="logistics.sync.message", active_ids=messages.ids)
            .create({})
        )
        wizard.action_replay()
        self.assertEqual(set(messages.mapped("state")), {"pending"})
        log = self.env["logistics.sync.console.log"].search([])
        self.assertEqual((log.action, log.count, log.user_id), ("replay", 2, self.manager))
        self.assertEqual(sorted(log.res_ids), sorted(messages.ids))
        self.assertEqual(set(self._exceptions("dead_letter").mapped("state")), {"resolved"})
