from odoo import _, fields, models
from odoo.exceptions import AccessError, UserError

from .logistics_sync_inventory_reconciliation import APPLY_BATCH

#: What a warehouse user (not a manager) may change on a line: the review note.
_REVIEWER_FIELDS = {"note"}


class LogisticsSyncInventoryReconciliationLine(models.Model):
    """Odoo's and the WMS's quantity of one product at one location (and lot)."""

    _name = "logistics.sync.inventory.reconciliation.line"
    _description = "Logistics Sync Inventory Reconciliation Line"
    _order = "reconciliation_id desc, status desc, abs_value desc, id"
    _log_access = False
    _rec_name = "product_id"

    reconciliation_id = fields.Many2one(
        "logistics.sync.inventory.reconciliation",
        required=True,
        readonly=True,
        ondelete="cascade",
        index=True,
    )
    company_id = fields.Many2one("res.company", readonly=True, index=True)
    system_id = fields.Many2one("logistics.sync.system", readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    product_id = fields.Many2one("product.product", required=True, readonly=True, index=True)
    categ_id = fields.Many2one("product.category", string="Product Category", readonly=True)
    location_id = fields.Many2one("stock.location", required=True, readonly=True)
    lot_id = fields.Many2one("stock.lot", string="Lot/Serial", readonly=True)
    uom_id = fields.Many2one(related="product_id.uom_id", string="Unit")
    odoo_qty = fields.Float(
        string="Odoo quantity",
        digits="Product Unit of Measure",
        readonly=True,
        aggregator="sum",
        help="On hand in Odoo when the reconciliation was built.",
    )
    wms_qty = fields.Float(
        string="WMS quantity",
        digits="Product Unit of Measure",
        readonly=True,
        aggregator="sum",
        help="What the system counted (0: the product is not in its full snapshot).",
    )
    difference = fields.Float(
        digits="Product Unit of Measure",
        readonly=True,
        aggregator="sum",
        help="WMS quantity minus Odoo quantity: what approval adds to (or takes from) Odoo.",
    )
    unit_cost = fields.Float(digits="Product Price", readonly=True, aggregator=None)
    value = fields.Monetary(readonly=True, help="The difference at the product's cost.")
    abs_value = fields.Monetary(
        string="Value (absolute)",
        readonly=True,
        help="The value of the difference, whichever its sign: what is at stake.",
    )
    status = fields.Selection(
        [("matched", "No difference"), ("within", "Within tolerance"), ("review", "Needs review")],
        required=True,
        readonly=True,
        index=True,
        help="Within tolerance: the difference is within the absolute or the percent "
        "tolerance of the product's category (Configuration > Inventory Tolerances).",
    )
    state = fields.Selection(
        [
            ("pending", "To decide"),
            ("approved", "Approved"),
            ("applied", "Applied"),
            ("rejected", "Rejected"),
        ],
        default="pending",
        required=True,
        readonly=True,
        index=True,
        help="Approved: the adjustment waits for its job. Applied: Odoo's stock was adjusted. "
        "Rejected: Odoo's quantity is kept.",
    )
    decided_by_id = fields.Many2one("res.users", string="Decided by", readonly=True)
    decided_at = fields.Datetime(readonly=True)
    auto_approved = fields.Boolean(readonly=True)
    note = fields.Char(help="The reviewer's remark, e.g. 'recount requested'.")

    def init(self):
        # one line per key; NULL lots compare equal (the SQL upserts rely on it)
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS
                logistics_sync_inventory_reconciliation_line_key_uniq
                ON logistics_sync_inventory_reconciliation_line
                (reconciliation_id, product_id, location_id, COALESCE(lot_id, 0))
            """
        )

    def write(self, vals):
        if not self.env.su and set(vals) - _REVIEWER_FIELDS:
            # decisions go through action_approve / action_reject, which check the group
            raise AccessError(_("Approve or reject the lines with the buttons."))
        return super().write(vals)

    # ------------------------------------------------------------------ decisions

    def action_approve(self):
        """Approve these lines (managers): their adjustments are applied, a batch at once,
        the rest by jobs."""
        self.env["logistics.sync.inventory.reconciliation"]._check_manager()
        self._approve()
        return True

    def action_reject(self):
        """Keep Odoo's quantity for these lines (managers)."""
        self.env["logistics.sync.inventory.reconciliation"]._check_manager()
        lines = self.sudo().filtered(lambda line: line.state == "pending")
        lines.write(
            {
                "state": "rejected",
                "decided_by_id": self.env.uid,
                "decided_at": fields.Datetime.now(),
            }
        )
        lines.reconciliation_id._refresh_counts()
        return True

    def _approve(self, auto=False):
        if not self:
            return
        self.env.flush_all()
        # in SQL: "approve all" may cover a hundred thousand lines; a line without
        # difference needs no adjustment and is applied at once
        self.env.cr.execute(
            """
            UPDATE logistics_sync_inventory_reconciliation_line l
               SET state = CASE WHEN l.status = 'matched' THEN 'applied' ELSE 'approved' END,
                   decided_by_id = %s, decided_at = now() at time zone 'UTC',
                   auto_approved = %s
              FROM logistics_sync_inventory_reconciliation r
             WHERE l.id = ANY(%s) AND l.state = 'pending' AND r.id = l.reconciliation_id
               AND r.state IN ('review', 'applying')
            RETURNING l.reconciliation_id, l.state = 'approved'
            """,
            (self.env.uid, auto, self.ids),
        )
        to_apply = {}
        for reconciliation_id, approved in self.env.cr.fetchall():
            to_apply[reconciliation_id] = to_apply.get(reconciliation_id, 0) + approved
        self.invalidate_model(["state", "decided_by_id", "decided_at", "auto_approved"])
        pending_elsewhere = self.filtered(
            lambda line: line.state == "pending"
            and line.reconciliation_id.state not in ("review", "applying")
        )
        if pending_elsewhere:
            raise UserError(_("Only a reconciliation under review can be approved."))
        Reconciliation = self.env["logistics.sync.inventory.reconciliation"].sudo()
        for reconciliation_id, count in to_apply.items():
            reconciliation = Reconciliation.browse(reconciliation_id)
            reconciliation._refresh_counts()
            if count <= APPLY_BATCH:
                # a person waits for a few lines, not for a large approval: jobs take those
                reconciliation._apply_approved()
            else:
                reconciliation._enqueue_apply()

    def _quants(self):
        """``{line id: quant}``: the quant of each line's key (no package, no owner), created
        empty where Odoo has none."""
        cr = self.env.cr
        self.env["stock.quant"].flush_model()
        cr.execute(
            """
            SELECT DISTINCT ON (l.id) l.id, q.id
              FROM logistics_sync_inventory_reconciliation_line l
              LEFT JOIN stock_quant q
                ON q.product_id = l.product_id AND q.location_id = l.location_id
               AND q.lot_id IS NOT DISTINCT FROM l.lot_id
               AND q.package_id IS NULL AND q.owner_id IS NULL
             WHERE l.id = ANY(%s)
             ORDER BY l.id, q.id
            """,
            (self.ids,),
        )
        found = dict(cr.fetchall())
        Quant = self.env["stock.quant"].sudo()
        missing = self.filtered(lambda line: not found.get(line.id) and line.status != "matched")
        created = Quant.create(
            [
                {
                    "product_id": line.product_id.id,
                    "location_id": line.location_id.id,
                    "lot_id": line.lot_id.id,
                }
                for line in missing
            ]
        )
        for line, quant in zip(missing, created, strict=True):
            found[line.id] = quant.id
        return {line_id: Quant.browse(quant_id) for line_id, quant_id in found.items()}
