"""Files picked up from a live SFTP server (and a watched folder): stored, checksummed,
deduplicated, parsed with line-numbered errors and moved on the partner side."""

import hashlib
import tempfile
from pathlib import Path

import psycopg2

from odoo.exceptions import AccessError
from odoo.tests import new_test_user
from odoo.tools import mute_logger

from odoo.addons.queue_job.tests.common import trap_jobs

from .. import file_transport
from .files_common import FilePartnerCase


class TestFileExchange(FilePartnerCase):
    def test_sftp_pickup_stores_the_file_and_enqueues_its_processing(self):
        data = self._fixture("desadv_bad_quantity.edi")
        self._drop("DESADV_4712.edi", data)
        exchanges, trap = self._poll()
        self.assertEqual(len(exchanges), 1)
        self.assertRecordValues(
            exchanges,
            [
                {
                    "name": "DESADV_4712.edi",
                    "direction": "in",
                    "state": "received",
                    "format_id": self.formats["desadv"].id,
                    "kind": "confirmation",
                    "checksum": hashlib.sha256(data).hexdigest(),
                    "size": len(data),
                }
            ],
        )
        self.assertEqual(exchanges._raw(), data)
        trap.assert_jobs_count(1, only=exchanges.process)
        self.assertEqual(self.sftp.stats().get("opened"), 1)
        # still in the outbox until processed; a second poll does not take it twice
        self.assertEqual(self._folder("outbox"), ["DESADV_4712.edi"])
        again, trap = self._poll()
        self.assertFalse(again)
        trap.assert_jobs_count(0)

    def test_malformed_file_is_an_error_naming_the_line_and_moved_to_error(self):
        self._drop("DESADV_4712.edi", self._fixture("desadv_bad_quantity.edi"))
        exchange, _trap = self._poll()
        with mute_logger("odoo.addons.logistics_sync_wms.models.logistics_sync_file_exchange"):
            exchange.process()
        self.assertRecordValues(
            exchange,
            [
                {
                    "state": "error",
                    "error_line": 8,
                    "error_message": "quantity 'two' is not a number",
                    "archived_as": "error/DESADV_4712.edi",
                    "archive_error": False,
                }
            ],
        )
        self.assertEqual(self._folder("outbox"), [])
        self.assertEqual(self._folder("error"), ["DESADV_4712.edi"])
        self.assertEqual(self._folder("processed"), [])

    def test_reuploaded_file_is_a_duplicate_never_applied_again(self):
        data = self._fixture("desadv_bad_quantity.edi")
        self._drop("DESADV_4712.edi", data)
        first, _trap = self._poll()
        with mute_logger("odoo.addons.logistics_sync_wms.models.logistics_sync_file_exchange"):
            first.process()
        # the partner sends the very same file again
        self._drop("DESADV_4712.edi", data)
        duplicate, trap = self._poll()
        trap.assert_jobs_count(0)  # nothing to apply
        self.assertRecordValues(
            duplicate,
            [
                {
                    "state": "duplicate",
                    "duplicate_of_id": first.id,
                    "checksum": first.checksum,
                }
            ],
        )
        self.assertTrue(duplicate.archived_as.startswith("error/DESADV_4712.edi."))
        self.assertIn("press Retry", duplicate.error_message)
        self.assertEqual(self._folder("outbox"), [])
        self.assertEqual(len(self._folder("error")), 2)
        # same name, other content: a new file
        self._drop("DESADV_4712.edi", data.replace(b"two", b"2"))
        changed, trap = self._poll()
        self.assertEqual(changed.state, "received")
        trap.assert_jobs_count(1, only=changed.process)

    def test_uniqueness_is_enforced_by_postgresql(self):
        self._drop("DESADV_4712.edi", self._fixture("desadv_bad_quantity.edi"))
        exchange, _trap = self._poll()
        with self.assertRaises(psycopg2.errors.UniqueViolation), mute_logger("odoo.sql_db"):
            with self.env.cr.savepoint():
                self.env.cr.execute(
                    """
                    INSERT INTO logistics_sync_file_exchange
                        (name, system_id, direction, checksum, state)
                    VALUES (%s, %s, 'in', %s, 'received')
                    """,
                    (exchange.name, self.tpl.id, exchange.checksum),
                )

    def test_file_no_format_matches(self):
        self._drop("README.txt", "hello")
        exchange, _trap = self._poll()
        with mute_logger("odoo.addons.logistics_sync_wms.models.logistics_sync_file_exchange"):
            exchange.process()
        self.assertEqual(exchange.state, "error")
        self.assertIn("No incoming file format", exchange.error_message)
        self.assertEqual(self._folder("error"), ["README.txt"])

    def test_retry_after_fixing_the_column_mapping(self):
        csv_text = self._fixture("confirmations_acme.csv").replace(b"Qty", b"Quantity")
        self._drop("dispatch_1.csv", csv_text)
        exchange, _trap = self._poll()
        with mute_logger("odoo.addons.logistics_sync_wms.models.logistics_sync_file_exchange"):
            exchange.process()
        self.assertRecordValues(exchange, [{"state": "error", "error_line": 1}])
        self.assertEqual(exchange.error_message, "the header has no column 'Qty'")
        self.assertEqual(self._folder("error"), ["dispatch_1.csv"])
        # the manager fixes the mapping and retries
        self.formats["csv"].column_ids.filtered(lambda c: c.field == "quantity").column = "Quantity"
        retried = exchange.with_user(self.manager)
        with trap_jobs() as trap:
            retried.action_retry()
        trap.assert_jobs_count(1, only=exchange.process)
        self.assertEqual(exchange.state, "received")
        self.assertEqual(exchange._check_file(exchange._text()), 3)  # now every line reads
        # the job runs as the manager who pressed Retry: the fixed file is applied
        with mute_logger("odoo.addons.logistics_sync_wms.models.logistics_sync_wms_confirmation"):
            retried.process()
        self.assertEqual(exchange.state, "applied")
        self.assertEqual(len(exchange.result_ids), 2)
        # the file leaves the partner's error folder for its processed folder
        self.assertRecordValues(
            exchange, [{"archived_as": "processed/dispatch_1.csv", "archive_error": False}]
        )
        self.assertEqual(self._folder("error"), [])
        self.assertEqual(self._folder("processed"), ["dispatch_1.csv"])
        self.assertEqual(self.sftp.stats().get("renamed"), 2)

    def test_unreachable_partner_is_reported_not_raised(self):
        self.tpl.sftp_host_key = "ecdsa-sha2-nistp256 AAAAnotthekey"
        with mute_logger(file_transport.LOG_CHANNEL):
            exchanges, trap = self._poll()
        self.assertFalse(exchanges)
        self.assertNotIn("logins", self.sftp.stats())  # the password never went out

    def test_ssrf_guard_applies_to_sftp(self):
        self.env["ir.config_parameter"].set_param("logistics_sync_webhook.allowed_networks", "")
        self._drop("DESADV_4712.edi", self._fixture("desadv_bad_quantity.edi"))
        result = self.tpl.file_poll()
        self.assertIn("SSRF", result)
        self.assertEqual(self.sftp.stats(), {})

    def test_cron_polls_due_systems(self):
        with trap_jobs() as trap:
            self.env["logistics.sync.system"]._cron_file_poll()
        trap.assert_jobs_count(1, only=self.tpl.file_poll)
        self.tpl.file_last_poll_at = "2999-01-01 00:00:00"
        with trap_jobs() as trap:
            self.env["logistics.sync.system"]._cron_file_poll()
        trap.assert_jobs_count(0)


class TestWatchedFolder(FilePartnerCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.folder = Path(cls.enterClassContext(tempfile.TemporaryDirectory()))
        for name in ("outbox", "inbox", "processed", "error"):
            (cls.folder / name).mkdir()
        cls.watched = cls.env["logistics.sync.system"].create(
            {
                "name": "Local 3PL",
                "code": "local_3pl",
                "kind": "3pl",
                "file_transport": "folder",
                "file_folder": str(cls.folder),
            }
        )
        cls._setup_formats(cls.watched)

    def setUp(self):
        super().setUp()
        for path in self.folder.glob("*/*"):
            path.unlink()

    def test_watched_folder_pickup_error_and_duplicate(self):
        data = self._fixture("confirmations_bad.csv")
        self._drop("dispatch_7.csv", data, root=self.folder)
        exchange, trap = self._poll(self.watched)
        trap.assert_jobs_count(1, only=exchange.process)
        with mute_logger("odoo.addons.logistics_sync_wms.models.logistics_sync_file_exchange"):
            exchange.process()
        self.assertRecordValues(
            exchange,
            [
                {
                    "state": "error",
                    "error_line": 4,
                    "error_message": "quantity 'three' is not a number",
                    "archived_as": "error/dispatch_7.csv",
                }
            ],
        )
        self.assertEqual(self._folder("error", self.folder), ["dispatch_7.csv"])
        self._drop("dispatch_7.csv", data, root=self.folder)
        duplicate, trap = self._poll(self.watched)
        trap.assert_jobs_count(0)
        self.assertEqual(duplicate.state, "duplicate")
        self.assertEqual(self._folder("outbox", self.folder), [])
        self.assertEqual(len(self._folder("error", self.folder)), 2)
        self.assertEqual(self._folder("processed", self.folder), [])

    def test_retried_file_leaves_the_error_folder_once_applied(self):
        csv_format = self.env["logistics.sync.file.format"].search(
            [("system_id", "=", self.watched.id), ("file_type", "=", "csv")]
        )
        csv_format.column_ids.filtered(lambda c: c.field == "quantity").column = "Quantity"
        self._drop("dispatch_8.csv", self._fixture("confirmations_acme.csv"), root=self.folder)
        exchange, _trap = self._poll(self.watched)
        with mute_logger("odoo.addons.logistics_sync_wms.models.logistics_sync_file_exchange"):
            exchange.process()
        self.assertRecordValues(
            exchange, [{"state": "error", "archived_as": "error/dispatch_8.csv"}]
        )
        # a retry that fails again leaves it where it is
        exchange.action_retry()
        with mute_logger("odoo.addons.logistics_sync_wms.models.logistics_sync_file_exchange"):
            exchange.process()
        self.assertRecordValues(
            exchange, [{"state": "error", "archived_as": "error/dispatch_8.csv"}]
        )
        self.assertEqual(self._folder("error", self.folder), ["dispatch_8.csv"])
        # fixed, retried and applied: moved to processed, and the record says so
        csv_format.column_ids.filtered(lambda c: c.field == "quantity").column = "Qty"
        exchange.action_retry()
        with mute_logger("odoo.addons.logistics_sync_wms.models.logistics_sync_wms_confirmation"):
            exchange.process()
        self.assertRecordValues(
            exchange,
            [
                {
                    "state": "applied",
                    "archived_as": "processed/dispatch_8.csv",
                    "archive_error": False,
                }
            ],
        )
        self.assertEqual(self._folder("error", self.folder), [])
        self.assertEqual(self._folder("processed", self.folder), ["dispatch_8.csv"])

    def test_move_out_of_the_error_folder_is_tried_again_at_the_next_poll(self):
        csv_format = self.env["logistics.sync.file.format"].search(
            [("system_id", "=", self.watched.id), ("file_type", "=", "csv")]
        )
        quantity = csv_format.column_ids.filtered(lambda c: c.field == "quantity")
        quantity.column = "Quantity"
        self._drop("dispatch_9.csv", self._fixture("confirmations_acme.csv"), root=self.folder)
        exchange, _trap = self._poll(self.watched)
        with mute_logger("odoo.addons.logistics_sync_wms.models.logistics_sync_file_exchange"):
            exchange.process()
        self.assertEqual(exchange.archived_as, "error/dispatch_9.csv")
        quantity.column = "Qty"
        processed = self.folder / "processed"
        processed.rmdir()
        processed.write_text("the partner's share is broken for now")
        exchange.action_retry()
        with mute_logger("odoo.addons.logistics_sync_wms.models.logistics_sync_wms_confirmation"):
            exchange.process()
        self.assertEqual(exchange.state, "applied")
        self.assertEqual(exchange.archived_as, "error/dispatch_9.csv")
        self.assertIn("cannot move dispatch_9.csv to processed", exchange.archive_error)
        processed.unlink()
        processed.mkdir()
        self._poll(self.watched)
        self.assertRecordValues(
            exchange, [{"archived_as": "processed/dispatch_9.csv", "archive_error": False}]
        )
        self.assertEqual(self._folder("error", self.folder), [])
        self.assertEqual(self._folder("processed", self.folder), ["dispatch_9.csv"])


class TestFileAccess(FilePartnerCase):
    def test_users_read_managers_configure(self):
        self._drop("DESADV_4712.edi", self._fixture("desadv_bad_quantity.edi"))
        exchange, _trap = self._poll()
        with mute_logger("odoo.addons.logistics_sync_wms.models.logistics_sync_file_exchange"):
            exchange.process()
        as_user = exchange.with_user(self.user)
        self.assertEqual(as_user.error_line, 8)  # a warehouse user sees the error
        self.assertEqual(as_user.content, exchange.content)
        with self.assertRaises(AccessError):
            as_user.action_retry()
        with self.assertRaises(AccessError):
            self.formats["csv"].with_user(self.user).write({"csv_delimiter": ","})
        with self.assertRaises(AccessError):
            self.tpl.with_user(self.user).write({"sftp_host": "10.0.0.1"})
        with self.assertRaises(AccessError):
            self.env["logistics.sync.file.exchange"].with_user(self.manager).create(
                {"name": "x", "system_id": self.tpl.id, "checksum": "0"}
            )
        self.formats["csv"].with_user(self.manager).csv_delimiter = ","
        # an inventory user reads the files of the own company only
        stock_user = new_test_user(self.env, login="stock_clerk", groups="stock.group_stock_user")
        Exchange = self.env["logistics.sync.file.exchange"].with_user(stock_user)
        self.assertEqual(Exchange.search([]), exchange)
        other_company = self.env["res.company"].create({"name": "Other Co"})
        self.tpl.company_id = other_company
        self.env.flush_all()
        self.assertFalse(Exchange.search([("id", "=", exchange.id)]))
        # the SFTP password stays out of reach of users and is stored encrypted
        with self.assertRaises(AccessError):
            self.env["logistics.sync.secret"].with_user(self.user).search([])
        secret = self.tpl.secret_ids.filtered(lambda s: s.name == "sftp_password")
        self.assertNotIn("s3cret", secret.sudo().ciphertext)
