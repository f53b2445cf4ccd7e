from odoo.tools.sql import drop_index


def migrate(cr, version):
    # 18.0.1.0.0 indexed a message's delivered_at a second time, beside its field's index:
    # one more index written at every delivery
    drop_index(cr, "logistics_sync_message_ls_monitor_delivered_at_idx", "logistics_sync_message")
