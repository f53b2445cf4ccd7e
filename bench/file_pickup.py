"""Bench: picking up inventory reports (EDIFACT INVRPT) from a live SFTP server.

For reports of 1,000, 10,000 and 100,000 lines, side by side in one run: download from the
sandbox SFTP server on 127.0.0.1 (paramiko, as Odoo does), SHA-256, the check pass and the
read pass the file exchange makes (pydifact, lines as a generator). Prints seconds per
1,000 lines for each size, the ratio of the 100k per-line cost to the 1k one (target at
most 1.2: the cost grows linearly), and the peak Python memory of reading the 100k lines as
the snapshot entry point does (a generator) next to building them as a list.

The Odoo side (storing the snapshot) is the inventory reconciliation's benchmark; this one
needs no database: ``./dev bench file_pickup`` runs it (the options it passes are ignored),
or ``python bench/file_pickup.py``.
"""

import argparse
import hashlib
import importlib.util
import socket
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = (1_000, 10_000, 100_000)


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


file_formats = _load("file_formats", ROOT / "logistics_sync_wms" / "file_formats.py")
file_transport = _load("file_transport", ROOT / "logistics_sync_wms" / "file_transport.py")
sftp_server = _load("sftp_server", ROOT / "logistics_sync_wms" / "tests" / "sftp_server.py")

FOLDERS = {"pickup": "outbox", "upload": "inbox", "processed": "processed", "error": "error"}


def report(size):
    lines = (
        {
            "sku": f"SKU-{n % 5000:05d}",
            "location": f"A-{n % 97:02d}",
            "lot": f"L{n}",
            "quantity": n % 40,
        }
        for n in range(size)
    )
    return file_formats.write_invrpt(
        {"snapshot_id": f"INV-{size}", "taken_at": "2026-12-06T06:00:00Z"}, lines
    ).encode()


def pick_up(server, name):
    """What a poll and a processing job do with one file, without the database."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    with file_transport.SftpTransport(
        sock, "odoo", FOLDERS, password="bench", host_key=server.host_key_line
    ) as files:
        data = files.download(name)
        hashlib.sha256(data).hexdigest()
        text = data.decode("utf-8")
        _header, check = file_formats.read_invrpt(text)
        count = sum(1 for _line in check)  # the check pass
        _header, read = file_formats.read_invrpt(text)
        quantity = sum(line["quantity"] for line in read)  # the entry point's pass
        files.archive(name, "processed")
    return count, quantity


def peak(function):
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", help="ignored (./dev bench passes it)")
    parser.add_argument("--database", help="ignored (./dev bench passes it)")
    parser.parse_args(argv)
    per_thousand = {}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        with sftp_server.SandboxSftp(root, users={"odoo": "bench"}) as server:
            pick_up_size = {}
            for size in SIZES:
                data = report(size)
                (root / "outbox" / f"INVRPT_{size}.edi").write_bytes(data)
                started = time.perf_counter()
                count, _quantity = pick_up(server, f"INVRPT_{size}.edi")
                elapsed = time.perf_counter() - started
                assert count == size, (count, size)
                per_thousand[size] = elapsed / size * 1000
                pick_up_size[size] = len(data)
                print(
                    f"{size:>7} lines ({len(data) / 1e6:5.1f} MB): {elapsed:7.2f} s, "
                    f"{per_thousand[size]:.3f} s per 1,000 lines"
                )
    ratio = per_thousand[SIZES[-1]] / per_thousand[SIZES[0]]
    print(f"per-line cost 100k / 1k: {ratio:.2f} (target <= 1.2)")
    text = report(SIZES[-1]).decode()
    streamed = peak(lambda: sum(1 for _line in file_formats.read_invrpt(text)[1]))
    listed = peak(lambda: len(list(file_formats.read_invrpt(text)[1])))
    print(
        f"peak Python memory reading 100k lines: streamed {streamed / 2**20:.1f} MiB, "
        f"as a list {listed / 2**20:.1f} MiB (file text itself {len(text) / 2**20:.1f} MiB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
