from odoo import _, api, models


class LogisticsSyncExceptionSource(models.AbstractModel):
    """What a model inherits to feed the exception desk (the extension point for sources).

    Implement :meth:`_exception_kind` (a kind registered in
    ``logistics.sync.exception._get_exception_sources``), :meth:`_exception_needed` and
    :meth:`_exception_values`; the desk is then kept in step whenever a field of
    ``_exception_trigger_fields`` is written (created records too). Example for a carrier
    shipment whose booking failed::

        class LogisticsSyncShipment(models.Model):
            _name = "logistics.sync.shipment"
            _inherit = ["logistics.sync.shipment", "logistics.sync.exception.source"]

            def _exception_kind(self):
                return "booking_failed"

            def _exception_needed(self):
                if self.state == "booking_failed":
                    return True
                return False if self.state == "booked" else None

            def _exception_values(self):
                return {"name": ..., "system_id": self.system_id.id,
                        **self._exception_links(self.picking_id)}

    A record that can have several problems at once (a carrier shipment: its booking, its
    cancellation, its delivery, its proof of delivery) overrides
    :meth:`_exception_concerns` instead, one concern per problem.
    """

    _name = "logistics.sync.exception.source"
    _description = "Logistics Sync Exception Source"

    #: Writing one of these fields re-evaluates the record's exception.
    _exception_trigger_fields = ("state",)

    def _exception_kind(self):
        raise NotImplementedError

    def _exception_key(self):
        """The dedup key: one exception per technical record unless overridden."""
        self.ensure_one()
        return f"{self._exception_kind()}:{self._name}:{self.id}"

    def _exception_needed(self):
        """``True``: the problem is there (open or count it); ``False``: it is gone (resolve
        the open exception); ``None``: nothing to say in this state."""
        raise NotImplementedError

    def _exception_values(self):
        """Exception values (see ``logistics.sync.exception._open``)."""
        raise NotImplementedError

    def _exception_resolution_note(self):
        return _("The cause was resolved.")

    def _exception_record(self, model, res_id):
        """The record ``model``/``res_id`` points at (``None`` when unknown)."""
        return self.env[model].browse(res_id) if model in self.env and res_id else None

    def _exception_links(self, business_record, severity="medium"):
        """Common values: this record as technical record, ``business_record`` and its
        warehouse, company."""
        self.ensure_one()
        Exception = self.env["logistics.sync.exception"]
        warehouse = Exception._warehouse_of(business_record)
        company = self.company_id if "company_id" in self._fields else self.env["res.company"]
        return {
            "severity": severity,
            "warehouse_id": warehouse.id or False,
            "company_id": company.id or warehouse.company_id.id or False,
            **Exception._record_values(self, "source"),
            **Exception._record_values(business_record, "res"),
        }

    def _exception_concerns(self):
        """The problems this record can have, each a dict: ``kind``, ``key``, ``needed``
        (as :meth:`_exception_needed`), ``values`` (a callable returning the exception
        values, called only when needed), optional ``note`` (the resolution note) and
        ``fields`` (the trigger fields that re-evaluate this concern; all when absent).
        Default: the single problem of the four methods above."""
        self.ensure_one()
        needed = self._exception_needed()
        if needed is None:
            return []
        return [
            {
                "kind": self._exception_kind(),
                "key": self._exception_key(),
                "needed": needed,
                "values": self._exception_values,
                "note": self._exception_resolution_note(),
            }
        ]

    def _exception_sync(self, count=True, changed=None):
        """Re-evaluate the exceptions of these records; ``changed``: the field names just
        written (``None``: every concern)."""
        self.env["logistics.sync.exception"]._sync_sources(self, count, changed)

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        records._exception_sync()
        return records

    def write(self, vals):
        result = super().write(vals)
        changed = set(vals) & set(self._exception_trigger_fields)
        if changed:
            self._exception_sync(changed=changed)
        return result
