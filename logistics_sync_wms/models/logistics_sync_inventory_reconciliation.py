from odoo import _, api, fields, models
from odoo.exceptions import AccessError

from odoo.addons.logistics_sync_core.models.logistics_sync_event import (
    CONTEXT_CORRELATION,
    CONTEXT_ORIGIN,
)

from .logistics_sync_inventory_snapshot import CHANNEL

#: Approved lines one transaction adjusts at most; more are left to a job.
APPLY_BATCH = 500
MANAGER_GROUP = "logistics_sync_core.group_logistics_sync_manager"


class LogisticsSyncInventoryReconciliation(models.Model):
    """Odoo's stock against a WMS snapshot: one line per product, location and lot.

    Built in SQL by the snapshot's jobs; reviewed by warehouse users (filters, pivot, graph)
    and approved, wholly or in part, by managers. Approval adjusts the stock through Odoo's
    inventory mode (``stock.quant`` counted quantity, then applied), in batches, with this
    reconciliation as the moves' reference and the system as their source.
    """

    _name = "logistics.sync.inventory.reconciliation"
    _description = "Logistics Sync Inventory Reconciliation"
    _inherit = ["mail.thread"]
    _order = "id desc"

    name = fields.Char(required=True, readonly=True, default="/", copy=False)
    snapshot_id = fields.Many2one(
        "logistics.sync.inventory.snapshot", required=True, readonly=True, ondelete="cascade"
    )
    system_id = fields.Many2one(related="snapshot_id.system_id", store=True, index=True)
    company_id = fields.Many2one(related="snapshot_id.company_id", store=True, index=True)
    warehouse_id = fields.Many2one(related="snapshot_id.warehouse_id", store=True)
    kind = fields.Selection(related="snapshot_id.kind")
    taken_at = fields.Datetime(related="snapshot_id.taken_at")
    currency_id = fields.Many2one(related="company_id.currency_id")
    state = fields.Selection(
        [
            ("building", "Building"),
            ("review", "To review"),
            ("applying", "Applying"),
            ("done", "Done"),
            ("cancelled", "Cancelled"),
        ],
        default="building",
        required=True,
        readonly=True,
        tracking=True,
        help="To review: differences wait for a manager's decision. Applying: approved "
        "adjustments are being applied by a job. Done: every line is decided.",
    )
    line_ids = fields.One2many("logistics.sync.inventory.reconciliation.line", "reconciliation_id")
    line_count = fields.Integer(string="Lines", readonly=True)
    matched_count = fields.Integer(string="Matching", readonly=True)
    within_count = fields.Integer(string="Within tolerance", readonly=True)
    review_count = fields.Integer(
        string="Needs review",
        readonly=True,
        help="Differences beyond the tolerance of the product's category.",
    )
    pending_count = fields.Integer(string="To decide", readonly=True)
    applied_count = fields.Integer(string="Applied", readonly=True)
    difference_value = fields.Monetary(
        readonly=True, help="Sum of the differences' values (WMS minus Odoo, at product cost)."
    )
    move_count = fields.Integer(compute="_compute_move_count", string="Stock moves")

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                vals["name"] = self.env["ir.sequence"].next_by_code(
                    "logistics.sync.inventory.reconciliation"
                ) or _("New")
        return super().create(vals_list)

    def _compute_move_count(self):
        groups = self.env["stock.move"]._read_group(
            [("logistics_sync_reconciliation_id", "in", self.ids)],
            ["logistics_sync_reconciliation_id"],
            ["__count"],
        )
        counts = {rec.id: count for rec, count in groups}
        for reconciliation in self:
            reconciliation.move_count = counts.get(reconciliation.id, 0)

    # ------------------------------------------------------------------ building (SQL)

    def _add_chunk(self, bounds):
        """Add the WMS quantities of a chunk of resolved snapshot lines, per key."""
        self.ensure_one()
        self.env.cr.execute(
            """
            INSERT INTO logistics_sync_inventory_reconciliation_line AS r
                (reconciliation_id, company_id, system_id, product_id, categ_id, location_id,
                 lot_id, wms_qty, odoo_qty, difference, unit_cost, value, abs_value, status,
                 state)
            SELECT %(reconciliation)s, %(company)s, %(system)s, l.product_id, pt.categ_id,
                   l.location_id, l.lot_id, sum(l.quantity), 0, 0, 0, 0, 0, 'review',
                   'pending'
              FROM logistics_sync_inventory_snapshot_line l
              JOIN product_product pp ON pp.id = l.product_id
              JOIN product_template pt ON pt.id = pp.product_tmpl_id
             WHERE l.snapshot_id = %(snapshot)s AND l.id > %(low)s AND l.id <= %(high)s
               AND l.state = 'ok'
             GROUP BY l.product_id, pt.categ_id, l.location_id, l.lot_id
            ON CONFLICT (reconciliation_id, product_id, location_id, COALESCE(lot_id, 0))
            DO UPDATE SET wms_qty = r.wms_qty + EXCLUDED.wms_qty
            """,
            {**bounds, "reconciliation": self.id},
        )

    def _compare(self):
        """Add Odoo's side, then the differences, values and tolerance status, in SQL."""
        self.ensure_one()
        cr = self.env.cr
        self.env.flush_all()
        snapshot = self.snapshot_id
        params = {
            "reconciliation": self.id,
            "company": self.company_id.id,
            "company_key": str(self.company_id.id),
            "system": self.system_id.id,
            "view_path": snapshot.warehouse_id.view_location_id.parent_path + "%",
        }
        # full: every internal location of the warehouse; partial: the listed
        # (product, location) pairs only
        scope = (
            "loc.parent_path LIKE %(view_path)s AND loc.usage = 'internal'"
            if snapshot.kind == "full"
            else """EXISTS (SELECT 1 FROM logistics_sync_inventory_reconciliation_line s
                     WHERE s.reconciliation_id = %(reconciliation)s
                       AND s.product_id = q.product_id AND s.location_id = q.location_id)"""
        )
        cr.execute(
            f"""
            INSERT INTO logistics_sync_inventory_reconciliation_line
                (reconciliation_id, company_id, system_id, product_id, categ_id, location_id,
                 lot_id, wms_qty, odoo_qty, difference, unit_cost, value, abs_value, status,
                 state)
            SELECT %(reconciliation)s, %(company)s, %(system)s, q.product_id, pt.categ_id,
                   q.location_id, q.lot_id, 0, 0, 0, 0, 0, 0, 'review', 'pending'
              FROM stock_quant q
              JOIN stock_location loc ON loc.id = q.location_id
              JOIN product_product pp ON pp.id = q.product_id
              JOIN product_template pt ON pt.id = pp.product_tmpl_id
             WHERE {scope}
             GROUP BY q.product_id, pt.categ_id, q.location_id, q.lot_id
            HAVING sum(q.quantity) <> 0
            ON CONFLICT (reconciliation_id, product_id, location_id, COALESCE(lot_id, 0))
            DO NOTHING
            """,  # noqa: S608 - only fixed SQL is formatted in
            params,
        )
        cr.execute(
            """
            UPDATE logistics_sync_inventory_reconciliation_line r
               SET odoo_qty = s.quantity
              FROM (SELECT q.product_id, q.location_id, q.lot_id, sum(q.quantity) AS quantity
                      FROM stock_quant q
                     WHERE (q.product_id, q.location_id) IN (
                           SELECT product_id, location_id
                             FROM logistics_sync_inventory_reconciliation_line
                            WHERE reconciliation_id = %(reconciliation)s)
                     GROUP BY q.product_id, q.location_id, q.lot_id) s
             WHERE r.reconciliation_id = %(reconciliation)s AND r.product_id = s.product_id
               AND r.location_id = s.location_id AND r.lot_id IS NOT DISTINCT FROM s.lot_id
            """,
            params,
        )
        # the tolerance of a category: the rule of its nearest category (itself or a
        # parent), else the default rule (no category); a system's own rule first
        cr.execute(
            """
            WITH rules AS (
                SELECT c.id AS categ_id, t.tolerance_qty, t.tolerance_percent
                  FROM product_category c
                  LEFT JOIN LATERAL (
                      SELECT r.tolerance_qty, r.tolerance_percent
                        FROM logistics_sync_inventory_tolerance r
                        LEFT JOIN product_category rc ON rc.id = r.categ_id
                       WHERE r.active
                         AND (r.company_id IS NULL OR r.company_id = %(company)s)
                         AND (r.system_id IS NULL OR r.system_id = %(system)s)
                         AND (r.categ_id IS NULL OR c.parent_path LIKE rc.parent_path || '%%')
                       ORDER BY length(rc.parent_path) DESC NULLS LAST,
                                r.system_id IS NULL, r.id
                       LIMIT 1) t ON TRUE
                 WHERE c.id IN (SELECT DISTINCT categ_id
                                  FROM logistics_sync_inventory_reconciliation_line
                                 WHERE reconciliation_id = %(reconciliation)s)),
            figures AS (
                SELECT r.id, r.wms_qty - r.odoo_qty AS difference,
                       COALESCE((pp.standard_price ->> %(company_key)s)::numeric, 0) AS cost,
                       u.rounding, COALESCE(t.tolerance_qty, 0) AS tolerance_qty,
                       COALESCE(t.tolerance_percent, 0) AS tolerance_percent
                  FROM logistics_sync_inventory_reconciliation_line r
                  JOIN product_product pp ON pp.id = r.product_id
                  JOIN product_template pt ON pt.id = pp.product_tmpl_id
                  JOIN uom_uom u ON u.id = pt.uom_id
                  LEFT JOIN rules t ON t.categ_id = r.categ_id
                 WHERE r.reconciliation_id = %(reconciliation)s)
            UPDATE logistics_sync_inventory_reconciliation_line r
               SET difference = f.difference,
                   unit_cost = f.cost,
                   value = f.difference * f.cost,
                   abs_value = abs(f.difference * f.cost),
                   status = CASE
                       WHEN abs(f.difference) < f.rounding / 2 THEN 'matched'
                       WHEN abs(f.difference) <= f.tolerance_qty
                         OR (r.odoo_qty <> 0
                             AND abs(f.difference) * 100 <= f.tolerance_percent * abs(r.odoo_qty))
                       THEN 'within'
                       ELSE 'review' END
              FROM figures f
             WHERE r.id = f.id
            """,
            params,
        )
        self.env["logistics.sync.inventory.reconciliation.line"].invalidate_model()
        self.write({"state": "review"})
        self._refresh_counts()

    def _refresh_counts(self):
        self.env["logistics.sync.inventory.reconciliation.line"].flush_model()
        for reconciliation in self:
            self.env.cr.execute(
                """
                SELECT count(*),
                       count(*) FILTER (WHERE status = 'matched'),
                       count(*) FILTER (WHERE status = 'within'),
                       count(*) FILTER (WHERE status = 'review'),
                       count(*) FILTER (WHERE state = 'pending' AND status <> 'matched'),
                       count(*) FILTER (WHERE state = 'applied' AND status <> 'matched'),
                       count(*) FILTER (WHERE state = 'approved'),
                       COALESCE(sum(value), 0)
                  FROM logistics_sync_inventory_reconciliation_line
                 WHERE reconciliation_id = %s
                """,
                (reconciliation.id,),
            )
            total, matched, within, review, pending, applied, approved, value = (
                self.env.cr.fetchone()
            )
            values = {
                "line_count": total,
                "matched_count": matched,
                "within_count": within,
                "review_count": review,
                "pending_count": pending,
                "applied_count": applied,
                "difference_value": value,
            }
            if reconciliation.state in ("review", "applying"):
                if approved:
                    values["state"] = "applying"
                elif not pending:
                    values["state"] = "done"
                else:
                    values["state"] = "review"
            reconciliation.write(values)

    # ------------------------------------------------------------------ decisions

    @api.model
    def _check_manager(self):
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(
                _("Only a Logistics Sync manager can approve or reject inventory differences.")
            )

    def action_approve_all(self):
        """Approve every undecided line (managers) and apply the adjustments."""
        return self._lines_to_decide().action_approve()

    def action_approve_within(self):
        """Approve the undecided differences within tolerance (managers)."""
        return self._lines_to_decide([("status", "in", ("within", "matched"))]).action_approve()

    def action_reject_all(self):
        return self._lines_to_decide().action_reject()

    def _lines_to_decide(self, domain=None):
        return self.env["logistics.sync.inventory.reconciliation.line"].search(
            [("reconciliation_id", "in", self.ids), ("state", "=", "pending")] + (domain or [])
        )

    def _auto_approve(self):
        """Approve and apply the differences within tolerance (the system's setting)."""
        lines = self.sudo()._lines_to_decide([("status", "in", ("within", "matched"))])
        lines._approve(auto=True)

    def _cancel_pending(self):
        self.ensure_one()
        self.env.cr.execute(
            "UPDATE logistics_sync_inventory_reconciliation_line SET state = 'rejected' "
            "WHERE reconciliation_id = %s AND state IN ('pending', 'approved')",
            (self.id,),
        )
        self.env["logistics.sync.inventory.reconciliation.line"].invalidate_model()
        self._refresh_counts()
        self.write({"state": "cancelled"})

    # ------------------------------------------------------------------ applying

    def apply_approved(self):
        """Job: apply the next batch of approved lines; queue another job for the rest."""
        return self._apply_approved()

    def _enqueue_apply(self):
        self.ensure_one()
        self.with_delay(
            channel=CHANNEL,
            description=f"Apply inventory adjustments of {self.name}",
            identity_key=f"logistics_sync_inventory_reconciliation_apply_{self.id}",
        ).apply_approved()

    def _apply_approved(self, batch=APPLY_BATCH):
        """Adjust Odoo's stock for up to ``batch`` approved lines.

        Each line moves its key's quant by the difference seen at reconciliation time (so a
        move made in Odoo since then is kept), through ``stock.quant`` inventory mode: a
        stock move per line, named after this reconciliation (its reference) with the system
        as source document, events emitted with the system as origin (no echo back).
        """
        self.ensure_one()
        Line = self.env["logistics.sync.inventory.reconciliation.line"].sudo()
        lines = Line.search(
            [("reconciliation_id", "=", self.id), ("state", "=", "approved")],
            order="id",
            limit=batch,
        )
        if lines:
            system = self.system_id
            quants = lines._quants()
            env_context = {
                "inventory_name": _("%(name)s (%(system)s)", name=self.name, system=system.name),
                "logistics_sync_inventory_origin": _(
                    "%(system)s snapshot %(snapshot)s",
                    system=system.name,
                    snapshot=self.snapshot_id.external_id,
                ),
                "logistics_sync_reconciliation_id": self.id,
                CONTEXT_ORIGIN: system.id,
                CONTEXT_CORRELATION: f"reconciliation:{self.name}",
            }
            to_apply = self.env["stock.quant"].sudo()
            for line in lines:
                if line.status == "matched":
                    continue
                quant = quants[line.id]
                quant.inventory_quantity = quant.quantity + line.difference
                to_apply |= quant
            if to_apply:
                to_apply.with_context(**env_context)._apply_inventory()
            lines.write({"state": "applied"})
        more = Line.search_count(
            [("reconciliation_id", "=", self.id), ("state", "=", "approved")], limit=1
        )
        self._refresh_counts()
        if more:
            self._enqueue_apply()
        elif lines:
            self._emit_reconciled()
        return f"{self.name}: {len(lines)} lines applied" + (", more to do" if more else "")

    def _emit_reconciled(self):
        self.ensure_one()
        self.env.cr.execute(
            """
            SELECT count(*), COALESCE(sum(difference), 0), COALESCE(sum(value), 0)
              FROM logistics_sync_inventory_reconciliation_line
             WHERE reconciliation_id = %s AND state = 'applied' AND status <> 'matched'
            """,
            (self.id,),
        )
        count, quantity, value = self.env.cr.fetchone()
        self.env["logistics.sync.event"].with_context(
            **{
                CONTEXT_ORIGIN: self.system_id.id,
                CONTEXT_CORRELATION: f"reconciliation:{self.name}",
            }
        )._emit(
            "inventory.reconciled",
            self,
            {
                "reconciliation": self.name,
                "snapshot_id": self.snapshot_id.external_id,
                "warehouse": self.warehouse_id.code,
                "taken_at": fields.Datetime.to_string(self.taken_at),
                "adjusted_lines": count,
                "adjusted_quantity": float(quantity),
                "adjusted_value": float(value),
                "currency": self.currency_id.name,
                "pending_lines": self.pending_count,
            },
            company=self.company_id,
        )

    # ------------------------------------------------------------------ navigation

    def action_view_lines(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "logistics_sync_wms.logistics_sync_inventory_reconciliation_line_action"
        )
        action["domain"] = [("reconciliation_id", "=", self.id)]
        action["context"] = {"search_default_needs_review": 1, "search_default_pending": 1}
        return action

    def action_view_moves(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Inventory adjustments"),
            "res_model": "stock.move.line",
            "view_mode": "list,form",
            "domain": [("move_id.logistics_sync_reconciliation_id", "=", self.id)],
        }
