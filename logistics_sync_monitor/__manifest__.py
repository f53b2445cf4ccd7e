{
    "name": "Logistics Sync Monitor",
    "summary": "Exception desk, dashboards, SLA alerts, requeue and replay console, "
    "Prometheus metrics",
    "version": "18.0.1.0.1",
    "category": "Inventory/Logistics",
    "license": "LGPL-3",
    "author": "Logistics Sync",
    "website": "https://example.com/logistics_sync",
    "depends": [
        "logistics_sync_core",
        "logistics_sync_webhook",
        "logistics_sync_carrier",
        "logistics_sync_wms",
    ],
    "external_dependencies": {"python": ["prometheus_client"]},
    "data": [
        "security/ir.model.access.csv",
        "security/logistics_sync_exception_security.xml",
        "data/logistics_sync_event_type_data.xml",
        "data/mail_template_data.xml",
        "data/discuss_channel_data.xml",
        "data/ir_cron_data.xml",
        "views/logistics_sync_exception_views.xml",
        "views/logistics_sync_exception_rule_views.xml",
        "views/logistics_sync_console_views.xml",
        "views/logistics_sync_metrics_token_views.xml",
        "views/logistics_sync_monitor_rollup_views.xml",
        "views/res_users_views.xml",
        "views/logistics_sync_system_views.xml",
        "views/logistics_sync_shipment_views.xml",
        "views/logistics_sync_monitor_views.xml",
        "views/logistics_sync_monitor_menus.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "logistics_sync_monitor/static/src/dashboard/*",
        ],
        "web.assets_tests": [
            "logistics_sync_monitor/static/tests/tours/*",
        ],
    },
    "installable": True,
}
