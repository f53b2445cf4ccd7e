import json

from jsonschema.exceptions import SchemaError

from odoo import _, api, fields, models, tools
from odoo.exceptions import ValidationError

from .. import payload as payload_tools


class LogisticsSyncEventType(models.Model):
    """A canonical, versioned event type with its JSON Schema and criticality class."""

    _name = "logistics.sync.event.type"
    _description = "Logistics Sync Event Type"
    _inherit = ["logistics.sync.cache.mixin"]
    _order = "code, version desc"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(
        required=True, help="Canonical type, e.g. 'shipment.delivered'. Never reused."
    )
    version = fields.Integer(required=True, default=1)
    active = fields.Boolean(default=True)
    criticality = fields.Selection(
        [("realtime", "Real-time"), ("batch", "Batch")],
        required=True,
        default="realtime",
        help="Real-time: order acceptance, reservation, milestones, cancellation, exceptions "
        "— sent at once. Batch: snapshots, costs, history, reference data — may be grouped and "
        "sent on a schedule.",
    )
    json_schema = fields.Text(
        string="JSON Schema",
        required=True,
        default='{"type": "object"}',
        help="JSON Schema (draft 2020-12) every payload of this type must satisfy.",
    )
    description = fields.Text(translate=True)

    _sql_constraints = [
        ("code_version_unique", "UNIQUE(code, version)", "This type and version exist."),
    ]

    @api.depends("code", "version")
    def _compute_display_name(self):
        for event_type in self:
            event_type.display_name = f"{event_type.code} v{event_type.version}"

    @api.constrains("json_schema")
    def _check_json_schema(self):
        for event_type in self:
            try:
                payload_tools.check_schema(event_type.json_schema)
            except (ValueError, SchemaError) as exc:
                raise ValidationError(
                    _(
                        "The JSON Schema of %(type)s is invalid: %(error)s",
                        type=event_type.code,
                        error=str(exc).splitlines()[0],
                    )
                ) from exc

    @api.model
    def _get(self, code, version=None):
        """Return the active type ``code`` (the latest version unless ``version`` is given)."""
        type_id = self._get_id(code, version or 0)
        if not type_id:
            raise ValidationError(_("Unknown event type '%s'.", code))
        return self.sudo().browse(type_id)

    @api.model
    @tools.ormcache("code", "version")
    def _get_id(self, code, version):
        # every emitted event and every inbound message looks its type up: cached, and the
        # cache is cleared whenever the catalog changes
        domain = [("code", "=", code)]
        if version:
            domain.append(("version", "=", version))
        return self.sudo().search(domain, order="version desc", limit=1).id

    @tools.ormcache("self.id")
    def _schema_text(self):
        """This type's JSON Schema, cached like :meth:`_get_id`: every emitted event and every
        inbound message is checked against it, and reading the type's row for it cost a query
        a transaction (a request, for inbound messages)."""
        self.ensure_one()
        return self.json_schema

    def _validate(self, payload):
        """Raise ``ValidationError`` naming the failing JSON path if ``payload`` is invalid."""
        self.ensure_one()
        error = payload_tools.schema_errors(self._schema_text(), payload)
        if error:
            path, message = error
            raise ValidationError(
                _(
                    "Invalid %(type)s payload at %(path)s: %(message)s",
                    type=self.display_name,
                    path=path,
                    message=message,
                )
            )

    def action_pretty_print(self):
        for event_type in self:
            event_type.json_schema = json.dumps(json.loads(event_type.json_schema), indent=2)
