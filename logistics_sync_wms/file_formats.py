"""Reading and writing the files of file-based partners, without the ORM.

Two families:

* **CSV** with a column mapping: ``columns`` is a list of ``(column, field)`` pairs, where
  ``column`` is a header name (files with a header row) or a 1-based position, and ``field``
  a canonical key (``sku``, ``quantity``, ``fulfilment_id``... see :data:`FIELDS`).
* **EDIFACT** (UN/EDIFACT D.96A subsets) read and written with pydifact: ``ORDERS`` (a
  fulfilment request to the warehouse), ``DESADV`` (dispatch advice: what shipped) and
  ``INVRPT`` (inventory report).

Everything read comes out as the canonical payloads the WMS entry points take (confirmation
and reservation payloads; snapshot header and a *generator* of lines, so a 100,000-line
report is never held as a list). A problem raises :class:`FileFormatError` naming the line
of the file::

    header, lines = read_invrpt(text)
    for line in lines:  # {"sku": ..., "location": ..., "lot": ..., "quantity": 12.0}
        ...
"""

import csv
import io
from datetime import datetime, timezone
from itertools import chain, groupby

from pydifact.control import Characters
from pydifact.exceptions import EDISyntaxError
from pydifact.parser import Parser
from pydifact.segments import Segment, SegmentFactory
from pydifact.serializer import Serializer

#: Canonical fields a CSV column can be mapped to, per kind of file.
FIELDS = {
    "confirmation": (
        "fulfilment_id",
        "confirmation_id",
        "stage",
        "sku",
        "quantity",
        "uom",
        "lot",
        "location",
        "package",
        "package_weight",
        "package_length",
        "package_width",
        "package_height",
        "carrier",
        "service",
        "tracking_number",
        "complete",
    ),
    "snapshot": ("snapshot_id", "taken_at", "warehouse", "sku", "location", "lot", "quantity"),
    "reservation": ("fulfilment_id", "reservation_id", "status", "sku", "quantity", "uom"),
    "fulfilment": (
        "fulfilment_id",
        "reference",
        "requested_date",
        "ship_to_name",
        "ship_to_street",
        "ship_to_city",
        "ship_to_zip",
        "ship_to_country",
        "carrier",
        "service",
        "sku",
        "partner_sku",
        "quantity",
        "uom",
        "lot",
    ),
}
REQUIRED = {
    "confirmation": ("fulfilment_id", "sku", "quantity"),
    "snapshot": ("sku", "quantity"),
    "reservation": ("fulfilment_id", "status"),
    "fulfilment": ("fulfilment_id", "sku", "quantity"),
}
STAGES = ("picked", "packed", "shipped")
RESERVATION_STATUSES = ("reserved", "shortage")
_NUMBERS = {"quantity", "package_weight", "package_length", "package_width", "package_height"}
_TRUE = {"1", "true", "yes", "y", "x"}


class FileFormatError(ValueError):
    """A file that cannot be read; ``line`` is the 1-based line of the file at fault."""

    def __init__(self, line, message):
        self.line = line
        self.message = message
        super().__init__(f"line {line}: {message}" if line else message)


def _number(value, line, field):
    text = (value or "").strip().replace(",", ".")
    try:
        return float(text)
    except ValueError:
        raise FileFormatError(line, f"{field} {value!r} is not a number") from None


# ---------------------------------------------------------------------------- CSV
def read_csv(text, columns, delimiter=",", header=True):
    """Yield ``(line, row)`` for each data row of ``text``: ``row`` maps the mapped fields
    to their values (numbers parsed, empty cells left out).

    :raises FileFormatError: a mapped header column is missing, a row is too short, a
        number does not parse.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    positions = []
    if header:
        names = next(reader, None)
        if names is None:
            return
        names = [name.strip().lstrip("\ufeff") for name in names]
        for column, field in columns:
            if column not in names:
                raise FileFormatError(reader.line_num, f"the header has no column {column!r}")
            positions.append((names.index(column), field))
    else:
        for column, field in columns:
            try:
                positions.append((int(column) - 1, field))
            except ValueError:
                raise FileFormatError(
                    0, f"column {column!r} must be a position (1, 2...) in a file without header"
                ) from None
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        row = {}
        for position, field in positions:
            if position >= len(cells):
                raise FileFormatError(
                    line, f"{len(cells)} columns, {field} expected in column {position + 1}"
                )
            value = cells[position].strip()
            if value == "":
                continue
            row[field] = _number(value, line, field) if field in _NUMBERS else value
        yield line, row


def write_csv(rows, columns, delimiter=",", header=True):
    """Render ``rows`` (dicts of canonical fields) with the column mapping, as text."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    if header:
        writer.writerow([column for column, _field in columns])
        ordered = [field for _column, field in columns]
    else:
        width = max((int(column) for column, _field in columns), default=0)
        ordered = [None] * width
        for column, field in columns:
            ordered[int(column) - 1] = field
    for row in rows:
        writer.writerow([_cell(row.get(field)) if field else "" for field in ordered])
    return buffer.getvalue()


def _cell(value):
    if value is None or value is False:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _require(kind, line, row):
    for field in REQUIRED[kind]:
        if row.get(field) in (None, ""):
            raise FileFormatError(line, f"{field} is empty")


def confirmations_from_rows(rows, default_stage="shipped"):
    """Group CSV rows into confirmation payloads: one per (fulfilment, confirmation) in the
    order met. Rows of one confirmation carry its lines; package and tracking columns add
    packages and tracking numbers. Yields ``(first line, payload)``."""

    def key(item):
        line, row = item
        _require("confirmation", line, row)
        return row["fulfilment_id"], row.get("confirmation_id", "")

    for (fulfilment_id, confirmation_id), group in groupby(rows, key=key):
        group = list(group)
        first_line, first = group[0]
        stage = (first.get("stage") or default_stage).lower()
        if stage not in STAGES:
            raise FileFormatError(first_line, f"stage {stage!r} is not one of {', '.join(STAGES)}")
        payload = {
            "fulfilment_id": fulfilment_id,
            "confirmation_id": confirmation_id,
            "stage": stage,
            "lines": [],
            "packages": [],
            "tracking_numbers": [],
            "complete": str(first.get("complete", "1")).strip().lower() in _TRUE,
        }
        for name in ("carrier", "service"):
            if first.get(name):
                payload[name] = first[name]
        packages = {}
        for _line, row in group:
            entry = {"sku": row["sku"], "quantity": row["quantity"]}
            for name in ("uom", "lot", "location", "package"):
                if row.get(name):
                    entry[name] = row[name]
            payload["lines"].append(entry)
            if row.get("package") and row["package"] not in packages:
                packages[row["package"]] = {
                    "name": row["package"],
                    "weight": row.get("package_weight", 0.0),
                    "length": row.get("package_length", 0.0),
                    "width": row.get("package_width", 0.0),
                    "height": row.get("package_height", 0.0),
                }
            tracking = row.get("tracking_number")
            if tracking and tracking not in payload["tracking_numbers"]:
                payload["tracking_numbers"].append(tracking)
        payload["packages"] = list(packages.values())
        yield first_line, payload


def confirmation_rows(payload):
    """The CSV rows of one confirmation payload (inverse of :func:`confirmations_from_rows`)."""
    packages = {package["name"]: package for package in payload.get("packages") or ()}
    tracking = payload.get("tracking_numbers") or [None]
    for index, line in enumerate(payload["lines"]):
        package = packages.get(line.get("package")) or {}
        yield {
            "fulfilment_id": payload["fulfilment_id"],
            "confirmation_id": payload.get("confirmation_id"),
            "stage": payload.get("stage"),
            "sku": line["sku"],
            "quantity": line["quantity"],
            "uom": line.get("uom"),
            "lot": line.get("lot"),
            "location": line.get("location"),
            "package": line.get("package"),
            "package_weight": package.get("weight"),
            "package_length": package.get("length"),
            "package_width": package.get("width"),
            "package_height": package.get("height"),
            "carrier": payload.get("carrier"),
            "service": payload.get("service"),
            "tracking_number": tracking[index] if index < len(tracking) else None,
            "complete": "1" if payload.get("complete") else "0",
        }


def reservations_from_rows(rows):
    """Group CSV rows into reservation payloads: one per (fulfilment, reservation) in the
    order met, with the status of its first row. A row with a SKU adds a line (for a
    shortage: what is missing); a reservation without lines is one row without SKU.
    Yields ``(first line, payload)``."""

    def key(item):
        line, row = item
        _require("reservation", line, row)
        return row["fulfilment_id"], row.get("reservation_id", "")

    for (fulfilment_id, reservation_id), group in groupby(rows, key=key):
        group = list(group)
        first_line = group[0][0]
        payload = {
            "fulfilment_id": fulfilment_id,
            "reservation_id": reservation_id,
            "status": None,
            "lines": [],
        }
        for line, row in group:
            status = row["status"].lower()
            if status not in RESERVATION_STATUSES:
                raise FileFormatError(
                    line, f"status {status!r} is not one of {', '.join(RESERVATION_STATUSES)}"
                )
            if payload["status"] not in (None, status):
                raise FileFormatError(
                    line, f"status {status!r}, but this reservation is {payload['status']!r}"
                )
            payload["status"] = status
            if row.get("sku"):
                if row.get("quantity") is None:
                    raise FileFormatError(line, "quantity is empty")
                entry = {"sku": row["sku"], "quantity": row["quantity"]}
                if row.get("uom"):
                    entry["uom"] = row["uom"]
                payload["lines"].append(entry)
            elif row.get("quantity") is not None:
                raise FileFormatError(line, "sku is empty")
        yield first_line, payload


def reservation_rows(payload):
    """The CSV rows of one reservation payload (inverse of :func:`reservations_from_rows`)."""
    base = {
        "fulfilment_id": payload["fulfilment_id"],
        "reservation_id": payload.get("reservation_id"),
        "status": payload["status"],
    }
    for line in payload.get("lines") or [{}]:
        yield dict(base, sku=line.get("sku"), quantity=line.get("quantity"), uom=line.get("uom"))


def snapshot_lines_from_rows(rows):
    """Yield snapshot lines ``{"sku", "location"?, "lot"?, "quantity"}`` from CSV rows,
    lazily (a generator over a generator: nothing is kept)."""
    for line, row in rows:
        _require("snapshot", line, row)
        entry = {"sku": row["sku"], "quantity": row["quantity"]}
        for name in ("location", "lot"):
            if row.get(name):
                entry[name] = row[name]
        yield entry


def fulfilment_rows(payload):
    """The CSV rows of a ``fulfilment.requested`` payload: one per line, the order's
    header fields repeated (the usual shape of a 3PL's order import)."""
    ship_to = payload.get("ship_to") or {}
    base = {
        "fulfilment_id": payload.get("fulfilment_id"),
        "reference": payload.get("name") or payload.get("reference"),
        "requested_date": payload.get("requested_date"),
        "ship_to_name": ship_to.get("name"),
        "ship_to_street": ship_to.get("street"),
        "ship_to_city": ship_to.get("city"),
        "ship_to_zip": ship_to.get("zip"),
        "ship_to_country": ship_to.get("country") or ship_to.get("country_code"),
        "carrier": payload.get("carrier"),
        "service": payload.get("service"),
    }
    for line in payload.get("lines") or ():
        lots = line.get("lots") or [line.get("lot")]
        for lot in lots:
            yield dict(
                base,
                sku=line.get("sku"),
                partner_sku=line.get("partner_sku"),
                quantity=line.get("quantity"),
                uom=line.get("uom"),
                lot=lot,
            )


# ---------------------------------------------------------------------------- EDIFACT
#: Characters written in UNA: the decimal point is '.', what most partners use.
CHARACTERS = Characters(decimal_point=".")


class _SegmentFactory(SegmentFactory):
    """Segments without pydifact's directory validation: it looks for a definition file on
    every segment (slow, and absent for the D.96A subsets read here, so it only warns);
    this module checks what it reads itself."""

    @staticmethod
    def create_segment(name, *elements, validate=True, **kwargs):
        return SegmentFactory.create_segment(name, *elements, validate=False, **kwargs)


def _segments(text):
    """Yield ``(ordinal, segment)`` as pydifact parses ``text`` (lazily)."""
    ordinal = 0
    parsed = Parser(factory=_SegmentFactory()).parse(text)
    while True:
        try:
            segment = next(parsed)
        except StopIteration:
            return
        except EDISyntaxError as exc:
            raise FileFormatError(_line_of(text, ordinal + 1), f"EDIFACT syntax: {exc}") from None
        ordinal += 1
        if segment.tag == "UNA":
            continue
        yield ordinal, segment


def _line_of(text, ordinal):
    """The line on which segment ``ordinal`` (1-based, UNA counted) starts: only used to name
    the line of an error, so the file is scanned again only then."""
    characters, index, count = CHARACTERS, 0, 1
    if text.startswith("UNA"):
        characters, index, count = Characters.from_str(text[:9]), 9, 2
    terminator, release = characters.segment_terminator, characters.escape_character
    escaped = False
    while count < ordinal and index < len(text):
        char = text[index]
        if escaped:
            escaped = False
        elif char == release:
            escaped = True
        elif char == terminator:
            count += 1
        index += 1
    while index < len(text) and text[index] in " \r\n":
        index += 1
    return text.count("\n", 0, index) + 1


def _element(segment, position, component=0):
    """Component ``component`` of element ``position`` (0-based), or '' when absent."""
    elements = segment.elements
    if position >= len(elements):
        return ""
    value = elements[position]
    if isinstance(value, list):
        return value[component] if component < len(value) else ""
    return value if component == 0 else ""


def _edi_number(value, text, ordinal, what):
    """``value`` as a number; the line is only looked up when it is not one."""
    try:
        return float((value or "").strip().replace(",", "."))
    except ValueError:
        raise FileFormatError(
            _line_of(text, ordinal), f"{what} {value!r} is not a number"
        ) from None


def _edi_date(value, fmt):
    """DTM value to ISO 8601 (102: CCYYMMDD, 203: CCYYMMDDHHMM, 204: ...SS)."""
    layouts = {"102": "%Y%m%d", "203": "%Y%m%d%H%M", "204": "%Y%m%d%H%M%S"}
    moment = datetime.strptime(value, layouts.get(fmt, "%Y%m%d"))
    if fmt == "102":
        return moment.date().isoformat()
    return moment.replace(tzinfo=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _to_edi_date(value):
    """ISO date or datetime to (value, format code)."""
    if not value:
        return None
    text = str(value)
    if len(text) == 10:
        return text.replace("-", ""), "102"
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo:
        moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y%m%d%H%M%S"), "204"


def _interchange(messages, sender, recipient, reference, message_type, when=None):
    """Serialize ``messages`` (lists of body segments) as UNH ... UNT messages of
    ``message_type`` inside one UNB ... UNZ interchange."""
    when = when or datetime.now(timezone.utc)
    envelope = [
        Segment(
            "UNB",
            ["UNOC", "3"],
            sender or "ODOO",
            recipient or "PARTNER",
            [when.strftime("%y%m%d"), when.strftime("%H%M")],
            reference,
        )
    ]
    for number, segments in enumerate(messages, start=1):
        body = [Segment("UNH", str(number), [message_type, "D", "96A", "UN"]), *segments]
        body.append(Segment("UNT", str(len(body) + 1), str(number)))
        envelope.extend(body)
    envelope.append(Segment("UNZ", str(len(messages)), reference))
    return Serializer(CHARACTERS).serialize(envelope, with_una_header=True, break_lines=True)


def _number_text(value):
    value = float(value or 0)
    return str(int(value)) if value.is_integer() else f"{value:.6f}".rstrip("0")


def _check_type(ordinal, segment, expected, text):
    found = _element(segment, 1, 0)
    if found != expected:
        raise FileFormatError(
            _line_of(text, ordinal), f"message type {found or '(none)'}, {expected} expected"
        )


# ORDERS ---------------------------------------------------------------------
#: BGM message function per fulfilment event: original, replacement, cancellation.
ORDERS_FUNCTIONS = {
    "fulfilment.requested": "9",
    "fulfilment.changed": "5",
    "fulfilment.cancelled": "1",
}


def write_orders(payload, sender=None, recipient=None, reference=None, when=None, function="9"):
    """A ``fulfilment.requested`` payload as an EDIFACT ORDERS interchange (text).

    ``function`` is the BGM message function: 9 (original), 5 (replacement: the request
    changed) or 1 (cancellation), see :data:`ORDERS_FUNCTIONS`."""
    reference = reference or str(payload.get("fulfilment_id"))[:14]
    segments = [Segment("BGM", "220", str(payload.get("fulfilment_id")), function)]
    when = when or datetime.now(timezone.utc)
    created = _to_edi_date(payload.get("created_at") or when.isoformat())
    segments.append(Segment("DTM", ["137", *created]))
    requested = _to_edi_date(payload.get("requested_date"))
    if requested:
        segments.append(Segment("DTM", ["2", *requested]))
    if payload.get("name"):
        segments.append(Segment("RFF", ["CR", str(payload["name"])]))
    ship_to = payload.get("ship_to") or {}
    if ship_to:
        segments.append(
            Segment(
                "NAD",
                "ST",
                "",
                "",
                ship_to.get("name") or "",
                ship_to.get("street") or "",
                ship_to.get("city") or "",
                "",
                ship_to.get("zip") or "",
                ship_to.get("country") or ship_to.get("country_code") or "",
            )
        )
    if payload.get("carrier") or payload.get("service"):
        segments.append(
            Segment(
                "TDT",
                "20",
                "",
                "",
                "",
                [payload.get("carrier") or "", "", "", payload.get("service") or ""],
            )
        )
    for number, line in enumerate(payload.get("lines") or (), start=1):
        segments.append(Segment("LIN", str(number), "", [str(line.get("sku")), "SA"]))
        if line.get("partner_sku"):
            segments.append(Segment("PIA", "5", [str(line["partner_sku"]), "BP"]))
        segments.append(Segment("QTY", ["21", _number_text(line.get("quantity"))]))
        for lot in line.get("lots") or ([line["lot"]] if line.get("lot") else []):
            segments.append(Segment("GIN", "BX", str(lot)))
    segments.append(Segment("UNS", "S"))
    segments.append(Segment("CNT", ["2", str(len(payload.get("lines") or ()))]))
    return _interchange([segments], sender, recipient, reference, "ORDERS", when)


def read_orders(text):
    """The fulfilment request in an ORDERS interchange (what the warehouse reads)."""
    payload = {"lines": []}
    line = None
    for ordinal, segment in _segments(text):
        tag = segment.tag
        if tag == "UNH":
            _check_type(ordinal, segment, "ORDERS", text)
        elif tag == "BGM":
            payload["fulfilment_id"] = _element(segment, 1)
            payload["function"] = _element(segment, 2)
        elif tag == "DTM" and _element(segment, 0, 0) == "2":
            payload["requested_date"] = _edi_date(_element(segment, 0, 1), _element(segment, 0, 2))
        elif tag == "RFF" and _element(segment, 0, 0) == "CR":
            payload["name"] = _element(segment, 0, 1)
        elif tag == "NAD" and _element(segment, 0) == "ST":
            payload["ship_to"] = {
                "name": _element(segment, 3),
                "street": _element(segment, 4),
                "city": _element(segment, 5),
                "zip": _element(segment, 7),
                "country": _element(segment, 8),
            }
        elif tag == "TDT":
            payload["carrier"] = _element(segment, 4, 0)
            payload["service"] = _element(segment, 4, 3)
        elif tag == "LIN":
            line = {"sku": _element(segment, 2, 0)}
            payload["lines"].append(line)
        elif tag == "PIA" and line is not None:
            line["partner_sku"] = _element(segment, 1, 0)
        elif tag == "QTY" and line is not None:
            line["quantity"] = _edi_number(_element(segment, 0, 1), text, ordinal, "quantity")
        elif tag == "GIN" and line is not None and _element(segment, 0) == "BX":
            line.setdefault("lots", []).append(_element(segment, 1))
    return payload


# DESADV ---------------------------------------------------------------------
def write_desadv(payloads, sender=None, recipient=None, reference="1", when=None):
    """Confirmation payloads as one DESADV interchange, one message each (the warehouse's
    side: used by the sandbox partner, the demo and the round-trip tests)."""
    messages = []
    for payload in payloads:
        segments = []
        segments.append(Segment("BGM", "351", str(payload.get("confirmation_id") or ""), "9"))
        segments.append(Segment("RFF", ["ON", str(payload["fulfilment_id"])]))
        for tracking in payload.get("tracking_numbers") or ():
            segments.append(Segment("RFF", ["CN", str(tracking)]))
        if payload.get("carrier") or payload.get("service"):
            segments.append(
                Segment(
                    "TDT",
                    "20",
                    "",
                    "",
                    "",
                    [payload.get("carrier") or "", "", "", payload.get("service") or ""],
                )
            )
        segments.append(
            Segment(
                "FTX",
                "AAI",
                "",
                "",
                [payload.get("stage") or "shipped", "complete" if payload.get("complete") else ""],
            )
        )
        packages = {package["name"]: package for package in payload.get("packages") or ()}
        by_package = {}
        for line in payload["lines"]:
            by_package.setdefault(line.get("package") or "", []).append(line)
        for number, (package_name, group) in enumerate(by_package.items(), start=1):
            segments.append(Segment("CPS", str(number)))
            if package_name:
                package = packages.get(package_name, {})
                segments.append(Segment("PAC", "1", "", "CT"))
                for code, key in (("AAB", "weight"), ("LN", "length"), ("WD", "width")):
                    unit = "KGM" if key == "weight" else "CMT"
                    segments.append(
                        Segment("MEA", "PD", code, [unit, _number_text(package.get(key))])
                    )
                segments.append(
                    Segment("MEA", "PD", "HT", ["CMT", _number_text(package.get("height"))])
                )
                segments.append(Segment("GIN", "BJ", package_name))
            for line in group:
                segments.append(Segment("LIN", "1", "", [str(line["sku"]), "SA"]))
                quantity = ["12", _number_text(line["quantity"])]
                if line.get("uom"):
                    quantity.append(str(line["uom"]))
                segments.append(Segment("QTY", quantity))
                if line.get("location"):
                    segments.append(Segment("LOC", "18", str(line["location"])))
                if line.get("lot"):
                    segments.append(Segment("GIN", "BX", str(line["lot"])))
        segments.append(Segment("CNT", ["2", str(len(payload["lines"]))]))
        messages.append(segments)
    return _interchange(messages, sender, recipient, reference, "DESADV", when)


def read_desadv(text):
    """The confirmation payloads in a DESADV interchange: one per message (UNH ... UNT).

    Segments read: BGM (document number = confirmation id), RFF+ON (our fulfilment id),
    RFF+CN (tracking numbers), TDT (carrier, service), FTX+AAI (stage, completeness; shipped
    and complete when absent), CPS/PAC/MEA/GIN+BJ (packages with weight in kg and
    dimensions in cm), LIN/QTY+12 (shipped quantity; its third component, when given, is
    the unit code), LOC+18 (location), GIN+BX (lot).
    Returns a list of ``(line, payload)`` (dispatch advices are small).
    """
    results = []
    payload = line = package = None
    start = 0
    for ordinal, segment in _segments(text):
        tag = segment.tag
        if tag == "UNH":
            _check_type(ordinal, segment, "DESADV", text)
            payload = {
                "fulfilment_id": "",
                "confirmation_id": "",
                "stage": "shipped",
                "lines": [],
                "packages": [],
                "tracking_numbers": [],
                "complete": True,
            }
            start = ordinal
            line = package = None
            continue
        if payload is None:
            continue
        if tag == "BGM":
            payload["confirmation_id"] = _element(segment, 1)
        elif tag == "RFF" and _element(segment, 0, 0) == "ON":
            payload["fulfilment_id"] = _element(segment, 0, 1)
        elif tag == "RFF" and _element(segment, 0, 0) == "CN":
            payload["tracking_numbers"].append(_element(segment, 0, 1))
        elif tag == "TDT":
            if _element(segment, 4, 0):
                payload["carrier"] = _element(segment, 4, 0)
            if _element(segment, 4, 3):
                payload["service"] = _element(segment, 4, 3)
        elif tag == "FTX" and _element(segment, 0) == "AAI":
            stage = _element(segment, 3, 0) or "shipped"
            if stage not in STAGES:
                raise FileFormatError(
                    _line_of(text, ordinal), f"stage {stage!r} is not one of {', '.join(STAGES)}"
                )
            payload["stage"] = stage
            payload["complete"] = _element(segment, 3, 1) == "complete"
        elif tag == "CPS":
            package = None
        elif tag == "PAC":
            package = {"name": "", "weight": 0.0, "length": 0.0, "width": 0.0, "height": 0.0}
        elif tag == "MEA" and package is not None:
            key = {"AAB": "weight", "LN": "length", "WD": "width", "HT": "height"}.get(
                _element(segment, 1, 0)
            )
            if key:
                package[key] = _edi_number(_element(segment, 2, 1), text, ordinal, f"package {key}")
        elif tag == "GIN" and _element(segment, 0) == "BJ" and package is not None:
            package["name"] = _element(segment, 1)
            payload["packages"].append(package)
        elif tag == "LIN":
            sku = _element(segment, 2, 0)
            if not sku:
                raise FileFormatError(_line_of(text, ordinal), "LIN without an item number")
            line = {"sku": sku, "quantity": None}
            if package is not None and package["name"]:
                line["package"] = package["name"]
            payload["lines"].append(line)
            line["_line"] = ordinal
        elif tag == "QTY" and line is not None and _element(segment, 0, 0) == "12":
            line["quantity"] = _edi_number(_element(segment, 0, 1), text, ordinal, "quantity")
            if _element(segment, 0, 2):
                line["uom"] = _element(segment, 0, 2)
        elif tag == "LOC" and line is not None and _element(segment, 0) == "18":
            line["location"] = _element(segment, 1)
        elif tag == "GIN" and line is not None and _element(segment, 0) == "BX":
            line["lot"] = _element(segment, 1)
        elif tag == "UNT":
            if not payload["fulfilment_id"]:
                raise FileFormatError(
                    _line_of(text, start), "the DESADV has no RFF+ON (order/fulfilment number)"
                )
            for entry in payload["lines"]:
                ordinal_of_line = entry.pop("_line")
                if entry["quantity"] is None:
                    raise FileFormatError(
                        _line_of(text, ordinal_of_line), "LIN without QTY+12 (shipped quantity)"
                    )
            results.append((_line_of(text, start), payload))
            payload = None
    if payload is not None:
        raise FileFormatError(_line_of(text, start), "message not closed by UNT")
    return results


# INVRPT ---------------------------------------------------------------------
def write_invrpt(header, lines, sender=None, recipient=None, reference="1", when=None):
    """A snapshot (header and an iterable of lines) as an INVRPT interchange (text)."""
    segments = [Segment("BGM", "35", str(header["snapshot_id"]), "9")]
    taken = _to_edi_date(header.get("taken_at"))
    if taken:
        segments.append(Segment("DTM", ["366", *taken]))
    if header.get("warehouse"):
        segments.append(Segment("NAD", "WH", [str(header["warehouse"])]))
    count = 0
    for count, line in enumerate(lines, start=1):  # noqa: B007 - count is the total
        segments.append(Segment("LIN", str(count), "", [str(line["sku"]), "SA"]))
        segments.append(Segment("QTY", ["145", _number_text(line["quantity"])]))
        if line.get("location"):
            segments.append(Segment("LOC", "18", str(line["location"])))
        if line.get("lot"):
            segments.append(Segment("GIN", "BX", str(line["lot"])))
    segments.append(Segment("CNT", ["2", str(count)]))
    return _interchange([segments], sender, recipient, reference, "INVRPT", when)


def read_invrpt(text, kind="full"):
    """``(header, lines)`` of an INVRPT interchange; ``lines`` is a generator, read lazily
    as the caller consumes it.

    Header segments (before the first LIN): BGM (document number = snapshot id), DTM+366 or
    DTM+137 (when taken), NAD+WH (warehouse). Per item: LIN, QTY+145 (actual stock), LOC+18
    (location), GIN+BX (lot).
    """
    segments = _segments(text)
    header = {"snapshot_id": "", "kind": kind, "taken_at": None}
    first = None
    for ordinal, segment in segments:
        tag = segment.tag
        if tag == "UNH":
            _check_type(ordinal, segment, "INVRPT", text)
        elif tag == "BGM":
            header["snapshot_id"] = _element(segment, 1)
        elif tag == "DTM" and _element(segment, 0, 0) in ("366", "137"):
            if not header["taken_at"] or _element(segment, 0, 0) == "366":
                try:
                    header["taken_at"] = _edi_date(_element(segment, 0, 1), _element(segment, 0, 2))
                except ValueError:
                    raise FileFormatError(
                        _line_of(text, ordinal), f"date {_element(segment, 0, 1)!r}"
                    ) from None
        elif tag == "NAD" and _element(segment, 0) == "WH":
            header["warehouse"] = _element(segment, 1, 0)
        elif tag == "LIN":
            first = (ordinal, segment)
            break
    if not header["snapshot_id"]:
        raise FileFormatError(1, "the INVRPT has no BGM document number (snapshot id)")
    rest = chain([first], segments) if first else iter(())
    return header, _invrpt_lines(rest, text)


def _invrpt_lines(segments, text):
    line = None
    start = 0
    for ordinal, segment in segments:
        tag = segment.tag
        if tag == "LIN" or tag in ("CNT", "UNT", "UNS"):
            if line is not None:
                if line.get("quantity") is None:
                    raise FileFormatError(
                        _line_of(text, start), "LIN without QTY+145 (stock quantity)"
                    )
                yield line
                line = None
            if tag == "LIN":
                sku = _element(segment, 2, 0)
                if not sku:
                    raise FileFormatError(_line_of(text, ordinal), "LIN without an item number")
                line, start = {"sku": sku, "quantity": None}, ordinal
        elif line is None:
            continue
        elif tag == "QTY" and _element(segment, 0, 0) == "145":
            line["quantity"] = _edi_number(_element(segment, 0, 1), text, ordinal, "quantity")
        elif tag == "LOC" and _element(segment, 0) == "18":
            line["location"] = _element(segment, 1)
        elif tag == "GIN" and _element(segment, 0) == "BX":
            line["lot"] = _element(segment, 1)
    if line is not None:
        raise FileFormatError(_line_of(text, start), "the last item is not closed (no UNT)")
