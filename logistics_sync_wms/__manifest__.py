{
    "name": "Logistics Sync WMS / 3PL",
    "summary": "Fulfilment with external warehouses and 3PLs, inventory reconciliation",
    "version": "18.0.1.0.0",
    "category": "Inventory/Logistics",
    "license": "LGPL-3",
    "author": "Logistics Sync",
    "website": "https://example.com/logistics_sync",
    "depends": ["logistics_sync_core", "logistics_sync_webhook", "stock"],
    "data": [
        "security/ir.model.access.csv",
        "views/logistics_sync_wms_menus.xml",
    ],
    "installable": True,
}
