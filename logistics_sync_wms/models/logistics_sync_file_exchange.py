import base64
import hashlib
import logging
from itertools import chain

import psycopg2

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from odoo.addons.queue_job.exception import RetryableJobError

from .. import file_formats, file_transport

_logger = logging.getLogger(__name__)

PROCESS_CHANNEL = "root.logistics_sync.files"
#: The entry points files are applied through, per kind (other engineers' models).
CONFIRMATION_MODEL = "logistics.sync.wms.confirmation"
SNAPSHOT_MODEL = "logistics.sync.inventory.snapshot"


class LogisticsSyncFileExchange(models.Model):
    """One file received from or sent to a file-based partner.

    The file is stored as it came (an attachment) with its SHA-256. A file is received once
    per (partner, direction, name, checksum): PostgreSQL refuses a second original, so the
    same file picked up again becomes a *duplicate* record that is never applied. Received
    files are read in a job: parsed (every line checked first), applied through the WMS entry
    points exactly once, then moved on the partner side to its processed or error folder.
    """

    _name = "logistics.sync.file.exchange"
    _description = "Logistics Sync File Exchange"
    _order = "id desc"

    name = fields.Char(string="File name", required=True, readonly=True, index=True)
    system_id = fields.Many2one(
        "logistics.sync.system", string="Partner", required=True, readonly=True, index=True
    )
    company_id = fields.Many2one(related="system_id.company_id", store=True)
    direction = fields.Selection(
        [("in", "Received"), ("out", "Sent")], required=True, readonly=True, default="in"
    )
    format_id = fields.Many2one("logistics.sync.file.format", readonly=True, ondelete="set null")
    kind = fields.Selection(related="format_id.kind", store=True)
    file_type = fields.Selection(related="format_id.file_type")
    checksum = fields.Char(string="SHA-256", required=True, readonly=True, index=True)
    size = fields.Integer(string="Size (bytes)", readonly=True)
    content = fields.Binary(attachment=True, readonly=True, help="The file exactly as exchanged.")
    state = fields.Selection(
        [
            ("received", "Received"),
            ("parsed", "Parsed"),
            ("applied", "Applied"),
            ("sent", "Sent"),
            ("duplicate", "Duplicate"),
            ("error", "Error"),
        ],
        default="received",
        required=True,
        readonly=True,
        index=True,
    )
    duplicate_of_id = fields.Many2one(
        "logistics.sync.file.exchange",
        string="Duplicate of",
        readonly=True,
        index=True,
        help="The file first received with this name and content.",
    )
    line_count = fields.Integer(readonly=True, help="Lines (or items) read from the file.")
    error_line = fields.Integer(readonly=True, help="Line of the file at fault.")
    error_message = fields.Text(readonly=True)
    result_model = fields.Char(readonly=True)
    result_ids = fields.Json(readonly=True, help="Ids of the records the file produced.")
    result_count = fields.Integer(compute="_compute_result_count", string="Produced")
    archived_as = fields.Char(
        readonly=True, help="Where the file was moved on the partner side once processed."
    )
    archive_error = fields.Char(
        readonly=True, help="Why the file could not be moved yet (tried again at each poll)."
    )
    applied_at = fields.Datetime(readonly=True)
    message_id = fields.Many2one(
        "logistics.sync.message", readonly=True, index=True, help="The message sent as this file."
    )

    def init(self):
        # One original per (partner, direction, name, checksum); duplicates point to it.
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS logistics_sync_file_exchange_unique
                ON logistics_sync_file_exchange (system_id, direction, name, checksum)
             WHERE duplicate_of_id IS NULL
            """
        )

    def _compute_result_count(self):
        for exchange in self:
            exchange.result_count = len(exchange.result_ids or ())

    # ---------------------------------------------------------------- receiving
    @api.model
    def _receive(self, system, name, data):
        """Store file ``name`` (bytes) received from ``system`` and enqueue its processing;
        the same name and content received before gives a ``duplicate`` record instead."""
        checksum = hashlib.sha256(data).hexdigest()
        file_format = self.env["logistics.sync.file.format"]._for_file(system, name)
        self.env.cr.execute(
            """
            INSERT INTO logistics_sync_file_exchange
                (name, system_id, company_id, direction, format_id, kind, checksum, size, state,
                 create_uid, create_date, write_uid, write_date)
            VALUES (%s, %s, %s, 'in', %s, %s, %s, %s, 'received', %s, now() at time zone 'UTC',
                    %s, now() at time zone 'UTC')
            ON CONFLICT (system_id, direction, name, checksum) WHERE duplicate_of_id IS NULL
            DO NOTHING
            RETURNING id
            """,
            (
                name,
                system.id,
                system.company_id.id or None,
                file_format.id or None,
                file_format.kind or None,
                checksum,
                len(data),
                self.env.uid,
                self.env.uid,
            ),
        )
        row = self.env.cr.fetchone()
        if not row:
            original = self.search(
                [
                    ("system_id", "=", system.id),
                    ("direction", "=", "in"),
                    ("name", "=", name),
                    ("checksum", "=", checksum),
                    ("duplicate_of_id", "=", False),
                ],
                limit=1,
            )
            return self.create(
                {
                    "name": name,
                    "system_id": system.id,
                    "format_id": file_format.id,
                    "checksum": checksum,
                    "size": len(data),
                    "state": "duplicate",
                    "duplicate_of_id": original.id,
                    "error_message": _(
                        "Same file as %s, which is in error: fix the cause, then press Retry "
                        "on it.",
                        original.display_name,
                    )
                    if original.state == "error"
                    else _("Received before (%s): not applied again.", original.display_name),
                }
            )
        exchange = self.browse(row[0])
        exchange.content = base64.b64encode(data)
        exchange._enqueue_process()
        return exchange

    def _enqueue_process(self):
        for exchange in self:
            exchange.with_delay(
                channel=PROCESS_CHANNEL,
                identity_key=f"logistics_sync_file_process_{exchange.id}",
                description=f"Apply file {exchange.name} of {exchange.system_id.code}",
            ).process()

    def _raw(self):
        self.ensure_one()
        attachment = (
            self.env["ir.attachment"]
            .sudo()
            .search(
                [
                    ("res_model", "=", self._name),
                    ("res_field", "=", "content"),
                    ("res_id", "=", self.id),
                ],
                limit=1,
            )
        )
        return attachment.raw or b""

    def _text(self):
        data = self._raw()
        encoding = self.format_id.encoding or "utf-8"
        if encoding.lower().replace("-", "") in ("utf8", "utf8sig"):
            encoding = "utf-8-sig"  # a byte order mark is not part of the first column
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            raise file_formats.FileFormatError(
                line, f"byte {exc.start + 1} is not valid {self.format_id.encoding}"
            ) from None

    # ---------------------------------------------------------------- processing
    @api.private
    def process(self):
        """Job: parse, apply and archive this received file (public entry point). It runs
        with superuser rights, whoever enqueued it (a poll, or a manager's Retry, whose
        rights were checked when pressing it): applying a file is the integration's work."""
        self.ensure_one()
        return self.sudo()._process()

    def _lock(self):
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    "SELECT id FROM logistics_sync_file_exchange WHERE id = %s FOR UPDATE NOWAIT",
                    (self.id,),
                    log_exceptions=False,
                )
        except psycopg2.errors.LockNotAvailable as exc:
            raise RetryableJobError(
                "another job is processing this file", seconds=2, ignore_retry=True
            ) from exc
        self.invalidate_recordset()

    def _process(self):
        self._lock()
        if self.direction != "in" or self.state not in ("received", "parsed"):
            return f"nothing to do: {self.state}"
        if not self.format_id:
            self.format_id = self.env["logistics.sync.file.format"]._for_file(
                self.system_id, self.name
            )
        try:
            if not self.format_id:
                raise UserError(
                    _(
                        "No incoming file format of %(partner)s matches the name %(file)s: "
                        "add one (or widen a pattern), then retry.",
                        partner=self.system_id.name,
                        file=self.name,
                    )
                )
            text = self._text()
            self.write({"state": "parsed", "line_count": self._check_file(text)})
            with self.env.cr.savepoint():
                results = getattr(self, f"_apply_{self.format_id.kind}")(text)
        except file_formats.FileFormatError as exc:
            self._fail(exc.message, exc.line)
        except (UserError, ValidationError) as exc:
            self._fail(str(exc.args[0]) if exc.args else str(exc))
        else:
            records = [r for r in results if isinstance(r, models.BaseModel) and r]
            self.write(
                {
                    "state": "applied",
                    "applied_at": fields.Datetime.now(),
                    "error_line": 0,
                    "error_message": self._results_problem(records),
                    "result_model": records[0]._name if records else False,
                    "result_ids": [i for r in records for i in r.ids] if records else False,
                }
            )
        if self._archive_move():
            try:
                with self.system_id._file_transport() as files:
                    self._archive(files)
            except file_transport.TransportError as exc:
                self.archive_error = str(exc)
        return self.state

    def _results_problem(self, records):
        """What a person must look at among the records the file produced (the entry points
        keep a confirmation that cannot apply in error or quarantine, with its own Retry)."""
        stuck = [r for r in records if "state" in r._fields and r.state in ("error", "quarantined")]
        if not stuck:
            return False
        return _(
            "Handed over, but %(count)s of %(total)s record(s) could not apply yet (error or "
            "quarantine): open them to fix and retry.",
            count=len(stuck),
            total=len(records),
        )

    def _fail(self, message, line=0):
        _logger.info(
            "File %s of %s refused: line %s: %s", self.name, self.system_id.code, line, message
        )
        self.write({"state": "error", "error_line": line or 0, "error_message": message})

    def _check_file(self, text):
        """Read the whole file once without applying anything; return its line (item)
        count. :raises FileFormatError: on the first line that cannot be read."""
        fmt = self.format_id
        kind = fmt.kind
        if kind == "confirmation":
            return sum(len(payload["lines"]) for _line, payload in self._confirmations(text))
        if kind == "snapshot":
            _header, lines = self._snapshot(text)
            return sum(1 for _line in lines)
        if kind == "reservation":
            return sum(len(payload["lines"]) or 1 for _line, payload in self._reservations(text))
        raise UserError(
            _("%s files are not read by Odoo.", dict(fmt._fields["kind"].selection)[kind])
        )

    def _confirmations(self, text):
        fmt = self.format_id
        if fmt.file_type == "csv":
            rows = file_formats.read_csv(text, fmt._columns(), fmt.csv_delimiter, fmt.csv_header)
            return list(file_formats.confirmations_from_rows(rows, fmt.default_stage))
        return file_formats.read_desadv(text)

    def _reservations(self, text):
        fmt = self.format_id
        rows = file_formats.read_csv(text, fmt._columns(), fmt.csv_delimiter, fmt.csv_header)
        return list(file_formats.reservations_from_rows(rows))

    def _snapshot(self, text):
        """``(header, lines)``: lines is a generator over the file."""
        fmt = self.format_id
        if fmt.file_type == "csv":
            rows = file_formats.read_csv(text, fmt._columns(), fmt.csv_delimiter, fmt.csv_header)
            first = next(rows, None)
            header = {"snapshot_id": "", "kind": fmt.snapshot_kind or "full", "taken_at": None}
            if first:
                for key in ("snapshot_id", "taken_at", "warehouse"):
                    if first[1].get(key):
                        header[key] = first[1][key]
            lines = file_formats.snapshot_lines_from_rows(chain([first] if first else [], rows))
        else:
            header, lines = file_formats.read_invrpt(text, fmt.snapshot_kind or "full")
        header["snapshot_id"] = header.get("snapshot_id") or f"file-{self.checksum[:20]}"
        header["taken_at"] = header.get("taken_at") or (
            fields.Datetime.to_string(self.create_date).replace(" ", "T") + "Z"
        )
        return header, lines

    def _entry_point(self, model):
        if model not in self.env:
            raise UserError(_("Files of this kind cannot be applied: %s is not installed.", model))
        return self.env[model]

    def _apply_confirmation(self, text):
        """Each confirmation of the file through the WMS confirmation entry point."""
        Confirmation = self._entry_point(CONFIRMATION_MODEL)
        return self._hand_over(
            self._confirmations(text), "confirmation_id", Confirmation._receive_confirmation
        )

    def _apply_reservation(self, text):
        """Each reservation or shortage report of the file through the entry point the
        webhook and the partner API use."""
        Confirmation = self._entry_point(CONFIRMATION_MODEL)
        return self._hand_over(
            self._reservations(text), "reservation_id", Confirmation._receive_reservation
        )

    def _hand_over(self, payloads, id_key, receive):
        """``receive`` each ``(line, payload)``. A payload without an id gets one derived
        from the file's content, so the same content under another name is recognised
        there too; one that does not fit the canonical schema fails the file at its line."""
        results = []
        for number, (line, payload) in enumerate(payloads, start=1):
            payload[id_key] = payload.get(id_key) or f"file-{self.checksum[:20]}-{number}"
            try:
                results.append(receive(self.system_id, payload, source="file", reference=self.name))
            except ValidationError as exc:
                message = exc.args[0] if exc.args else str(exc)
                raise file_formats.FileFormatError(line, message) from exc
        return results

    def _apply_snapshot(self, text):
        """The file's inventory report through the snapshot entry point; its lines are a
        generator over the file, consumed as the snapshot reads them."""
        header, lines = self._snapshot(text)
        snapshot = self._entry_point(SNAPSHOT_MODEL)._receive_snapshot(
            self.system_id, header, lines, source="file", reference=self.name
        )
        return [snapshot]

    # ---------------------------------------------------------------- sending
    @api.model
    def _record_sent(self, message, name, data):
        """The exchange record of a file written for ``message`` (one per message: a
        retry that wrote it again updates it)."""
        values = {
            "name": name,
            "system_id": message.system_id.id,
            "direction": "out",
            "format_id": message.flow_id.file_format_id.id,
            "checksum": hashlib.sha256(data).hexdigest(),
            "size": len(data),
            "content": base64.b64encode(data),
            "state": "sent",
            "message_id": message.id,
            "archived_as": f"{message.system_id.file_upload_path}/{name}",
        }
        existing = self.search([("message_id", "=", message.id)], limit=1)
        if existing:
            existing.write(values)
            return existing
        return self.create(values)

    # ---------------------------------------------------------------- archiving
    def _archive_move(self):
        """``(source folder kind, name there, target folder kind)`` of the move this
        received file still needs on the partner side, or ``None``: to the error folder
        when it (or the file it duplicates) failed, else to the processed folder; a file
        applied after a Retry leaves the error folder for the processed one."""
        self.ensure_one()
        failed = self.state == "error" or self.duplicate_of_id.state == "error"
        kind = "error" if failed else "processed"
        if not self.archived_as:
            return "pickup", self.name, kind
        folders = self.system_id._file_folders()
        folder, _sep, name = self.archived_as.rpartition("/")
        if kind == "processed" and folder == folders["error"]:
            return "error", name, kind
        return None

    def _archive(self, files):
        """Make the move :meth:`_archive_move` names; keep why it failed, if it did."""
        move = self._archive_move()
        if not move:
            if self.archive_error:
                self.archive_error = False
            return True
        source, name, kind = move
        try:
            moved = files.archive(name, kind, source=source, target=self.name)
        except file_transport.TransportError as exc:
            self.archive_error = str(exc)
            return False
        self.write({"archived_as": f"{files.folders[kind]}/{moved}", "archive_error": False})
        return True

    @api.model
    def _archive_pending(self, system, files):
        """Move again the files whose move failed after processing."""
        pending = self.search(
            [
                ("system_id", "=", system.id),
                ("direction", "=", "in"),
                ("archive_error", "!=", False),
                ("state", "in", ("applied", "duplicate", "error")),
            ]
        )
        for exchange in pending:
            exchange._archive(files)

    # ---------------------------------------------------------------- actions
    def action_retry(self):
        """Read and apply the file again, after its format (or the data it refers to) was
        fixed. Once applied, the file moves from the partner's error folder to its processed
        folder; if it fails again, it stays in the error folder."""
        retried = self.filtered(lambda e: e.direction == "in" and e.state == "error")
        if not retried:
            raise UserError(_("Only received files in error can be retried."))
        retried.write({"state": "received", "error_line": 0, "error_message": False})
        retried._enqueue_process()

    def action_view_results(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Produced by %s", self.name),
            "res_model": self.result_model,
            "view_mode": "list,form",
            "domain": [("id", "in", self.result_ids or [])],
        }

    def action_view_original(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "view_mode": "form",
            "res_id": self.duplicate_of_id.id,
        }
