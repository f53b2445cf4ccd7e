{
    "name": "Logistics Sync Webhooks and API",
    "summary": "The HTTP edge of Logistics Sync: outbound and inbound webhooks, partner REST API",
    "version": "18.0.1.0.0",
    "category": "Inventory/Logistics",
    "license": "LGPL-3",
    "author": "Logistics Sync",
    "website": "https://example.com/logistics_sync",
    "depends": ["logistics_sync_core"],
    "data": [
        "security/ir.model.access.csv",
        "views/logistics_sync_webhook_menus.xml",
    ],
    "installable": True,
}
