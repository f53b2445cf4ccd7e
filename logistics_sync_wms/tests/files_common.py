import tempfile
from pathlib import Path

from odoo import Command

from odoo.addons.logistics_sync_core.tests.common import LogisticsSyncCase
from odoo.addons.logistics_sync_webhook.tests.common import LocalPartnerMixin
from odoo.addons.queue_job.tests.common import trap_jobs

from .sftp_server import SandboxSftp

FIXTURES = Path(__file__).parent / "fixtures"
CONFIRMATION_COLUMNS = [
    ("Order", "fulfilment_id"),
    ("Dispatch", "confirmation_id"),
    ("Item", "sku"),
    ("Qty", "quantity"),
    ("Lot", "lot"),
    ("Box", "package"),
    ("Weight", "package_weight"),
    ("Tracking", "tracking_number"),
]


class FilePartnerCase(LocalPartnerMixin, LogisticsSyncCase):
    """A 3PL that exchanges files over a live sandbox SFTP server on 127.0.0.1 (its
    folders are ``self.partner_root``), with DESADV, INVRPT and CSV formats."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._allow_local_partners()
        cls.partner_root = Path(cls.enterClassContext(tempfile.TemporaryDirectory()))
        cls.sftp = cls.enterClassContext(SandboxSftp(cls.partner_root, users={"odoo": "s3cret"}))
        cls.tpl = cls.env["logistics.sync.system"].create(
            {
                "name": "Acme 3PL",
                "code": "acme_3pl",
                "kind": "3pl",
                "file_transport": "sftp",
                "sftp_host": "127.0.0.1",
                "sftp_port": cls.sftp.port,
                "sftp_user": "odoo",
                "sftp_host_key": cls.sftp.host_key_line,
                "file_timeout": 10,
                "secret_ids": [Command.create({"name": "sftp_password", "value": "s3cret"})],
            }
        )
        cls.formats = cls._setup_formats(cls.tpl)

    @classmethod
    def _setup_formats(cls, system):
        Format = cls.env["logistics.sync.file.format"]
        return {
            "desadv": Format.create(
                {
                    "name": "Dispatch advice",
                    "system_id": system.id,
                    "kind": "confirmation",
                    "file_type": "edifact",
                    "file_pattern": "DESADV*",
                }
            ),
            "invrpt": Format.create(
                {
                    "name": "Inventory report",
                    "system_id": system.id,
                    "kind": "snapshot",
                    "file_type": "edifact",
                    "file_pattern": "INVRPT*",
                }
            ),
            "csv": Format.create(
                {
                    "name": "Dispatch CSV",
                    "system_id": system.id,
                    "kind": "confirmation",
                    "file_type": "csv",
                    "file_pattern": "*.csv",
                    "csv_delimiter": ";",
                    "column_ids": [
                        Command.create({"column": column, "field": field, "sequence": n})
                        for n, (column, field) in enumerate(CONFIRMATION_COLUMNS)
                    ],
                }
            ),
        }

    def setUp(self):
        super().setUp()
        self.sftp.reset()

    def _drop(self, name, data, root=None):
        """The partner puts a file in its outbox."""
        path = (root or self.partner_root) / "outbox" / name
        path.write_bytes(data if isinstance(data, bytes) else data.encode())
        return path

    def _fixture(self, name):
        return (FIXTURES / name).read_bytes()

    def _poll(self, system=None):
        """Run a poll job; return the exchange records it created and the processing jobs
        it enqueued."""
        system = system or self.tpl
        Exchange = self.env["logistics.sync.file.exchange"]
        before = Exchange.search([]).ids
        with trap_jobs() as trap:
            system.file_poll()
        return Exchange.search([("id", "not in", before)], order="id"), trap

    def _folder(self, name, root=None):
        return sorted(p.name for p in ((root or self.partner_root) / name).iterdir())
