{
    "name": "Logistics Sync Carriers",
    "summary": "Carrier booking, labels, tracking milestones and proof of delivery in sync",
    "version": "18.0.1.0.0",
    "category": "Inventory/Logistics",
    "license": "LGPL-3",
    "author": "Logistics Sync",
    "website": "https://example.com/logistics_sync",
    "depends": ["logistics_sync_core", "logistics_sync_webhook", "stock_delivery"],
    "data": [
        "security/ir.model.access.csv",
        "views/logistics_sync_carrier_menus.xml",
    ],
    "installable": True,
}
