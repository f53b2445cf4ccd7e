{
    "name": "Logistics Sync",
    "summary": "Keep orders, stock, shipments and exceptions in sync between Odoo and "
    "WMS, TMS, carriers, 3PLs, marketplaces and finance",
    "version": "18.0.1.0.0",
    "category": "Inventory/Logistics",
    "license": "LGPL-3",
    "author": "Logistics Sync",
    "website": "https://example.com/logistics_sync",
    "depends": [
        "logistics_sync_core",
        "logistics_sync_webhook",
        "logistics_sync_carrier",
        "logistics_sync_wms",
        "logistics_sync_monitor",
    ],
    "demo": [
        "demo/logistics_sync_demo.xml",
        "demo/logistics_sync_monitor_demo.xml",
        "demo/logistics_sync_carrier_demo.xml",
        "demo/logistics_sync_monitor_carrier_demo.xml",
        "demo/logistics_sync_wms_live_demo.xml",
    ],
    "installable": True,
    "application": True,
}
