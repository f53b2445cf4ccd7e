from odoo.tools.sql import drop_index


def migrate(cr, version):
    # 18.0.1.0.0 indexed each uid twice, by its field and by its UNIQUE constraint: Odoo
    # keeps an index a field no longer asks for, and each one costs every insert a write
    drop_index(
        cr, "logistics_sync_api_shipment_request__uid_index", "logistics_sync_api_shipment_request"
    )
