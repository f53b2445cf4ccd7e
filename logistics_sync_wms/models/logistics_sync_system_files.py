import logging
from datetime import timedelta
from pathlib import Path

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from odoo.addons.logistics_sync_webhook import http_client

from .. import file_transport
from .stock_warehouse import OWNED_LINE_FIELDS

_logger = logging.getLogger(__name__)

#: Credentials (core encrypted secrets) an SFTP login uses.
SECRET_SFTP_PASSWORD = "sftp_password"
SECRET_SFTP_KEY = "sftp_private_key"
SECRET_SFTP_PASSPHRASE = "sftp_key_passphrase"
POLL_CHANNEL = "root.logistics_sync.files"


class LogisticsSyncSystem(models.Model):
    _inherit = "logistics.sync.system"

    file_transport = fields.Selection(
        [("none", "No files"), ("folder", "Watched folder"), ("sftp", "SFTP")],
        default="none",
        required=True,
        help="How files are exchanged with this partner. Watched folder: a folder of the Odoo "
        "server (a mounted share). SFTP: the partner's SFTP server.",
    )
    file_folder = fields.Char(
        string="Folder on the Odoo server",
        help="Watched folder transport: the partner's folder as the Odoo server sees it; the "
        "four folders below are taken inside it.",
    )
    sftp_host = fields.Char(string="SFTP host")
    sftp_port = fields.Integer(string="SFTP port", default=22)
    sftp_user = fields.Char(
        string="SFTP user",
        help="The login. Its password is the credential 'sftp_password', or its private key "
        "(OpenSSH or PEM text) the credential 'sftp_private_key' (with 'sftp_key_passphrase' "
        "when the key is encrypted).",
    )
    sftp_host_key = fields.Char(
        string="SFTP host key",
        help="The server's public key, '<type> <base64>' (a line of known_hosts without the "
        "host name). Connections to a server showing another key are refused. Fetch it with "
        "the button, then check it with the partner.",
    )
    file_pickup_path = fields.Char(
        string="Pick up from",
        default="outbox",
        help="The partner's outbox: the folder Odoo reads the partner's files from.",
    )
    file_upload_path = fields.Char(
        string="Upload to",
        default="inbox",
        help="The partner's inbox: the folder Odoo writes its files to.",
    )
    file_processed_path = fields.Char(
        string="Processed folder",
        default="processed",
        help="Where a file picked up is moved once applied (or found to be a duplicate).",
    )
    file_error_path = fields.Char(
        string="Error folder",
        default="error",
        help="Where a file picked up is moved when it cannot be read or applied.",
    )
    file_poll_interval = fields.Integer(
        string="Poll every (minutes)", default=5, help="How often the partner's files are read."
    )
    file_timeout = fields.Integer(
        string="File transport timeout (s)",
        default=30,
        help="Longest wait for the partner's server on each step.",
    )
    file_last_poll_at = fields.Datetime(readonly=True, copy=False)
    file_format_ids = fields.One2many("logistics.sync.file.format", "system_id")
    file_exchange_ids = fields.One2many("logistics.sync.file.exchange", "system_id")
    file_exchange_error_count = fields.Integer(compute="_compute_file_exchange_error_count")

    # inventory snapshots
    inventory_auto_approve = fields.Boolean(
        string="Auto-approve within tolerance",
        help="When a snapshot is reconciled, differences within tolerance are approved and "
        "applied at once; only those beyond it wait for a manager.",
    )
    inventory_chunk_size = fields.Integer(
        string="Snapshot lines per job",
        default=5000,
        help="Snapshots are processed by jobs of this many lines each, one after the other.",
    )
    inventory_snapshot_ids = fields.One2many("logistics.sync.inventory.snapshot", "system_id")

    @api.constrains("inventory_chunk_size")
    def _check_inventory_chunk_size(self):
        for system in self:
            if not 1 <= system.inventory_chunk_size <= 100000:
                raise ValidationError(_("The snapshot lines per job must be 1 to 100,000."))

    @api.constrains("file_transport", "file_poll_interval", "file_timeout", "sftp_port")
    def _check_file_settings(self):
        for system in self:
            if system.file_transport == "none":
                continue
            if system.file_poll_interval < 1 or not 1 <= system.file_timeout <= 300:
                raise ValidationError(
                    _(
                        "Files are polled every minute at most, with a timeout between 1 and "
                        "300 seconds."
                    )
                )
            if system.file_transport == "sftp" and not (
                system.sftp_host and system.sftp_user and 0 < system.sftp_port < 65536
            ):
                raise ValidationError(_("An SFTP partner needs a host, a port and a user."))
            if system.file_transport == "folder" and not system.file_folder:
                raise ValidationError(_("A watched-folder partner needs its folder."))

    def _compute_file_exchange_error_count(self):
        groups = self.env["logistics.sync.file.exchange"]._read_group(
            [("system_id", "in", self.ids), ("state", "=", "error")], ["system_id"], ["__count"]
        )
        counts = {system.id: count for system, count in groups}
        for system in self:
            system.file_exchange_error_count = counts.get(system.id, 0)

    # ---------------------------------------------------------------- transports
    def _file_folders(self):
        self.ensure_one()
        return {
            "pickup": self.file_pickup_path,
            "upload": self.file_upload_path,
            "processed": self.file_processed_path,
            "error": self.file_error_path,
        }

    def _file_transport(self):
        """An open connection to this partner's files (a context manager); one method per
        transport, ``_file_transport_<transport>``.

        :raises file_transport.TransportError: the files cannot be reached.
        """
        self.ensure_one()
        opener = getattr(self, f"_file_transport_{self.file_transport}", None)
        if opener is None:
            raise file_transport.TransportError(f"{self.name} exchanges no files")
        return opener()

    def _file_transport_folder(self):
        return file_transport.FolderTransport(self.file_folder, self._file_folders())

    def _sftp_socket(self):
        try:
            return self._guarded_socket(self.sftp_host, self.sftp_port, self.file_timeout)
        except http_client.DestinationNotAllowed as exc:
            raise file_transport.TransportError(
                f"address refused by the SSRF guard: {exc}"
            ) from exc
        except OSError as exc:
            raise file_transport.TransportError(
                f"cannot connect to {self.sftp_host}:{self.sftp_port}: {exc}"
            ) from exc

    def _file_transport_sftp(self):
        private_key = None
        key_text = self._secret(SECRET_SFTP_KEY)
        if key_text:
            private_key = file_transport.load_private_key(
                key_text, self._secret(SECRET_SFTP_PASSPHRASE) or None
            )
        return file_transport.SftpTransport(
            self._sftp_socket(),
            self.sftp_user,
            self._file_folders(),
            password=self._secret(SECRET_SFTP_PASSWORD) or None,
            private_key=private_key,
            host_key=self.sftp_host_key or None,
            timeout=self.file_timeout,
        )

    def action_fetch_sftp_host_key(self):
        """Read the key the SFTP server shows and pin it (trust on first use: the manager
        confirms it with the partner)."""
        self.ensure_one()
        try:
            key = file_transport.fetch_host_key(self._sftp_socket(), self.file_timeout)
        except file_transport.TransportError as exc:
            raise UserError(_("Cannot read the host key: %s", exc)) from exc
        self.sftp_host_key = key
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Host key pinned"),
                "message": _("Check it with the partner before exchanging files: %s", key),
                "sticky": True,
                "type": "warning",
            },
        }

    def action_file_test(self):
        """Connect and list the pick-up folder: a configuration check for managers."""
        self.ensure_one()
        try:
            with self._file_transport() as files:
                waiting = files.list_pickup()
        except file_transport.TransportError as exc:
            raise UserError(_("The partner's files cannot be reached: %s", exc)) from exc
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Connection works"),
                "message": _("%s file(s) waiting to be picked up.", len(waiting)),
                "type": "success",
            },
        }

    def action_file_create_folders(self):
        """Watched folder: create the folder and its four sub-folders where missing."""
        for system in self.filtered(lambda s: s.file_transport == "folder"):
            root = Path(system.file_folder)
            try:
                for folder in system._file_folders().values():
                    (root / folder).mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise UserError(_("Cannot create the folders: %s", exc.strerror)) from exc

    def action_view_file_exchanges(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "logistics_sync_wms.logistics_sync_file_exchange_action"
        )
        action["domain"] = [("system_id", "=", self.id)]
        action["context"] = {"search_default_filter_error": 1}
        return action

    # ---------------------------------------------------------------- polling
    def action_file_poll(self):
        """Read the partner's files now (in a job)."""
        self._enqueue_file_poll()

    def _enqueue_file_poll(self):
        for system in self:
            system.with_delay(
                channel=POLL_CHANNEL,
                identity_key=f"logistics_sync_file_poll_{system.id}",
                description=f"Pick up the files of {system.code}",
            ).file_poll()

    @api.model
    def _cron_file_poll(self):
        """Every minute: a poll job for each file partner whose interval elapsed."""
        now = fields.Datetime.now()
        systems = self.search([("file_transport", "!=", "none"), ("state", "=", "active")])
        due = systems.filtered(
            lambda s: not s.file_last_poll_at
            or s.file_last_poll_at + timedelta(minutes=s.file_poll_interval) <= now
        )
        due._enqueue_file_poll()

    @api.private
    def file_poll(self):
        """Job: pick up the partner's new files (public entry point)."""
        self.ensure_one()
        return self._file_poll()

    def _file_poll(self):
        """Store every new file as an exchange record and enqueue its processing; a file
        already received with the same name and content is a duplicate: recorded and moved
        to the processed folder, never applied again. Moves that failed earlier are tried
        again."""
        self.file_last_poll_at = fields.Datetime.now()
        if self.state != "active":
            return f"not polled: system {self.state}"
        Exchange = self.env["logistics.sync.file.exchange"]
        received = duplicates = 0
        try:
            with self._file_transport() as files:
                Exchange._archive_pending(self, files)
                for remote in files.list_pickup():
                    in_flight = Exchange.search(
                        [
                            ("system_id", "=", self.id),
                            ("direction", "=", "in"),
                            ("name", "=", remote.name),
                            ("archived_as", "=", False),
                            ("duplicate_of_id", "=", False),
                        ]
                    )
                    if in_flight:
                        continue  # received already, its processing job moves it
                    exchange = Exchange._receive(self, remote.name, files.download(remote.name))
                    if exchange.state == "duplicate":
                        duplicates += 1
                        exchange._archive(files)
                    else:
                        received += 1
        except file_transport.TransportError as exc:
            _logger.info("File poll of %s failed: %s", self.code, exc)
            return f"partner unreachable: {exc}"
        return f"{received} received, {duplicates} duplicate(s)"

    # ------------------------------------------------------------ warehouses run

    wms_warehouse_ids = fields.One2many(
        "stock.warehouse", "logistics_sync_system_id", string="Warehouses run"
    )

    def _logistics_sync_wms_ensure_ownership_rule(self):
        """Make each system the system of record for the pick and pack quantities of the
        transfers it runs (a core ownership rule on move lines), unless a rule exists already
        (also an archived one: a manager who archived it chose to let users edit them)."""
        Rule = self.env["logistics.sync.ownership.rule"].sudo().with_context(active_test=False)
        model = self.env["ir.model"]._get("stock.move.line")
        for system in self:
            if Rule.search_count(
                [("res_model", "=", "stock.move.line"), ("owner_system_id", "=", system.id)],
                limit=1,
            ):
                continue
            Rule.create(
                {
                    "name": self.env._("Pick and pack quantities: %s", system.name),
                    "model_id": model.id,
                    "scope": "fields",
                    "field_names": ",".join(OWNED_LINE_FIELDS),
                    "owner_system_id": system.id,
                    "on_violation": "reject",
                    "company_id": system.company_id.id,
                }
            )

    # ------------------------------------------------------------ inventory snapshots

    def action_view_inventory_snapshots(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "logistics_sync_wms.logistics_sync_inventory_snapshot_action"
        )
        action["domain"] = [("system_id", "=", self.id)]
        return action
