import logging

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import float_compare, float_is_zero

from odoo.addons.logistics_sync_core.exceptions import UnknownCodeError
from odoo.addons.logistics_sync_core.models.logistics_sync_event import CONTEXT_ORIGIN
from odoo.addons.logistics_sync_webhook import inbound

from .stock_picking import CONTEXT_WMS_APPLY, CONTEXT_WMS_VALIDATE

_logger = logging.getLogger(__name__)

#: Context key set on the record returned for a repeated confirmation or reservation id.
CONTEXT_DUPLICATE = "logistics_sync_wms_duplicate"

_KINDS = {
    # kind: (inbound event type, id key of the payload)
    "confirmation": ("fulfilment.confirmation", "confirmation_id"),
    "reservation": ("fulfilment.reservation", "reservation_id"),
}


class LogisticsSyncWmsConfirmation(models.Model):
    """One pick, pack or ship confirmation, or one reservation report, of a warehouse
    system, whatever carried it (webhook, partner API, file).

    Stored UNIQUE per (system, kind, the system's id of it) before it is applied, in the same
    transaction: a repeat, also one delivered at the same moment by another worker, finds
    the first and changes nothing. Applied in a savepoint: a confirmation that cannot apply
    leaves nothing behind but this record in *error* (or *quarantined* for unknown codes),
    for a person to fix the cause and Retry.

    Entry points for every transport::

        Confirmation = env["logistics.sync.wms.confirmation"]
        record = Confirmation._receive_confirmation(system, payload, source="file",
                                                    reference="DESADV_0042.edi")
        record.state  # "applied", "error", "quarantined"
        record.env.context.get("logistics_sync_wms_duplicate")  # True for a repeat
    """

    _name = "logistics.sync.wms.confirmation"
    _description = "Logistics Sync WMS Confirmation"
    _order = "id desc"
    _rec_name = "external_id"

    system_id = fields.Many2one(
        "logistics.sync.system", required=True, readonly=True, ondelete="restrict", index=True
    )
    company_id = fields.Many2one("res.company", readonly=True, index=True)
    kind = fields.Selection(
        [("confirmation", "Confirmation"), ("reservation", "Reservation")],
        required=True,
        readonly=True,
    )
    external_id = fields.Char(
        string="Confirmation ID",
        required=True,
        readonly=True,
        help="The warehouse system's id of this confirmation or reservation report: a "
        "second one with the same id is a duplicate and is not applied again.",
    )
    fulfilment_ref = fields.Char(
        string="Fulfilment reference", readonly=True, help="The fulfilment id as sent."
    )
    fulfilment_id = fields.Many2one(
        "logistics.sync.wms.fulfilment", readonly=True, ondelete="set null", index=True
    )
    picking_id = fields.Many2one(related="fulfilment_id.picking_id", store=True, string="Transfer")
    stage = fields.Selection(
        [
            ("picked", "Picked"),
            ("packed", "Packed"),
            ("shipped", "Shipped"),
            ("reserved", "Reserved"),
            ("shortage", "Shortage"),
        ],
        readonly=True,
    )
    source = fields.Selection(
        [("webhook", "Webhook"), ("amqp", "AMQP"), ("api", "Partner API"), ("file", "File")],
        required=True,
        readonly=True,
    )
    reference = fields.Char(
        readonly=True, help="Where it came from: the webhook message id, the file name..."
    )
    payload = fields.Json(readonly=True)
    state = fields.Selection(
        [
            ("received", "Received"),
            ("applied", "Applied"),
            ("quarantined", "Quarantined"),
            ("error", "Error"),
            ("dismissed", "Dismissed"),
        ],
        default="received",
        required=True,
        readonly=True,
        index=True,
        help="Applied: done quantities, lots, packages and validation are in Odoo. "
        "Quarantined: a SKU, lot or location code is unknown; map it (Code Quarantine), then "
        "Retry. Error: it cannot apply (see the reason); nothing of it was applied. "
        "Dismissed: a person decided not to apply it.",
    )
    error = fields.Text(readonly=True)
    attempt_count = fields.Integer(string="Attempts", readonly=True)
    duplicate_count = fields.Integer(
        string="Repeats", readonly=True, help="How often the same id arrived again."
    )
    applied_at = fields.Datetime(readonly=True)

    _sql_constraints = [
        (
            "external_unique",
            "UNIQUE(system_id, kind, external_id)",
            "This warehouse system already sent a confirmation with this id.",
        )
    ]

    # ------------------------------------------------------------ entry points

    @api.model
    def _receive_confirmation(self, system, payload, source="webhook", reference=None):
        """Record and apply a pick/pack/ship confirmation of ``system`` (exactly once).

        ``payload`` is the canonical ``fulfilment.confirmation`` payload::

            {"fulfilment_id", "confirmation_id", "stage": "picked"|"packed"|"shipped",
             "lines": [{"sku", "quantity", "uom"?, "lot"?, "location"?, "package"?}],
             "packages": [{"name", "weight", "length", "width", "height"}],
             "carrier"?, "service"?, "tracking_numbers": [], "complete": bool}

        Return the confirmation record: *applied*, *error* or *quarantined*; for a repeated
        ``confirmation_id`` the first record, unchanged, with the context key
        ``logistics_sync_wms_duplicate``. :raises ValidationError: the payload does not fit
        the schema (nothing recorded). A concurrent delivery of the same id raises a
        serialization failure in the later transaction: retry it (it then finds the first).
        """
        return self._receive("confirmation", system, payload, source, reference)

    @api.model
    def _receive_reservation(self, system, payload, source="webhook", reference=None):
        """Record and apply a reservation report of ``system`` (exactly once)::

            {"fulfilment_id", "reservation_id", "status": "reserved"|"shortage",
             "lines": [{"sku", "quantity"}]}

        ``lines`` list, for a shortage, what is missing. Same return and errors as
        :meth:`_receive_confirmation`.
        """
        return self._receive("reservation", system, payload, source, reference)

    @api.model
    def _receive(self, kind, system, payload, source, reference):
        type_code, id_key = _KINDS[kind]
        self.env["logistics.sync.event.type"]._get(type_code)._validate(payload)
        external_id = payload[id_key]
        if not inbound.ID_RE.fullmatch(external_id):
            raise ValidationError(_("%s must be 1-200 printable characters.", id_key))
        self.env.cr.execute(
            """
            INSERT INTO logistics_sync_wms_confirmation
                (system_id, company_id, kind, external_id, source, state, attempt_count,
                 duplicate_count, create_uid, create_date, write_uid, write_date)
            VALUES (%(system)s, %(company)s, %(kind)s, %(external_id)s, %(source)s, 'received',
                    0, 0, %(uid)s, now() at time zone 'UTC', %(uid)s, now() at time zone 'UTC')
            ON CONFLICT (system_id, kind, external_id) DO NOTHING
            RETURNING id
            """,
            {
                "system": system.id,
                "company": system.company_id.id or None,
                "kind": kind,
                "external_id": external_id,
                "source": source,
                "uid": self.env.uid,
            },
            # a concurrent copy that committed first is a serialization failure here: the
            # caller (request, job) is retried and then finds the first
            log_exceptions=False,
        )
        row = self.env.cr.fetchone()
        if not row:
            existing = self.sudo().search(
                [
                    ("system_id", "=", system.id),
                    ("kind", "=", kind),
                    ("external_id", "=", external_id),
                ],
                limit=1,
            )
            self.env.cr.execute(
                "UPDATE logistics_sync_wms_confirmation SET duplicate_count = duplicate_count + 1"
                " WHERE id = %s",
                (existing.id,),
            )
            existing.invalidate_recordset(["duplicate_count"])
            return existing.with_context(**{CONTEXT_DUPLICATE: True})
        record = self.sudo().browse(row[0])
        if isinstance(reference, models.BaseModel):  # e.g. the file exchange record
            reference = reference.display_name or f"{reference._name},{reference.id}"
        record.write(
            {
                "fulfilment_ref": payload["fulfilment_id"],
                "fulfilment_id": self.env["logistics.sync.wms.fulfilment"]
                ._by_reference(system, payload["fulfilment_id"])
                .id,
                "stage": payload.get("stage") or payload.get("status"),
                "reference": reference or False,
                "payload": payload,
            }
        )
        record._apply()
        return record

    # ------------------------------------------------------------ applying

    def _apply(self):
        """Apply this confirmation in a savepoint; on failure keep it in error (or
        quarantined, with its unknown codes recorded), nothing else."""
        self.ensure_one()
        system = self.system_id
        self.write({"attempt_count": self.attempt_count + 1})
        me = self.with_company(self.company_id or self.env.company).with_context(
            # the system's own changes: the core's ownership rules check each move line it
            # writes (the owner passes; a rule naming another owner refuses them)
            **{CONTEXT_ORIGIN: system.id, CONTEXT_WMS_APPLY: True}
        )
        try:
            with self.env.cr.savepoint():
                getattr(me, f"_apply_{self.kind}")()
        except inbound.RETRYABLE_ERRORS:
            raise
        except UnknownCodeError as exc:
            # the savepoint's rollback took the quarantine entries with it: keep them
            for domain, code in getattr(exc, "logistics_sync_codes", ()):
                self.env["logistics.sync.code.quarantine"]._record(system, domain, code)
            self.write({"state": "quarantined", "error": exc.args[0]})
            return False
        except (UserError, ValidationError) as exc:
            self.write({"state": "error", "error": exc.args[0] if exc.args else str(exc)})
            return False
        except Exception as exc:  # noqa: BLE001 - every failure must become a visible error
            _logger.warning(
                "WMS confirmation %s from %s failed unexpectedly",
                self.external_id,
                system.code,
                exc_info=True,
            )
            self.write({"state": "error", "error": f"{type(exc).__name__}: {exc}"})
            return False
        self.write({"state": "applied", "error": False, "applied_at": fields.Datetime.now()})
        return True

    def _fulfilment(self):
        fulfilment = self.fulfilment_id or self.env["logistics.sync.wms.fulfilment"]._by_reference(
            self.system_id, self.fulfilment_ref
        )
        if not fulfilment:
            raise UserError(
                _(
                    "%(system)s reports on fulfilment '%(ref)s', which Odoo does not know "
                    "(or which another system runs).",
                    system=self.system_id.name,
                    ref=self.fulfilment_ref,
                )
            )
        self.fulfilment_id = fulfilment
        if fulfilment.cancelled:
            raise UserError(_("Fulfilment %s was cancelled in Odoo.", fulfilment.name))
        if fulfilment.picking_id.state in ("done", "cancel"):
            raise UserError(
                _(
                    "Transfer %(picking)s is already %(state)s.",
                    picking=fulfilment.picking_id.name,
                    state=fulfilment.picking_id.state,
                )
            )
        return fulfilment

    def _apply_reservation(self):
        fulfilment = self._fulfilment()
        picking = fulfilment.picking_id
        status = self.payload["status"]
        note = False
        if status == "shortage":
            note = "\n".join(
                " ".join(
                    filter(None, (f"{line['sku']}: {line['quantity']:g}", line.get("uom"), "short"))
                )
                for line in self.payload.get("lines") or []
            ) or _("The warehouse system lacks stock for this request.")
        fulfilment.write({"reservation_status": status, "reservation_note": note})
        picking.logistics_sync_availability = status
        code = "stock.reserved" if status == "reserved" else "stock.shortage"
        self.env["logistics.sync.event"]._emit(code, picking, picking._logistics_sync_payload())

    def _apply_confirmation(self):
        fulfilment = self._fulfilment()
        picking = fulfilment.picking_id
        data = self.payload
        plan = self._plan_lines(picking, data.get("lines") or [])
        packages = self._packages(data.get("packages") or [])
        for move, quantity, lot, location, package_name in plan:
            package = packages.get(package_name) if package_name else False
            if package_name and not package:
                package = packages[package_name] = self._package(package_name, {})
            if data["stage"] == "packed" and package:
                quantity = self._pack_picked(move, quantity, lot, package)
            if not float_is_zero(quantity, precision_rounding=move.product_uom.rounding):
                self._pick(move, quantity, lot, location, package)
        if data["stage"] == "shipped":
            self._ship(fulfilment, data)

    def _plan_lines(self, picking, lines):
        """Resolve every line before anything is written: products, lots and locations
        (unknown codes are all quarantined at once), then refuse an over-pick."""
        plan, unknown = [], []
        for index, line in enumerate(lines):
            product = self._collect(unknown, self._resolve_sku, picking, line["sku"])
            lot = product and self._collect(
                unknown, self._resolve_lot, picking, product, line.get("lot")
            )
            location = self._collect(unknown, self._resolve_location, picking, line.get("location"))
            uom = self._collect(unknown, self._resolve_uom, picking, line.get("uom"))
            if unknown:
                continue
            moves = picking.move_ids.filtered(
                lambda m, p=product: m.product_id == p and m.state not in ("done", "cancel")
            )
            if not moves:
                raise UserError(
                    _(
                        "Line %(index)s: %(product)s is not part of %(picking)s.",
                        index=index + 1,
                        product=product.display_name,
                        picking=picking.name,
                    )
                )
            quantity = self._in_move_unit(moves[0], line["quantity"], uom, index)
            if product.tracking == "serial" and lot and quantity != 1:
                raise UserError(_("Line %s: a serial number is for one unit.", index + 1))
            plan.append((moves[0], quantity, lot, location, line.get("package")))
        if unknown:
            exc = UnknownCodeError(
                _(
                    "Unknown codes from %(system)s were quarantined, none was guessed: "
                    "%(codes)s. Map them under Logistics Sync > Activity > Code Quarantine, "
                    "then Retry.",
                    system=self.system_id.name,
                    codes=", ".join(f"{code} ({domain})" for domain, code in unknown),
                )
            )
            exc.logistics_sync_codes = unknown
            raise exc
        self._check_over_pick(picking, plan)
        return plan

    @staticmethod
    def _collect(unknown, resolve, *args):
        """``resolve(*args)``; an unknown code is added to ``unknown`` (``None`` then)."""
        try:
            return resolve(*args)
        except UnknownCodeError as exc:
            unknown.extend(exc.logistics_sync_codes)
            return None

    def _check_over_pick(self, picking, plan):
        stage = self.payload["stage"]
        for move in {entry[0] for entry in plan}:
            new = sum(entry[1] for entry in plan if entry[0] == move)
            if stage == "packed":
                # packing what was picked already adds nothing
                unpacked = sum(
                    ml.quantity
                    for ml in move.move_line_ids
                    if ml.picked and not ml.result_package_id
                )
                new = max(new - unpacked, 0)
            picked = sum(move.move_line_ids.filtered("picked").mapped("quantity"))
            if (
                float_compare(
                    picked + new, move.product_uom_qty, precision_rounding=move.product_uom.rounding
                )
                > 0
            ):
                raise UserError(
                    _(
                        "Over-pick refused: %(product)s would be %(total)s %(uom)s on "
                        "%(picking)s, which asks for %(demand)s.",
                        product=move.product_id.display_name,
                        total=picked + new,
                        uom=move.product_uom.name,
                        picking=picking.name,
                        demand=move.product_uom_qty,
                    )
                )

    def _code(self, domain, code):
        try:
            return self.env["logistics.sync.code.map"]._to_canonical(self.system_id, domain, code)
        except UnknownCodeError as exc:
            exc.logistics_sync_codes = [(domain, code)]
            raise

    def _resolve_sku(self, picking, sku):
        """The product the system calls ``sku``: its cross-reference, the SKU code map, or
        one of the transfer's products whose internal reference is exactly ``sku`` (what
        the request sent when no partner SKU is known). Anything else is quarantined."""
        system = self.system_id
        product = self.env["logistics.sync.xref"]._resolve(system, "product.product", sku)
        if product:
            return product
        mapped = self.env["logistics.sync.code.map"].search_count(
            [("system_id", "=", system.id), ("domain", "=", "sku"), ("external_code", "=", sku)]
        )
        if mapped:
            canonical = self._code("sku", sku)
            product = picking.move_ids.product_id.filtered(lambda p: p.default_code == canonical)
            if not product:
                product = self.env["product.product"].search(
                    [
                        ("default_code", "=", canonical),
                        ("company_id", "in", [False, picking.company_id.id]),
                    ],
                    limit=1,
                )
            if product:
                return product[:1]
            raise UserError(
                _(
                    "SKU '%(sku)s' maps to '%(canonical)s', which no product has.",
                    sku=sku,
                    canonical=canonical,
                )
            )
        product = picking.move_ids.product_id.filtered(lambda p: p.default_code == sku)
        if product:
            return product[:1]
        return self._code("sku", sku)  # quarantined, raises

    def _resolve_lot(self, picking, product, name):
        if not name:
            return self.env["stock.lot"]
        if product.tracking == "none":
            raise UserError(_("%s is not tracked by lot or serial number.", product.display_name))
        Lot = self.env["stock.lot"]
        domain = [
            ("product_id", "=", product.id),
            ("company_id", "in", [False, picking.company_id.id]),
        ]
        lot = Lot.search(domain + [("name", "=", name)], limit=1)
        if lot:
            return lot
        mapped = self.env["logistics.sync.code.map"].search_count(
            [
                ("system_id", "=", self.system_id.id),
                ("domain", "=", "lot"),
                ("external_code", "=", name),
            ]
        )
        if mapped:
            canonical = self._code("lot", name)
            lot = Lot.search(domain + [("name", "=", canonical)], limit=1)
            if lot:
                return lot
            name = canonical
        if picking.picking_type_id.use_create_lots:
            return Lot.create(
                {"name": name, "product_id": product.id, "company_id": picking.company_id.id}
            )
        return self._code("lot", name)  # quarantined, raises

    def _resolve_location(self, picking, code):
        if not code:
            return self.env["stock.location"]
        canonical = self._code("location", code)
        location = self.env["stock.location"].search(
            [
                "|",
                ("barcode", "=", canonical),
                ("complete_name", "=", canonical),
                ("company_id", "in", [False, picking.company_id.id]),
            ],
            limit=1,
        )
        if not location or not location._child_of(picking.location_id):
            raise UserError(
                _(
                    "Location '%(code)s' (%(canonical)s) is not a location %(picking)s takes "
                    "goods from.",
                    code=code,
                    canonical=canonical,
                    picking=picking.name,
                )
            )
        return location

    def _resolve_uom(self, picking, code):
        """The unit ``code`` names: through the system's uom code map (its canonical value
        is a unit's name), else the unit of one of the transfer's moves named exactly so
        (what the request sent when no code is mapped). Anything else is quarantined."""
        Uom = self.env["uom.uom"]
        if not code:
            return Uom
        mapped = self.env["logistics.sync.code.map"].search_count(
            [
                ("system_id", "=", self.system_id.id),
                ("domain", "=", "uom"),
                ("external_code", "=", code),
            ]
        )
        if mapped:
            canonical = self._code("uom", code)
            uom = Uom.search([("name", "=", canonical)], limit=1)
            if not uom:
                raise UserError(
                    _(
                        "Unit code '%(code)s' maps to '%(canonical)s', which no unit of "
                        "measure has.",
                        code=code,
                        canonical=canonical,
                    )
                )
            return uom
        uom = picking.move_ids.product_uom.filtered(lambda u: u.name == code)
        if uom:
            return uom[:1]
        return self._code("uom", code)  # quarantined, raises

    def _in_move_unit(self, move, quantity, uom, index):
        """``quantity`` of ``uom`` in the move's unit; refused when the units do not convert
        or the result is finer than the move's unit can hold (never rounded away)."""
        target = move.product_uom
        if not uom or uom == target:
            return quantity
        if uom.category_id != target.category_id:
            raise UserError(
                _(
                    "Line %(index)s: %(unit)s cannot be converted into %(target)s, the unit of "
                    "%(product)s on the transfer.",
                    index=index + 1,
                    unit=uom.name,
                    target=target.name,
                    product=move.product_id.display_name,
                )
            )
        converted = uom._compute_quantity(quantity, target, rounding_method="HALF-UP")
        back = target._compute_quantity(converted, uom, round=False)
        if float_compare(back, quantity, precision_rounding=uom.rounding):
            raise UserError(
                _(
                    "Line %(index)s: %(quantity)s %(unit)s is not a whole number of %(target)s "
                    "at its rounding (%(rounding)s).",
                    index=index + 1,
                    quantity=f"{quantity:g}",
                    unit=uom.name,
                    target=target.name,
                    rounding=target.rounding,
                )
            )
        return converted

    def _packages(self, values_list):
        return {values["name"]: self._package(values["name"], values) for values in values_list}

    def _package(self, name, values):
        """The package the system calls ``name`` (one per name, cross-referenced), with its
        weight and a package type of its dimensions."""
        system = self.system_id
        Xref = self.env["logistics.sync.xref"]
        package = Xref._resolve(system, "stock.quant.package", name)
        if not package:
            package = self.env["stock.quant.package"].create(
                {"name": name, "company_id": self.company_id.id or False}
            )
            Xref._link(system, package, name)
        update = {}
        if values.get("weight"):
            update["shipping_weight"] = values["weight"]
        dimensions = [values.get(k) for k in ("length", "width", "height")]
        if all(dimensions):
            update["package_type_id"] = self._package_type(*dimensions).id
        if update:
            package.write(update)
        return package

    def _package_type(self, length, width, height):
        PackageType = self.env["stock.package.type"]
        company = self.company_id
        package_type = PackageType.search(
            [
                ("packaging_length", "=", length),
                ("width", "=", width),
                ("height", "=", height),
                ("company_id", "in", [False, company.id]),
            ],
            limit=1,
        )
        return package_type or PackageType.create(
            {
                "name": f"{self.system_id.name} {length:g}x{width:g}x{height:g}",
                "packaging_length": length,
                "width": width,
                "height": height,
                "company_id": company.id or False,
            }
        )

    def _pack_picked(self, move, quantity, lot, package):
        """Put up to ``quantity`` already picked (not yet packed) into ``package``; return
        what is left to pick as well."""
        rounding = move.product_uom.rounding
        for line in move.move_line_ids.filtered(
            lambda ml: ml.picked and not ml.result_package_id and (not lot or ml.lot_id == lot)
        ):
            if float_is_zero(quantity, precision_rounding=rounding):
                break
            take = min(line.quantity, quantity)
            if float_compare(take, line.quantity, precision_rounding=rounding) < 0:
                line.copy({"quantity": take, "result_package_id": package.id, "picked": True})
                line.quantity -= take
            else:
                line.result_package_id = package
            quantity -= take
        return quantity

    def _pick(self, move, quantity, lot, location, package):
        """Record ``quantity`` picked: taken from Odoo's reservation where it matches, one
        picked move line for it."""
        rounding = move.product_uom.rounding
        left = quantity
        reserved = move.move_line_ids.filtered(lambda ml: not ml.picked)
        preferred = reserved.filtered(
            lambda ml: (not lot or ml.lot_id == lot)
            and (not location or ml.location_id == location)
        )
        for line in preferred | reserved:
            if float_is_zero(left, precision_rounding=rounding):
                break
            take = min(line.quantity, left)
            if float_compare(take, line.quantity, precision_rounding=rounding) < 0:
                line.quantity -= take
            else:
                line.unlink()
            left -= take
        self.env["stock.move.line"].create(
            {
                "move_id": move.id,
                "picking_id": move.picking_id.id,
                "product_id": move.product_id.id,
                "product_uom_id": move.product_uom.id,
                "location_id": (location or move.location_id).id,
                "location_dest_id": move.location_dest_id.id,
                "lot_id": lot.id or False,
                "quantity": quantity,
                "result_package_id": package.id if package else False,
                "picked": True,
            }
        )

    def _ship(self, fulfilment, data):
        picking = fulfilment.picking_id
        tracking = ", ".join(data.get("tracking_numbers") or [])
        fulfilment.write(
            {
                "carrier": data.get("carrier") or False,
                "service": data.get("service") or False,
                "tracking_numbers": tracking or False,
            }
        )
        if tracking and "carrier_tracking_ref" in picking._fields:
            picking.carrier_tracking_ref = tracking
        if not any(picking.move_ids.mapped("picked")):
            raise UserError(_("%s cannot ship: nothing was reported picked.", picking.name))
        backorders_before = picking.backorder_ids
        # short pick: the operation type's backorder setting decides (Never: the rest is
        # cancelled; otherwise a backorder is requested from the system)
        # nobody is there to answer a wizard: stock_sms' one-time "SMS cost" warning would
        # stop the validation (outside tests only), so no SMS goes out for it
        picking.with_context(
            skip_backorder=True, skip_sms=True, **{CONTEXT_WMS_VALIDATE: True}
        ).button_validate()
        if picking.state != "done":
            raise UserError(_("%s could not be validated.", picking.name))
        (picking.backorder_ids - backorders_before)._logistics_sync_wms_request()
        picking.message_post(
            body=_(
                "Shipped by %(system)s (confirmation %(id)s)%(tracking)s.",
                system=self.system_id.name,
                id=self.external_id,
                tracking=_(", tracking %s", tracking) if tracking else "",
            )
        )

    # ------------------------------------------------------------ actions

    def action_retry(self):
        """Apply the failed confirmations again, e.g. after mapping a quarantined code."""
        self.check_access("write")
        for record in self.sudo().filtered(lambda r: r.state in ("error", "quarantined")):
            record._apply()
        return True

    def action_dismiss(self):
        self.check_access("write")
        self.sudo().filtered(lambda r: r.state in ("error", "quarantined")).write(
            {"state": "dismissed"}
        )
        return True
