"""CSV and EDIFACT readers and writers on fixture files (no database)."""

from pathlib import Path

from odoo.tests import BaseCase

from .. import file_formats
from ..file_formats import FileFormatError

FIXTURES = Path(__file__).parent / "fixtures"
CSV_COLUMNS = [
    ("Order", "fulfilment_id"),
    ("Dispatch", "confirmation_id"),
    ("Item", "sku"),
    ("Qty", "quantity"),
    ("Lot", "lot"),
    ("Box", "package"),
    ("Weight", "package_weight"),
    ("Tracking", "tracking_number"),
]


def fixture(name):
    return (FIXTURES / name).read_text()


class TestEdifact(BaseCase):
    def test_desadv_fixture(self):
        [(line, payload)] = file_formats.read_desadv(fixture("desadv_acme.edi"))
        self.assertEqual(line, 3)
        self.assertEqual(payload["fulfilment_id"], "WH/OUT/00042")
        self.assertEqual(payload["confirmation_id"], "DSP-000123")
        self.assertEqual(payload["stage"], "shipped")
        self.assertTrue(payload["complete"])
        self.assertEqual((payload["carrier"], payload["service"]), ("SWIFT", "EXPRESS"))
        self.assertEqual(payload["tracking_numbers"], ["1Z999AA10123456784"])
        self.assertEqual(
            payload["packages"],
            [{"name": "BOX-1", "weight": 4.25, "length": 40.0, "width": 30.0, "height": 20.0}],
        )
        self.assertEqual(
            payload["lines"],
            [
                {
                    "sku": "CHAIR-01",
                    "quantity": 2.0,
                    "package": "BOX-1",
                    "location": "A-01-02",
                    "lot": "LOT-7",
                },
                {"sku": "DESK-02", "quantity": 1.0, "package": "BOX-1"},
                {"sku": "LAMP-03", "quantity": 3.5},
            ],
        )

    def test_desadv_round_trip(self):
        [(_line, payload)] = file_formats.read_desadv(fixture("desadv_acme.edi"))
        second = dict(payload, confirmation_id="DSP-2", stage="packed", complete=False)
        text = file_formats.write_desadv([payload, second], sender="ACME3PL", recipient="ODOO")
        self.assertEqual([p for _l, p in file_formats.read_desadv(text)], [payload, second])

    def test_desadv_unit_code_per_line(self):
        text = fixture("desadv_acme.edi").replace("QTY+12:3.5'", "QTY+12:3.5:DZN'")
        [(_line, payload)] = file_formats.read_desadv(text)
        self.assertEqual(payload["lines"][2], {"sku": "LAMP-03", "quantity": 3.5, "uom": "DZN"})
        self.assertNotIn("uom", payload["lines"][0])
        written = file_formats.write_desadv([payload])
        self.assertIn("QTY+12:3.5:DZN'", written)
        self.assertEqual([p for _l, p in file_formats.read_desadv(written)], [payload])

    def test_desadv_error_names_line(self):
        with self.assertRaises(FileFormatError) as caught:
            file_formats.read_desadv(fixture("desadv_bad_quantity.edi"))
        self.assertEqual(caught.exception.line, 8)
        self.assertIn("'two' is not a number", caught.exception.message)

    def test_desadv_without_order_number(self):
        text = fixture("desadv_acme.edi").replace("RFF+ON:WH/OUT/00042'\n", "")
        with self.assertRaises(FileFormatError) as caught:
            file_formats.read_desadv(text)
        self.assertEqual(caught.exception.line, 3)
        self.assertIn("RFF+ON", caught.exception.message)

    def test_wrong_message_type(self):
        with self.assertRaises(FileFormatError) as caught:
            file_formats.read_desadv(fixture("invrpt_acme.edi"))
        self.assertEqual(caught.exception.line, 3)
        self.assertIn("INVRPT, DESADV expected", caught.exception.message)

    def test_syntax_error_names_line(self):
        text = fixture("invrpt_acme.edi").rstrip("\n").rstrip("'")  # last segment unclosed
        header, lines = file_formats.read_invrpt(text)
        with self.assertRaises(FileFormatError) as caught:
            list(lines)
        self.assertEqual(caught.exception.line, 16)

    def test_invrpt_fixture_and_round_trip(self):
        header, lines = file_formats.read_invrpt(fixture("invrpt_acme.edi"))
        self.assertEqual(
            header,
            {
                "snapshot_id": "INV-20261206",
                "kind": "full",
                "taken_at": "2026-12-06T06:00:00Z",
                "warehouse": "ACME-EAST",
            },
        )
        self.assertNotIsInstance(lines, list | tuple)  # streamed, never a list
        lines = list(lines)
        self.assertEqual(
            lines,
            [
                {"sku": "CHAIR-01", "quantity": 12.0, "location": "A-01-02", "lot": "LOT-7"},
                {"sku": "DESK-02", "quantity": 0.0, "location": "B-04-01"},
            ],
        )
        header_again, lines_again = file_formats.read_invrpt(
            file_formats.write_invrpt(header, iter(lines))
        )
        self.assertEqual((header_again, list(lines_again)), (header, lines))

    def test_invrpt_is_read_lazily(self):
        lines = ({"sku": f"SKU-{n}", "quantity": float(n)} for n in range(1, 2001))
        text = file_formats.write_invrpt({"snapshot_id": "BIG"}, lines)
        broken = text.replace("QTY+145:1500'", "QTY+145:?+x'")
        _header, read = file_formats.read_invrpt(broken)
        first = [next(read) for _n in range(10)]  # nothing is read past what is asked
        self.assertEqual(first[-1], {"sku": "SKU-10", "quantity": 10.0})
        with self.assertRaises(FileFormatError) as caught:
            for _line in read:
                pass
        # UNA, UNB, UNH, BGM, then two segments per item: QTY of item 1500 is line 3004
        self.assertEqual(caught.exception.line, 3004)

    def test_orders_round_trip(self):
        payload = {
            "fulfilment_id": "f-7c1e",
            "name": "WH/OUT/00042",
            "requested_date": "2026-12-08",
            "ship_to": {
                "name": "Deco Addict",
                "street": "77 Santa Barbara Rd",
                "city": "Pleasant Hill",
                "zip": "94523",
                "country": "US",
            },
            "carrier": "SWIFT",
            "service": "EXPRESS",
            "lines": [
                {"sku": "CHAIR-01", "partner_sku": "A-CH1", "quantity": 2.0, "lots": ["LOT-7"]},
                {"sku": "DESK?'+:02", "quantity": 1.5},  # EDIFACT control characters escaped
            ],
        }
        text = file_formats.write_orders(payload, sender="ODOO", recipient="ACME3PL")
        self.assertIn("UNH+1+ORDERS:D:96A:UN'", text)
        self.assertIn("LIN+2++DESK???'?+?:02:SA'", text)
        self.assertEqual(file_formats.read_orders(text), dict(payload, function="9"))
        cancelled = file_formats.write_orders({"fulfilment_id": "f-7c1e"}, function="1")
        self.assertIn("BGM+220+f-7c1e+1'", cancelled)


class TestCsv(BaseCase):
    def test_confirmations_fixture(self):
        rows = file_formats.read_csv(fixture("confirmations_acme.csv"), CSV_COLUMNS, ";")
        result = list(file_formats.confirmations_from_rows(rows))
        self.assertEqual([line for line, _payload in result], [2, 4])
        first, second = (payload for _line, payload in result)
        self.assertEqual(
            first,
            {
                "fulfilment_id": "WH/OUT/00042",
                "confirmation_id": "DSP-9",
                "stage": "shipped",
                "lines": [
                    {"sku": "CHAIR-01", "quantity": 2.0, "lot": "LOT-7", "package": "BOX-1"},
                    {"sku": "DESK-02", "quantity": 1.0, "package": "BOX-1"},
                ],
                "packages": [
                    {"name": "BOX-1", "weight": 4.25, "length": 0.0, "width": 0.0, "height": 0.0}
                ],
                "tracking_numbers": ["1Z999"],
                "complete": True,
            },
        )
        self.assertEqual(second["lines"], [{"sku": "LAMP-03", "quantity": 3.0}])

    def test_confirmation_round_trip(self):
        rows = file_formats.read_csv(fixture("confirmations_acme.csv"), CSV_COLUMNS, ";")
        payloads = [p for _line, p in file_formats.confirmations_from_rows(rows)]
        columns = [*CSV_COLUMNS, ("Stage", "stage"), ("Carrier", "carrier")]
        for header, delimiter in ((True, ","), (False, "\t")):
            mapping = columns if header else [(str(n), f) for n, (_c, f) in enumerate(columns, 1)]
            text = file_formats.write_csv(
                (row for p in payloads for row in file_formats.confirmation_rows(p)),
                mapping,
                delimiter,
                header,
            )
            again = file_formats.confirmations_from_rows(
                file_formats.read_csv(text, mapping, delimiter, header)
            )
            self.assertEqual([p for _line, p in again], payloads)

    def test_confirmation_unit_column(self):
        columns = [*CSV_COLUMNS, ("Unit", "uom")]
        text = "Order;Dispatch;Item;Qty;Lot;Box;Weight;Tracking;Unit\n"
        text += "F1;D1;A;2;;;;;DZN\nF1;D1;B;1;;;;;\n"
        [(_line, payload)] = file_formats.confirmations_from_rows(
            file_formats.read_csv(text, columns, ";")
        )
        self.assertEqual(
            payload["lines"],
            [{"sku": "A", "quantity": 2.0, "uom": "DZN"}, {"sku": "B", "quantity": 1.0}],
        )
        again = file_formats.write_csv(file_formats.confirmation_rows(payload), columns, ";")
        self.assertEqual(
            [
                p
                for _l, p in file_formats.confirmations_from_rows(
                    file_formats.read_csv(again, columns, ";")
                )
            ],
            [payload],
        )

    def test_error_names_line(self):
        rows = file_formats.read_csv(fixture("confirmations_bad.csv"), CSV_COLUMNS, ";")
        with self.assertRaises(FileFormatError) as caught:
            list(file_formats.confirmations_from_rows(rows))
        self.assertEqual(caught.exception.line, 4)  # "1,5" on line 3 is a decimal comma
        self.assertEqual(caught.exception.message, "quantity 'three' is not a number")

    def test_missing_column_and_short_row(self):
        with self.assertRaises(FileFormatError) as caught:
            list(file_formats.read_csv("Item;Qty\r\nA;1\r\n", CSV_COLUMNS, ";"))
        self.assertEqual((caught.exception.line, "Order" in caught.exception.message), (1, True))
        columns = [("1", "sku"), ("3", "quantity")]
        with self.assertRaises(FileFormatError) as caught:
            list(file_formats.read_csv("A,x,1\nB,2\n", columns, ",", header=False))
        self.assertEqual(caught.exception.line, 2)

    def test_required_field_empty(self):
        text = "Order;Dispatch;Item;Qty;Lot;Box;Weight;Tracking\n;D;A;1;;;;\n"
        rows = file_formats.read_csv(text, CSV_COLUMNS, ";")
        with self.assertRaises(FileFormatError) as caught:
            list(file_formats.confirmations_from_rows(rows))
        self.assertEqual(
            (caught.exception.line, caught.exception.message), (2, "fulfilment_id is empty")
        )

    def test_snapshot_round_trip_streams(self):
        columns = [("sku", "sku"), ("location", "location"), ("lot", "lot"), ("qty", "quantity")]
        lines = [
            {"sku": "CHAIR-01", "location": "A-01-02", "lot": "LOT-7", "quantity": 12.0},
            {"sku": "DESK-02", "quantity": 0.5},
        ]
        text = file_formats.write_csv(iter(lines), columns)
        read = file_formats.snapshot_lines_from_rows(file_formats.read_csv(text, columns))
        self.assertNotIsInstance(read, list | tuple)
        self.assertEqual(list(read), lines)

    def test_fulfilment_rows(self):
        payload = {
            "fulfilment_id": "F1",
            "ship_to": {"name": "***", "city": "Ghent", "country": "BE"},
            "lines": [
                {"sku": "A", "quantity": 2.0, "lots": ["L1", "L2"]},
                {"sku": "B", "quantity": 1},
            ],
        }
        columns = [
            ("order", "fulfilment_id"),
            ("name", "ship_to_name"),
            ("sku", "sku"),
            ("lot", "lot"),
            ("qty", "quantity"),
        ]
        self.assertEqual(
            file_formats.write_csv(file_formats.fulfilment_rows(payload), columns),
            "order,name,sku,lot,qty\r\nF1,***,A,L1,2\r\nF1,***,A,L2,2\r\nF1,***,B,,1\r\n",
        )

    def test_reservation_round_trip_and_errors(self):
        columns = [("order", "fulfilment_id"), ("ref", "reservation_id"), ("status", "status")]
        columns += [("sku", "sku"), ("qty", "quantity")]
        payloads = [
            {
                "fulfilment_id": "F1",
                "reservation_id": "R1",
                "status": "shortage",
                "lines": [{"sku": "A", "quantity": 2.0}, {"sku": "B", "quantity": 0.5}],
            },
            {"fulfilment_id": "F2", "reservation_id": "R2", "status": "reserved", "lines": []},
        ]
        text = file_formats.write_csv(
            (row for p in payloads for row in file_formats.reservation_rows(p)), columns
        )
        self.assertEqual(
            text,
            "order,ref,status,sku,qty\r\nF1,R1,shortage,A,2\r\nF1,R1,shortage,B,0.5\r\n"
            "F2,R2,reserved,,\r\n",
        )
        read = file_formats.reservations_from_rows(file_formats.read_csv(text, columns))
        self.assertEqual(list(read), [(2, payloads[0]), (4, payloads[1])])
        for bad, line, message in (
            ("F1,R1,shortage,A,2\r\nF1,R1,Reserved,,\r\n", 3, "but this reservation is"),
            ("F1,R1,late,A,2\r\n", 2, "status 'late' is not one of reserved, shortage"),
            ("F1,R1,shortage,A,\r\n", 2, "quantity is empty"),
            ("F1,R1,,A,1\r\n", 2, "status is empty"),
        ):
            rows = file_formats.read_csv("order,ref,status,sku,qty\r\n" + bad, columns)
            with self.assertRaises(FileFormatError) as caught:
                list(file_formats.reservations_from_rows(rows))
            self.assertEqual(caught.exception.line, line)
            self.assertIn(message, caught.exception.message)
