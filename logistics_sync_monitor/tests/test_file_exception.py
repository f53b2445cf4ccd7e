from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.logistics_sync_wms.tests.files_common import FilePartnerCase
from odoo.addons.queue_job.tests.common import trap_jobs

MUTED = "odoo.addons.logistics_sync_wms.models.logistics_sync_file_exchange"


@tagged("post_install", "-at_install")
class TestFileExceptions(FilePartnerCase):
    def _file_exceptions(self):
        return self.env["logistics.sync.exception"].search([("kind", "=", "file_error")])

    def test_a_file_in_error_opens_an_exception_naming_the_line_retried_from_the_desk(self):
        self._drop("dispatch_1.csv", self._fixture("confirmations_bad.csv"))
        exchange, _trap = self._poll()
        self.assertFalse(self._file_exceptions(), "received: nothing wrong yet")
        with mute_logger(MUTED):
            exchange.process()
        exception = self._file_exceptions()
        self.assertEqual(len(exception), 1)
        self.assertRecordValues(
            exception,
            [
                {
                    "state": "new",
                    "severity": "high",
                    "system_id": self.tpl.id,
                    "source_model": "logistics.sync.file.exchange",
                    "source_id": exchange.id,
                    "detail": "line 4: quantity 'three' is not a number",
                }
            ],
        )
        self.assertIn("dispatch_1.csv", exception.name)
        clerk = new_test_user(
            self.env, login="ls_clerk", groups="logistics_sync_core.group_logistics_sync_user"
        )
        with self.assertRaises(AccessError):
            exception.with_user(clerk).action_retry()
        with trap_jobs() as trap:
            exception.with_user(self.manager).action_retry()
        trap.assert_jobs_count(1, only=exchange.process)
        self.assertEqual(exchange.state, "received")
        # the same error again after the retry: the same exception, counted once more
        with mute_logger(MUTED):
            exchange.process()
        self.assertEqual(self._file_exceptions(), exception)
        self.assertEqual(exception.occurrences, 2)
