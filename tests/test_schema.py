from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestSchema(TransactionCase):
    """The suite's tables carry no index twice: every index is written at each insert (an
    emission, a delivery), and a copy serves no query the first does not."""

    def test_no_table_of_the_suite_indexes_the_same_columns_twice(self):
        self.env.cr.execute(
            """
            SELECT table_.relname, array_agg(index_.indexrelid::regclass::text ORDER BY 1)
              FROM pg_index index_
              JOIN pg_class table_ ON table_.oid = index_.indrelid
             WHERE table_.relname LIKE 'logistics\\_sync\\_%%'
             GROUP BY table_.relname, index_.indkey::text, index_.indclass::text,
                      pg_get_expr(index_.indpred, index_.indrelid),
                      pg_get_expr(index_.indexprs, index_.indrelid)
            HAVING count(*) > 1
            """
        )
        self.assertEqual(self.env.cr.fetchall(), [])

    def test_the_uids_stay_unique(self):
        # what the dropped copies stood beside: the UNIQUE constraints index the uids
        self.env.cr.execute(
            """
            SELECT tablename FROM pg_indexes
             WHERE indexname = tablename || '_uid_unique' AND indexdef LIKE '%%UNIQUE%%'
            """
        )
        self.assertLessEqual(
            {
                "logistics_sync_event",
                "logistics_sync_message",
                "logistics_sync_api_shipment_request",
                "logistics_sync_wms_fulfilment",
            },
            {row[0] for row in self.env.cr.fetchall()},
        )
