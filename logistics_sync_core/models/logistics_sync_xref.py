import psycopg2

from odoo import _, api, fields, models

from ..exceptions import DuplicateReferenceError


class LogisticsSyncXref(models.Model):
    """Cross-reference: (system, Odoo record) <-> the id that system uses for it.

    Unique in both directions, enforced by PostgreSQL: a system has one external id per record
    and one record per external id (per model). Lookups either way use one of those indexes.
    """

    _name = "logistics.sync.xref"
    _description = "Logistics Sync Cross-Reference"
    _rec_name = "external_id"
    _order = "id desc"

    system_id = fields.Many2one(
        "logistics.sync.system", required=True, ondelete="cascade", index=False
    )
    company_id = fields.Many2one(related="system_id.company_id", store=True)
    res_model = fields.Char(string="Model", required=True)
    res_id = fields.Many2oneReference(string="Record ID", model_field="res_model", required=True)
    external_id = fields.Char(
        required=True, help="The identifier the external system uses for this record."
    )
    canonical_id = fields.Char(
        compute="_compute_canonical_id",
        help="Stable id of the Odoo record shared with every system.",
    )

    _sql_constraints = [
        (
            "record_unique",
            "UNIQUE(system_id, res_model, res_id)",
            "This record already has an external id for this system.",
        ),
        (
            "external_unique",
            "UNIQUE(system_id, res_model, external_id)",
            "This external id already points to another record of this system.",
        ),
    ]

    def _compute_canonical_id(self):
        records = self.env["logistics.sync.record"].sudo()
        for xref in self:
            row = records.search(
                [("res_model", "=", xref.res_model), ("res_id", "=", xref.res_id)], limit=1
            )
            xref.canonical_id = row.canonical_id

    @api.model
    def _link(self, system, record, external_id):
        """Record that ``system`` calls ``record`` ``external_id``.

        Relinking the same pair is a no-op. Any conflict, including one with a concurrent
        transaction, raises :class:`DuplicateReferenceError` and writes nothing.
        """
        record.ensure_one()
        if self._external_id(system, record) == external_id:
            return self.search(self._domain(system, record._name, res_id=record.id))
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    """
                    INSERT INTO logistics_sync_xref
                        (system_id, res_model, res_id, external_id, company_id,
                         create_uid, create_date, write_uid, write_date)
                    VALUES (%s, %s, %s, %s, %s, %s, now() at time zone 'UTC',
                            %s, now() at time zone 'UTC')
                    RETURNING id
                    """,
                    (
                        system.id,
                        record._name,
                        record.id,
                        external_id,
                        system.company_id.id or None,
                        self.env.uid,
                        self.env.uid,
                    ),
                    log_exceptions=False,
                )
                xref = self.browse(self.env.cr.fetchone()[0])
        except psycopg2.errors.UniqueViolation as exc:
            raise DuplicateReferenceError(
                _(
                    "Cannot link %(record)s to %(external)s for %(system)s: a "
                    "cross-reference already exists for this record or this external id "
                    "(%(detail)s).",
                    record=record.display_name,
                    external=external_id,
                    system=system.name,
                    detail=exc.diag.constraint_name,
                )
            ) from exc
        self.env["logistics.sync.record"]._canonical_id(record)
        return xref

    @api.model
    def _domain(self, system, res_model, res_id=None, external_id=None):
        domain = [("system_id", "=", system.id), ("res_model", "=", res_model)]
        if res_id is not None:
            domain.append(("res_id", "=", res_id))
        if external_id is not None:
            domain.append(("external_id", "=", external_id))
        return domain

    @api.model
    def _external_id(self, system, record):
        """Return the id ``system`` uses for ``record``, or ``False``."""
        record.ensure_one()
        row = self.search_read(
            self._domain(system, record._name, res_id=record.id), ["external_id"], limit=1
        )
        return row[0]["external_id"] if row else False

    @api.model
    def _resolve(self, system, res_model, external_id):
        """Return the ``res_model`` record that ``system`` calls ``external_id`` (maybe empty)."""
        row = self.search_read(
            self._domain(system, res_model, external_id=external_id), ["res_id"], limit=1
        )
        return self.env[res_model].browse(row[0]["res_id"] if row else [])

    @api.model
    def _resolve_reference(self, system, res_model, reference):
        """Return the ``res_model`` record ``reference`` names for ``system``: the system's
        own id (cross-reference) or else the canonical id (maybe empty)."""
        record = self._resolve(system, res_model, reference)
        if not record:
            found = self.env["logistics.sync.record"]._resolve_canonical(reference)
            if found is not None and found._name == res_model:
                record = found.exists()
        return record
