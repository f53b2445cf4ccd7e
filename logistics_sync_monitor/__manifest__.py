{
    "name": "Logistics Sync Monitor",
    "summary": "Where warehouse staff see what is stuck and admins replay what failed",
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
    ],
    "data": [
        "security/ir.model.access.csv",
        "views/logistics_sync_monitor_views.xml",
        "views/logistics_sync_monitor_menus.xml",
    ],
    "installable": True,
}
