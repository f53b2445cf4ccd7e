"""The two file transports against real folders and a real SFTP server (no database)."""

import io
import socket
import tempfile
from pathlib import Path

import paramiko

from odoo.tests import BaseCase
from odoo.tools import mute_logger

from .. import file_transport
from ..file_transport import FolderTransport, SftpTransport, TransportError
from .sftp_server import SandboxSftp

FOLDERS = {"pickup": "outbox", "upload": "inbox", "processed": "processed", "error": "error"}


class _Contract:
    """What both transports promise; ``self.files`` is the transport, ``self.root`` the
    partner's folder as the partner sees it."""

    def test_lists_complete_files_only(self):
        (self.root / "outbox" / "b.csv").write_text("b")
        (self.root / "outbox" / "a.edi").write_text("aa")
        (self.root / "outbox" / "c.csv.part").write_text("being written")
        (self.root / "outbox" / ".hidden").write_text("x")
        (self.root / "outbox" / "folder").mkdir()
        self.assertEqual(
            self.files.list_pickup(),
            [file_transport.RemoteFile("a.edi", 2), file_transport.RemoteFile("b.csv", 1)],
        )

    def test_read_and_archive(self):
        (self.root / "outbox" / "a.edi").write_bytes(b"UNA:+.? '")
        self.assertEqual(self.files.download("a.edi"), b"UNA:+.? '")
        self.assertEqual(self.files.archive("a.edi", "processed"), "a.edi")
        self.assertEqual((self.root / "processed" / "a.edi").read_bytes(), b"UNA:+.? '")
        self.assertFalse((self.root / "outbox" / "a.edi").exists())
        # the same name again: kept beside the first one, never overwriting it
        (self.root / "outbox" / "a.edi").write_bytes(b"second")
        moved = self.files.archive("a.edi", "processed")
        self.assertTrue(moved.startswith("a.edi."))
        self.assertEqual((self.root / "processed" / moved).read_bytes(), b"second")
        self.assertEqual((self.root / "processed" / "a.edi").read_bytes(), b"UNA:+.? '")

    def test_archive_to_error(self):
        (self.root / "outbox" / "bad.csv").write_text("x")
        self.files.archive("bad.csv", "error")
        self.assertEqual(sorted(p.name for p in (self.root / "error").iterdir()), ["bad.csv"])

    def test_from_error_to_processed(self):
        (self.root / "error" / "bad.csv.20261206T1200").write_text("x")
        (self.root / "processed" / "other.csv").write_text("y")
        moved = self.files.archive(
            "bad.csv.20261206T1200", "processed", source="error", target="bad.csv"
        )
        self.assertEqual(moved, "bad.csv")
        self.assertEqual(list((self.root / "error").iterdir()), [])
        self.assertEqual((self.root / "processed" / "bad.csv").read_text(), "x")

    def test_upload_is_complete_when_visible(self):
        self.files.upload("ORDERS_1.edi", b"UNA:+.? '\nUNB'")
        self.assertEqual(sorted(p.name for p in (self.root / "inbox").iterdir()), ["ORDERS_1.edi"])
        self.assertEqual((self.root / "inbox" / "ORDERS_1.edi").read_bytes(), b"UNA:+.? '\nUNB'")

    def test_missing_file_is_a_transport_error(self):
        with self.assertRaises(TransportError):
            self.files.download("nothing.csv")


class TestFolderTransport(_Contract, BaseCase):
    def setUp(self):
        super().setUp()
        self.root = Path(self.enterContext(tempfile.TemporaryDirectory()))
        for folder in FOLDERS.values():
            (self.root / folder).mkdir()
        self.files = FolderTransport(self.root, FOLDERS)

    def test_missing_folder(self):
        with self.assertRaises(TransportError):
            FolderTransport(self.root / "nope", FOLDERS)


class _SftpCase(BaseCase):
    def setUp(self):
        super().setUp()
        self.root = Path(self.enterContext(tempfile.TemporaryDirectory()))
        self.client_key = paramiko.ECDSAKey.generate()
        self.server = self.enterContext(
            SandboxSftp(
                self.root,
                users={"odoo": "s3cret"},
                authorized_keys={"keyed": [self.client_key]},
            )
        )

    def _socket(self):
        return socket.create_connection(("127.0.0.1", self.server.port), timeout=10)

    def _connect(self, **kwargs):
        options = {"password": "s3cret", "host_key": self.server.host_key_line}
        options.update(kwargs)
        username = options.pop("username", "odoo")
        return SftpTransport(self._socket(), username, FOLDERS, timeout=10, **options)


class TestSftpTransport(_Contract, _SftpCase):
    def setUp(self):
        super().setUp()
        self.files = self.enterContext(self._connect())

    def test_counts_real_operations(self):
        (self.root / "outbox" / "a.edi").write_text("x")
        self.files.download("a.edi")
        self.files.archive("a.edi", "processed")
        stats = self.server.stats()
        self.assertEqual((stats["logins"], stats["opened"], stats["renamed"]), (1, 1, 1))


class TestSftpLogin(_SftpCase):
    def test_private_key_login(self):
        pem = io.StringIO()
        self.client_key.write_private_key(pem)
        key = file_transport.load_private_key(pem.getvalue())
        with self._connect(username="keyed", password=None, private_key=key) as files:
            self.assertEqual(files.list_pickup(), [])

    @mute_logger(file_transport.LOG_CHANNEL)
    def test_wrong_password_refused(self):
        with self.assertRaises(TransportError) as caught:
            self._connect(password="wrong")
        self.assertIn("login refused", str(caught.exception))
        self.assertEqual(self.server.stats().get("refused_logins"), 1)

    @mute_logger(file_transport.LOG_CHANNEL)
    def test_other_host_key_refused_before_login(self):
        other = paramiko.ECDSAKey.generate()
        with self.assertRaises(TransportError) as caught:
            self._connect(host_key=file_transport.host_key_line(other))
        self.assertIn("host key", str(caught.exception))
        self.assertNotIn("logins", self.server.stats())  # the password never went out

    @mute_logger(file_transport.LOG_CHANNEL)
    def test_no_pinned_host_key_refused(self):
        with self.assertRaises(TransportError):
            self._connect(host_key=None)
        self.assertNotIn("logins", self.server.stats())

    def test_fetch_host_key(self):
        self.assertEqual(file_transport.fetch_host_key(self._socket()), self.server.host_key_line)
