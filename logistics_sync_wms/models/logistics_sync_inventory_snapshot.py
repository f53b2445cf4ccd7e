import math
from datetime import datetime, timezone

from psycopg2 import errors as pg_errors
from psycopg2.extras import execute_values

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from odoo.addons.logistics_sync_core.models.logistics_sync_event import (
    CONTEXT_CORRELATION,
    CONTEXT_ORIGIN,
)
from odoo.addons.queue_job.exception import RetryableJobError

#: Lines inserted per ``execute_values`` call while a snapshot streams in.
INSERT_BATCH = 2000
#: Largest quantity accepted on a line (the database stores quantities as numeric).
MAX_QUANTITY = 1e12
CHANNEL = "root.logistics_sync.inventory"
SOURCES = [("api", "Partner API"), ("webhook", "Webhook"), ("amqp", "AMQP"), ("file", "File")]


def _parse_taken_at(env, value):
    """ISO 8601 text or a datetime to a naive UTC datetime (UserError when unreadable)."""
    if not value:
        return fields.Datetime.now()
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise UserError(
                env._("taken_at '%s' is not an ISO 8601 date and time.", value)
            ) from None
    if moment.tzinfo:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def _text(env, value, what, number, limit=200):
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > limit or "\x00" in value:
        raise UserError(
            env._(
                "Line %(number)s: %(what)s must be text of at most %(limit)s characters.",
                number=number,
                what=what,
                limit=limit,
            )
        )
    return value


class LogisticsSyncInventorySnapshot(models.Model):
    """An inventory snapshot a WMS or 3PL sent: what it counts, per SKU, location and lot.

    Lines stream in (one call or several parts), are stored in bulk, then queue_job jobs
    resolve them in chunks and build a :class:`reconciliation
    <.logistics_sync_inventory_reconciliation.LogisticsSyncInventoryReconciliation>` with
    Odoo's stock. Every intake (API, webhook, AMQP, file) ends in :meth:`_receive_snapshot`
    or :meth:`_receive_snapshot_part`.
    """

    _name = "logistics.sync.inventory.snapshot"
    _description = "Logistics Sync Inventory Snapshot"
    _inherit = ["mail.thread"]
    _order = "taken_at desc, id desc"

    name = fields.Char(compute="_compute_name", store=True)
    external_id = fields.Char(
        string="Snapshot ID",
        required=True,
        readonly=True,
        help="The sender's id of the snapshot: a second snapshot with the same id from the "
        "same system is the same snapshot.",
    )
    system_id = fields.Many2one(
        "logistics.sync.system", required=True, readonly=True, ondelete="restrict", index=True
    )
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    warehouse_id = fields.Many2one("stock.warehouse", required=True, readonly=True)
    kind = fields.Selection(
        [("full", "Full"), ("partial", "Partial")],
        required=True,
        readonly=True,
        help="Full: the system counts everything it holds in the warehouse; stock Odoo has in "
        "the warehouse's internal locations and the snapshot does not list counts as zero at "
        "the WMS. Partial: only the listed products and locations are compared.",
    )
    taken_at = fields.Datetime(required=True, readonly=True, help="When the system counted.")
    source = fields.Selection(SOURCES, required=True, readonly=True)
    reference = fields.Char(
        readonly=True, help="Where it came from: file name, message id, API call."
    )
    state = fields.Selection(
        [
            ("receiving", "Receiving"),
            ("queued", "Queued"),
            ("processing", "Processing"),
            ("reconciled", "Reconciled"),
            ("failed", "Failed"),
        ],
        default="receiving",
        required=True,
        readonly=True,
        tracking=True,
        index=True,
        help="Receiving: parts still expected. Queued/Processing: jobs resolve the lines and "
        "compare them with Odoo's stock (see the progress). Reconciled: the reconciliation is "
        "ready for review.",
    )
    error = fields.Text(readonly=True)
    part_count = fields.Integer(string="Parts", readonly=True, default=0)
    line_count = fields.Integer(string="Lines", readonly=True, default=0)
    processed_count = fields.Integer(string="Lines processed", readonly=True, default=0)
    processed_until_id = fields.Integer(readonly=True, default=0)
    quarantined_count = fields.Integer(
        string="Lines with unknown codes",
        readonly=True,
        default=0,
        help="Lines whose SKU, location or lot is not mapped: left out of the comparison. "
        "Map the codes (Unknown Codes), then Reprocess.",
    )
    progress = fields.Float(compute="_compute_progress")
    line_ids = fields.One2many("logistics.sync.inventory.snapshot.line", "snapshot_id")
    reconciliation_ids = fields.One2many(
        "logistics.sync.inventory.reconciliation", "snapshot_id", string="All reconciliations"
    )
    reconciliation_id = fields.Many2one("logistics.sync.inventory.reconciliation", readonly=True)

    _sql_constraints = [
        (
            "snapshot_unique",
            "UNIQUE(system_id, external_id)",
            "This system already sent a snapshot with this id.",
        )
    ]

    @api.depends("system_id.code", "external_id")
    def _compute_name(self):
        for snapshot in self:
            snapshot.name = f"{snapshot.system_id.code}/{snapshot.external_id}"

    @api.depends("processed_count", "line_count", "state")
    def _compute_progress(self):
        for snapshot in self:
            if snapshot.state == "reconciled":
                snapshot.progress = 100.0
            elif snapshot.line_count:
                # resolving the lines is most of the work; the comparison is the last step
                snapshot.progress = 95.0 * snapshot.processed_count / snapshot.line_count
            else:
                snapshot.progress = 0.0

    # ------------------------------------------------------------------ intake

    @api.model
    def _receive_snapshot(self, system, header, lines, source="api", reference=None):
        """Store a whole snapshot and queue its processing; return the snapshot.

        :param system: the ``logistics.sync.system`` (kind wms or 3pl) that counted.
        :param header: ``{"snapshot_id", "kind": "full"|"partial", "taken_at", "warehouse"?}``;
            ``taken_at`` is ISO 8601 text or a datetime, ``warehouse`` a warehouse code (else
            the warehouse the system operates).
        :param lines: an iterable (a generator is fine) of ``{"sku", "location"?, "lot"?,
            "quantity"}``; consumed once, streaming, and stored in batches, so a file of any
            size never sits in memory as a whole.
        :param source: ``"api"``, ``"webhook"``, ``"amqp"`` or ``"file"``.
        :param reference: where it came from (file name, message id...) or the record it came
            from (a file exchange), shown to users.
        :raises UserError: for a header or a line that cannot be accepted (the message names
            the line number, from 1); nothing is stored then, the caller rolls back.

        A snapshot id the system already sent is not stored again: the first snapshot is
        returned and ``lines`` is not read. Unknown SKUs, locations and lots are quarantined
        while processing, never guessed.

        Example::

            env["logistics.sync.inventory.snapshot"]._receive_snapshot(
                system,
                {"snapshot_id": "INV-2024-06-01", "kind": "full", "taken_at": "2024-06-01T06:00Z"},
                ({"sku": sku, "quantity": qty} for sku, qty in rows),
                source="file",
                reference="stock_20240601.csv",
            )
        """
        snapshot, accepted = self._receive_snapshot_part(
            system, header, lines, part=None, last=True, source=source, reference=reference
        )
        return snapshot

    @api.model
    def _receive_snapshot_part(
        self, system, header, lines, part=None, last=True, source="api", reference=None
    ):
        """Store one part of a snapshot sent in several; return ``(snapshot, accepted)``.

        ``part`` numbers the parts from 1 (``None``: the next one); a part already received is
        not stored twice (``accepted`` False). ``last`` closes the snapshot and queues its
        processing; a part for a closed snapshot is refused (UserError), except a repeat of
        one already received.
        """
        snapshot = self._snapshot_open(system, header, source, reference)
        snapshot.flush_recordset()
        # one part at a time per snapshot: a concurrent part waits here, then sees this one
        self.env.cr.execute(
            "SELECT part_count, state FROM logistics_sync_inventory_snapshot "
            "WHERE id = %s FOR NO KEY UPDATE",
            (snapshot.id,),
        )
        part_count, state = self.env.cr.fetchone()
        snapshot.invalidate_recordset()
        if part is not None and (not isinstance(part, int) or part < 1):
            raise UserError(_("The part number must be a positive integer."))
        if part is not None and part <= part_count:
            return snapshot, False
        if state != "receiving":
            if part is None:
                return snapshot, False
            raise UserError(
                _(
                    "Snapshot %(snapshot)s is complete (its last part was %(count)s): no part "
                    "can be added.",
                    snapshot=snapshot.external_id,
                    count=part_count,
                )
            )
        if part is not None and part != part_count + 1:
            raise UserError(
                _(
                    "Part %(part)s of snapshot %(snapshot)s came before part %(expected)s: send "
                    "the parts in order.",
                    part=part,
                    snapshot=snapshot.external_id,
                    expected=part_count + 1,
                )
            )
        count = snapshot._append_lines(lines, part_count + 1)
        snapshot.write({"part_count": part_count + 1, "line_count": snapshot.line_count + count})
        if last:
            snapshot._close()
        return snapshot, True

    @api.model
    def _snapshot_open(self, system, header, source, reference):
        if system.kind not in ("wms", "3pl"):
            raise UserError(_("Only a WMS or 3PL system sends inventory snapshots."))
        if not isinstance(header, dict):
            raise UserError(_("The snapshot header must be an object."))
        external_id = header.get("snapshot_id")
        if not isinstance(external_id, str) or not 0 < len(external_id) <= 200:
            raise UserError(_("snapshot_id is required: text of 1 to 200 characters."))
        existing = self.search(
            [("system_id", "=", system.id), ("external_id", "=", external_id)], limit=1
        )
        if existing:
            return existing
        kind = header.get("kind")
        if kind not in ("full", "partial"):
            raise UserError(_("kind must be 'full' or 'partial'."))
        if source not in dict(SOURCES):
            raise UserError(_("Unknown snapshot source '%s'.", source))
        warehouse = self._snapshot_warehouse(system, header.get("warehouse"))
        # a concurrent first part of the same snapshot: the UNIQUE constraint keeps one,
        # the other transaction fails and is retried (by Odoo or the job), then finds it
        return self.create(
            {
                "external_id": external_id,
                "system_id": system.id,
                "company_id": warehouse.company_id.id,
                "warehouse_id": warehouse.id,
                "kind": kind,
                "taken_at": _parse_taken_at(self.env, header.get("taken_at")),
                "source": source,
                "reference": (
                    reference.display_name
                    if isinstance(reference, models.BaseModel)
                    else reference or False
                ),
            }
        )

    @api.model
    def _snapshot_warehouse(self, system, code):
        Warehouse = self.env["stock.warehouse"]
        company = system.company_id or self.env.company
        if code:
            warehouse = Warehouse.search(
                [("code", "=", code), ("company_id", "=", company.id)], limit=1
            )
            if not warehouse:
                raise UserError(_("Unknown warehouse '%s'.", code))
            return warehouse
        warehouse = Warehouse.search([("logistics_sync_system_id", "=", system.id)])
        if len(warehouse) != 1:
            raise UserError(
                _(
                    "The snapshot names no warehouse and %(system)s operates %(count)s: send "
                    "the warehouse code.",
                    system=system.name,
                    count=len(warehouse),
                )
            )
        return warehouse

    def _append_lines(self, lines, part):
        """Insert ``lines`` in batches as they are read; return how many."""
        self.ensure_one()
        if isinstance(lines, dict | str | bytes):
            raise UserError(_("The snapshot lines must be a list of objects."))
        sql = (
            "INSERT INTO logistics_sync_inventory_snapshot_line "
            "(snapshot_id, part, sku, location_code, lot_code, quantity, state) VALUES %s"
        )
        batch, count = [], 0
        for count, line in enumerate(lines, start=1):
            batch.append(self._line_row(line, count, part))
            if len(batch) >= INSERT_BATCH:
                execute_values(self.env.cr._obj, sql, batch, page_size=INSERT_BATCH)
                batch = []
        if batch:
            execute_values(self.env.cr._obj, sql, batch, page_size=INSERT_BATCH)
        return count

    def _line_row(self, line, number, part):
        if not isinstance(line, dict):
            raise UserError(_("Line %s: each line must be an object.", number))
        sku = _text(self.env, line.get("sku"), "sku", number)
        if not sku:
            raise UserError(_("Line %s: sku is required.", number))
        quantity = line.get("quantity")
        if isinstance(quantity, str):
            try:
                quantity = float(quantity)
            except ValueError:
                quantity = None
        if (
            isinstance(quantity, bool)
            or not isinstance(quantity, int | float)
            or not math.isfinite(quantity)
            or abs(quantity) > MAX_QUANTITY
        ):
            raise UserError(_("Line %s: quantity must be a number.", number))
        return (
            self.id,
            part,
            sku,
            _text(self.env, line.get("location"), "location", number),
            _text(self.env, line.get("lot"), "lot", number),
            quantity,
            "new",
        )

    def _close(self):
        """All parts are in: queue the processing."""
        self.write({"state": "queued", "error": False})
        for snapshot in self:
            snapshot._enqueue_process()

    def _enqueue_process(self, eta=None):
        self.ensure_one()
        self.with_delay(
            channel=CHANNEL,
            eta=eta,
            description=f"Process inventory snapshot {self.name}",
            identity_key=f"logistics_sync_inventory_snapshot_process_{self.id}_"
            f"{self.processed_until_id}",
        ).process()

    # ------------------------------------------------------------------ processing

    def process(self):
        """Job: resolve the next chunk of lines; the last chunk builds the reconciliation."""
        return self._process_chunk()

    def _chunk_size(self):
        return max(self.system_id.inventory_chunk_size or 5000, 1)

    def _lock(self):
        """Lock this snapshot's row for the job; a second job waits its turn (retried)."""
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    "SELECT id FROM logistics_sync_inventory_snapshot WHERE id = %s "
                    "FOR UPDATE NOWAIT",
                    (self.id,),
                    log_exceptions=False,
                )
        except pg_errors.LockNotAvailable:
            raise RetryableJobError(
                "another job processes this snapshot", seconds=2, ignore_retry=True
            ) from None
        self.invalidate_recordset()

    def _process_chunk(self, enqueue=True):
        self.ensure_one()
        self._lock()
        if self.state not in ("queued", "processing"):
            return f"{self.name}: {self.state}, nothing to do"
        cr = self.env.cr
        cr.execute(
            """
            SELECT max(id), count(*) FROM (
                SELECT id FROM logistics_sync_inventory_snapshot_line
                 WHERE snapshot_id = %s AND id > %s ORDER BY id LIMIT %s) chunk
            """,
            (self.id, self.processed_until_id, self._chunk_size()),
        )
        last_id, count = cr.fetchone()
        reconciliation = self.reconciliation_id
        if not reconciliation:
            reconciliation = self.env["logistics.sync.inventory.reconciliation"].create(
                {"snapshot_id": self.id}
            )
            self.write({"reconciliation_id": reconciliation.id, "state": "processing"})
        if not count:
            return self._finish()
        bounds = {
            "snapshot": self.id,
            "low": self.processed_until_id,
            "high": last_id,
            "system": self.system_id.id,
            "company": self.company_id.id,
        }
        quarantined = self._resolve_chunk(bounds)
        reconciliation._add_chunk(bounds)
        self.write(
            {
                "processed_until_id": last_id,
                "processed_count": self.processed_count + count,
                "quarantined_count": self.quarantined_count + quarantined,
            }
        )
        if enqueue:
            self._enqueue_process()
        return f"{self.name}: {count} lines resolved, {quarantined} with unknown codes"

    def _resolve_chunk(self, bounds):
        """Map the chunk's SKUs, locations and lots to Odoo records, in SQL; quarantine the
        codes without a mapping. Return how many lines stay unresolved."""
        cr = self.env.cr
        warehouse = self.warehouse_id
        params = {
            **bounds,
            "view_path": warehouse.view_location_id.parent_path + "%",
            "stock": warehouse.lot_stock_id.id,
        }
        in_chunk = "l.snapshot_id = %(snapshot)s AND l.id > %(low)s AND l.id <= %(high)s"
        # SKU: the system's cross-reference, else its code map to an internal reference,
        # else the internal reference itself; exactly one storable product must match
        cr.execute(
            f"""
            WITH skus AS (
                SELECT DISTINCT l.sku FROM logistics_sync_inventory_snapshot_line l
                 WHERE {in_chunk}),
            resolved AS (
                SELECT s.sku, COALESCE(
                    (SELECT x.res_id FROM logistics_sync_xref x
                      WHERE x.system_id = %(system)s AND x.res_model = 'product.product'
                        AND x.external_id = s.sku),
                    (SELECT min(pp.id) FROM product_product pp
                       JOIN product_template pt ON pt.id = pp.product_tmpl_id
                      WHERE pp.active AND pt.is_storable
                        AND (pt.company_id IS NULL OR pt.company_id = %(company)s)
                        AND pp.default_code = COALESCE(
                            (SELECT cm.canonical_value FROM logistics_sync_code_map cm
                              WHERE cm.system_id = %(system)s AND cm.domain = 'sku'
                                AND cm.active AND cm.external_code = s.sku), s.sku)
                     HAVING count(*) = 1)) AS product_id
                  FROM skus s)
            UPDATE logistics_sync_inventory_snapshot_line l
               SET product_id = r.product_id
              FROM resolved r
             WHERE {in_chunk} AND l.sku = r.sku
            """,  # noqa: S608 - only fixed SQL is formatted in
            params,
        )
        # location: the code map's canonical value (else the code itself) is the barcode or
        # the full name of exactly one internal location of the warehouse; none: its stock
        cr.execute(
            f"""
            WITH codes AS (
                SELECT DISTINCT l.location_code FROM logistics_sync_inventory_snapshot_line l
                 WHERE {in_chunk} AND l.location_code IS NOT NULL),
            resolved AS (
                SELECT c.location_code,
                       (SELECT min(loc.id) FROM stock_location loc
                         WHERE loc.parent_path LIKE %(view_path)s AND loc.usage = 'internal'
                           AND loc.active AND (loc.barcode = v.value OR loc.complete_name = v.value)
                        HAVING count(*) = 1) AS location_id
                  FROM codes c
                 CROSS JOIN LATERAL (
                     SELECT COALESCE(
                         (SELECT cm.canonical_value FROM logistics_sync_code_map cm
                           WHERE cm.system_id = %(system)s AND cm.domain = 'location'
                             AND cm.active AND cm.external_code = c.location_code),
                         c.location_code) AS value) v)
            UPDATE logistics_sync_inventory_snapshot_line l
               SET location_id = CASE WHEN l.location_code IS NULL THEN %(stock)s
                                      ELSE r.location_id END
              FROM (SELECT * FROM resolved UNION ALL SELECT NULL, NULL) r
             WHERE {in_chunk} AND l.location_code IS NOT DISTINCT FROM r.location_code
            """,  # noqa: S608
            params,
        )
        # lot: the system's cross-reference, else the lot of that name (code map first)
        cr.execute(
            f"""
            WITH codes AS (
                SELECT DISTINCT l.lot_code, l.product_id
                  FROM logistics_sync_inventory_snapshot_line l
                 WHERE {in_chunk} AND l.lot_code IS NOT NULL AND l.product_id IS NOT NULL),
            resolved AS (
                SELECT c.lot_code, c.product_id, COALESCE(
                    (SELECT lot.id FROM logistics_sync_xref x
                       JOIN stock_lot lot ON lot.id = x.res_id
                      WHERE x.system_id = %(system)s AND x.res_model = 'stock.lot'
                        AND x.external_id = c.lot_code AND lot.product_id = c.product_id),
                    (SELECT min(lot.id) FROM stock_lot lot
                      WHERE lot.product_id = c.product_id
                        AND (lot.company_id IS NULL OR lot.company_id = %(company)s)
                        AND lot.name = COALESCE(
                            (SELECT cm.canonical_value FROM logistics_sync_code_map cm
                              WHERE cm.system_id = %(system)s AND cm.domain = 'lot'
                                AND cm.active AND cm.external_code = c.lot_code),
                            c.lot_code))) AS lot_id
                  FROM codes c)
            UPDATE logistics_sync_inventory_snapshot_line l
               SET lot_id = r.lot_id
              FROM resolved r
             WHERE {in_chunk} AND l.lot_code = r.lot_code AND l.product_id = r.product_id
            """,  # noqa: S608
            params,
        )
        cr.execute(
            f"""
            UPDATE logistics_sync_inventory_snapshot_line l
               SET state = CASE WHEN l.product_id IS NOT NULL AND l.location_id IS NOT NULL
                                 AND (l.lot_code IS NULL OR l.lot_id IS NOT NULL)
                                THEN 'ok' ELSE 'quarantined' END
             WHERE {in_chunk}
            RETURNING l.state = 'quarantined'
            """,  # noqa: S608
            params,
        )
        quarantined = sum(1 for (flag,) in cr.fetchall() if flag)
        if quarantined:
            cr.execute(
                f"""
                SELECT DISTINCT 'sku', l.sku FROM logistics_sync_inventory_snapshot_line l
                 WHERE {in_chunk} AND l.product_id IS NULL
                UNION
                SELECT DISTINCT 'location', l.location_code
                  FROM logistics_sync_inventory_snapshot_line l
                 WHERE {in_chunk} AND l.location_code IS NOT NULL AND l.location_id IS NULL
                UNION
                SELECT DISTINCT 'lot', l.lot_code FROM logistics_sync_inventory_snapshot_line l
                 WHERE {in_chunk} AND l.lot_code IS NOT NULL AND l.product_id IS NOT NULL
                   AND l.lot_id IS NULL
                ORDER BY 1, 2
                """,  # noqa: S608
                params,
            )
            Quarantine = self.env["logistics.sync.code.quarantine"]
            for domain, code in cr.fetchall():
                Quarantine._record(self.system_id, domain, code)
        self.env["logistics.sync.inventory.snapshot.line"].invalidate_model()
        return quarantined

    def _finish(self):
        """Every line is resolved: compare with Odoo's stock and open the review."""
        reconciliation = self.reconciliation_id
        reconciliation._compare()
        self.write({"state": "reconciled"})
        system = self.system_id
        self.env["logistics.sync.event"].with_context(
            **{CONTEXT_ORIGIN: system.id, CONTEXT_CORRELATION: f"snapshot:{self.name}"}
        )._emit("inventory.snapshot", self, self._event_payload(), company=self.company_id)
        if system.inventory_auto_approve:
            reconciliation._auto_approve()
        return (
            f"{self.name}: reconciled, {reconciliation.review_count} lines need review, "
            f"{reconciliation.within_count} within tolerance"
        )

    def _event_payload(self):
        reconciliation = self.reconciliation_id
        return {
            "snapshot_id": self.external_id,
            "warehouse": self.warehouse_id.code,
            "kind": self.kind,
            "taken_at": fields.Datetime.to_string(self.taken_at),
            "source": self.source,
            "line_count": self.line_count,
            "quarantined_count": self.quarantined_count,
            "reconciliation": reconciliation.name,
            "difference_count": reconciliation.review_count + reconciliation.within_count,
            "review_count": reconciliation.review_count,
            "difference_value": reconciliation.difference_value,
            # the lines stay in Odoo: an event carries the counts, not 100,000 items
            "items": [],
        }

    @api.model
    def _cron_process(self):
        """Restart the processing of snapshots whose jobs were lost (a worker stopped)."""
        snapshots = self.search(
            [
                ("state", "in", ("queued", "processing")),
                ("write_date", "<", fields.Datetime.subtract(fields.Datetime.now(), minutes=10)),
            ]
        )
        for snapshot in snapshots:
            snapshot._enqueue_process()
        return len(snapshots)

    # ------------------------------------------------------------------ actions

    def action_reprocess(self):
        """Resolve the lines again (after mapping unknown codes) into a new reconciliation;
        the current one's undecided lines are cancelled."""
        self.env["logistics.sync.inventory.reconciliation"]._check_manager()
        for snapshot in self.filtered(lambda s: s.state in ("reconciled", "failed")):
            snapshot.reconciliation_id._cancel_pending()
            self.env.cr.execute(
                """
                UPDATE logistics_sync_inventory_snapshot_line
                   SET state = 'new', product_id = NULL, location_id = NULL, lot_id = NULL
                 WHERE snapshot_id = %s
                """,
                (snapshot.id,),
            )
            snapshot.write(
                {
                    "state": "queued",
                    "reconciliation_id": False,
                    "processed_until_id": 0,
                    "processed_count": 0,
                    "quarantined_count": 0,
                    "error": False,
                }
            )
            snapshot._enqueue_process()
        return True

    def action_process_now(self):
        """Process queued snapshots at once, in this transaction, instead of by jobs
        (managers; meant for small snapshots, e.g. a recount of a few bins)."""
        self.env["logistics.sync.inventory.reconciliation"]._check_manager()
        for snapshot in self.filtered(lambda s: s.state in ("queued", "processing")):
            while snapshot.state != "reconciled":
                snapshot._process_chunk(enqueue=False)
        return True

    def action_view_lines(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Snapshot lines"),
            "res_model": "logistics.sync.inventory.snapshot.line",
            "view_mode": "list",
            "domain": [("snapshot_id", "=", self.id)],
            "context": {"search_default_quarantined": self.quarantined_count > 0},
        }

    def action_open_reconciliation(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "logistics.sync.inventory.reconciliation",
            "res_id": self.reconciliation_id.id,
            "view_mode": "form",
        }
