"""A sandbox SFTP partner: a real SSH/SFTP server on 127.0.0.1, built on paramiko's server
classes, serving one folder of this machine.

It is the external party of the tests, the benchmark and the demo (a 3PL that only exchanges
files), never a stand-in for our own code: Odoo connects to it over the network, checks its
host key, logs in with a password or a key and lists, reads, moves and writes files as it
would on a partner's server. It counts what clients did::

    with SandboxSftp(root, users={"odoo": "secret"}) as server:
        server.port, server.host_key_line  # "ecdsa-sha2-nistp256 AAAA..."
        (root / "outbox" / "DESADV_1.edi").write_text(...)
        ...
        server.stats()  # {"logins": 1, "opened": 2, "renamed": 1, "removed": 0}

Run it on its own (the demo does, answering Odoo's ORDERS files as the 3PL would)::

    python sftp_server.py --root /tmp/partner --port 2222 --user odoo --password secret \\
        --host-key key.pem --answer-orders 60
"""

import argparse
import errno
import logging
import os
import socket
import sys
import threading
from pathlib import Path

import paramiko
from paramiko.sftp import SFTP_FAILURE, SFTP_NO_SUCH_FILE, SFTP_OK, SFTP_PERMISSION_DENIED

FOLDERS = ("inbox", "outbox", "processed", "error")
#: The server's own SSH log. A client that drops its connection (after refusing the host
#: key, say) is logged there as an ERROR by paramiko: the partner's business, not a fault
#: of the client under test, so only critical lines are kept.
LOG_CHANNEL = "sandbox_sftp.server"
logging.getLogger(LOG_CHANNEL).setLevel(logging.CRITICAL)


class _Server(paramiko.ServerInterface):
    def __init__(self, sandbox):
        self.sandbox = sandbox

    def get_allowed_auths(self, username):
        return "password,publickey"

    def check_auth_password(self, username, password):
        expected = self.sandbox.users.get(username)
        if expected is not None and expected == password:
            self.sandbox._count("logins")
            return paramiko.AUTH_SUCCESSFUL
        self.sandbox._count("refused_logins")
        return paramiko.AUTH_FAILED

    def check_auth_publickey(self, username, key):
        allowed = self.sandbox.authorized_keys.get(username, ())
        if any(key.get_base64() == candidate.get_base64() for candidate in allowed):
            self.sandbox._count("logins")
            return paramiko.AUTH_SUCCESSFUL
        return paramiko.AUTH_FAILED

    def check_channel_request(self, kind, chanid):
        if kind == "session":
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED_OPEN_FAILED


class _Handle(paramiko.SFTPHandle):
    def stat(self):
        try:
            return paramiko.SFTPAttributes.from_stat(os.fstat(self.readfile.fileno()))
        except OSError as exc:
            return paramiko.SFTPServer.convert_errno(exc.errno)


class _Folder(paramiko.SFTPServerInterface):
    """The SFTP file system: paths are confined to the sandbox's root folder."""

    def __init__(self, server, *args, **kwargs):
        super().__init__(server, *args, **kwargs)
        self.sandbox = server.sandbox

    def _real(self, path):
        root = self.sandbox.root.resolve()
        real = (root / self.canonicalize(path).lstrip("/")).resolve()
        if real != root and root not in real.parents:
            raise PermissionError(errno.EACCES, "outside the served folder")
        return real

    def canonicalize(self, path):
        return "/" + os.path.normpath("/" + path).lstrip("/") if path else "/"

    def list_folder(self, path):
        try:
            folder = self._real(path)
            result = []
            for name in sorted(os.listdir(folder)):
                attr = paramiko.SFTPAttributes.from_stat(os.stat(folder / name))
                attr.filename = name
                result.append(attr)
            return result
        except OSError as exc:
            return paramiko.SFTPServer.convert_errno(exc.errno)

    def stat(self, path):
        try:
            return paramiko.SFTPAttributes.from_stat(os.stat(self._real(path)))
        except OSError as exc:
            return paramiko.SFTPServer.convert_errno(exc.errno)

    lstat = stat

    def open(self, path, flags, attr):
        try:
            real = self._real(path)
            fd = os.open(real, flags | getattr(os, "O_BINARY", 0), 0o644)
        except OSError as exc:
            return paramiko.SFTPServer.convert_errno(exc.errno)
        if flags & os.O_WRONLY:
            mode = "ab" if flags & os.O_APPEND else "wb"
        elif flags & os.O_RDWR:
            mode = "a+b" if flags & os.O_APPEND else "r+b"
        else:
            mode = "rb"
        handle = _Handle(flags)
        handle.filename = str(real)
        handle.readfile = handle.writefile = os.fdopen(fd, mode)
        self.sandbox._count("written" if flags & (os.O_WRONLY | os.O_RDWR) else "opened")
        return handle

    def remove(self, path):
        try:
            os.remove(self._real(path))
        except OSError as exc:
            return paramiko.SFTPServer.convert_errno(exc.errno)
        self.sandbox._count("removed")
        return SFTP_OK

    def rename(self, oldpath, newpath):
        try:
            source, target = self._real(oldpath), self._real(newpath)
        except OSError:
            return SFTP_PERMISSION_DENIED
        if not source.exists():
            return SFTP_NO_SUCH_FILE
        if target.exists():
            # SFTP v3 rename never overwrites
            return SFTP_FAILURE
        os.rename(source, target)
        self.sandbox._count("renamed")
        return SFTP_OK

    def posix_rename(self, oldpath, newpath):
        try:
            os.replace(self._real(oldpath), self._real(newpath))
        except OSError as exc:
            return paramiko.SFTPServer.convert_errno(exc.errno)
        self.sandbox._count("renamed")
        return SFTP_OK

    def mkdir(self, path, attr):
        try:
            os.mkdir(self._real(path))
        except OSError as exc:
            return paramiko.SFTPServer.convert_errno(exc.errno)
        return SFTP_OK


class SandboxSftp:
    """The server; a context manager that starts it on a free port of 127.0.0.1.

    :param root: the folder served; ``inbox``, ``outbox``, ``processed`` and ``error`` are
        created in it.
    :param users: ``{username: password}``.
    :param authorized_keys: ``{username: [paramiko.PKey, ...]}`` (public key logins).
    :param host_key: a ``paramiko.PKey``; a new ECDSA key by default.
    """

    def __init__(self, root, users=None, authorized_keys=None, host_key=None, port=0):
        self.root = Path(root)
        self.users = dict(users or {})
        self.authorized_keys = dict(authorized_keys or {})
        self.host_key = host_key or paramiko.ECDSAKey.generate()
        self.requested_port = port
        self.port = None
        self._counts = {}
        self._lock = threading.Lock()
        self._socket = None
        self._thread = None
        self._transports = []
        self._stopping = threading.Event()

    @property
    def host_key_line(self):
        """The host key as ``<type> <base64>``, what a client pins."""
        return f"{self.host_key.get_name()} {self.host_key.get_base64()}"

    def _count(self, what):
        with self._lock:
            self._counts[what] = self._counts.get(what, 0) + 1

    def stats(self):
        with self._lock:
            return dict(self._counts)

    def reset(self):
        """Empty the four folders and the counts (between tests)."""
        with self._lock:
            self._counts.clear()
        for folder in FOLDERS:
            path = self.root / folder
            path.mkdir(parents=True, exist_ok=True)
            for entry in path.iterdir():
                entry.unlink()

    def start(self):
        for folder in FOLDERS:
            (self.root / folder).mkdir(parents=True, exist_ok=True)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", self.requested_port))
        self._socket.listen(16)
        self._socket.settimeout(0.2)
        self.port = self._socket.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, name="sandbox-sftp", daemon=True)
        self._thread.start()
        return self

    def _serve(self):
        while not self._stopping.is_set():
            try:
                conn, _address = self._socket.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            conn.settimeout(None)
            transport = paramiko.Transport(conn)
            transport.set_log_channel(LOG_CHANNEL)
            transport.add_server_key(self.host_key)
            transport.set_subsystem_handler("sftp", paramiko.SFTPServer, _Folder)
            server = _Server(self)
            server.sandbox = self
            try:
                transport.start_server(server=server)
            except (paramiko.SSHException, EOFError, OSError):
                transport.close()
                continue
            self._transports = [t for t in self._transports if t.is_active()] + [transport]

    def stop(self):
        self._stopping.set()
        if self._socket:
            self._socket.close()
        for transport in self._transports:
            transport.close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


class OrdersAnswerer:
    """The 3PL's side of the demo: it reads the ORDERS files Odoo writes into ``inbox`` and
    answers each original order as a warehouse would, by writing files into ``outbox``: at
    once a reservation report (``AVAIL_<ref>.csv``: ``Order,Ref,Status``), and ``delay``
    seconds later a dispatch advice with every line shipped (``DESADV_<ref>.edi``). Files are
    written under a ``.part`` name and renamed, as a careful partner does; an answered order
    is renamed ``.answered-<name>`` so that a restart does not answer it twice.

    ``formats`` is the ``file_formats`` module of logistics_sync_wms (passed in, as this
    file also runs on its own).
    """

    def __init__(self, root, formats, delay=60.0, interval=2.0):
        self.root = Path(root)
        self.formats = formats
        self.delay = delay
        self.interval = interval
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sandbox-3pl", daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stopping.set()
        self._thread.join(timeout=5)

    def _run(self):
        while not self._stopping.wait(self.interval):
            self.answer()

    def answer(self):
        """Answer the orders waiting in the inbox; return how many."""
        inbox = self.root / "inbox"
        answered = 0
        for path in sorted(inbox.glob("ORDERS*.edi")):
            order = self.formats.read_orders(path.read_text())
            path.rename(inbox / f".answered-{path.name}")
            if order.get("function") != "9":  # changes and cancellations: nothing to ship
                continue
            ref = "".join(c if c.isalnum() else "_" for c in order.get("name") or "")
            ref = ref or order["fulfilment_id"][:8]
            self._write(
                f"AVAIL_{ref}.csv",
                f"Order,Ref,Status\r\n{order['fulfilment_id']},{ref}-R,reserved\r\n",
            )
            timer = threading.Timer(self.delay, self._ship, args=(order, ref))
            timer.daemon = True
            timer.start()
            answered += 1
        return answered

    def _ship(self, order, ref):
        lines = [
            {"sku": line.get("partner_sku") or line["sku"], "quantity": line["quantity"]}
            for line in order["lines"]
        ]
        advice = {
            "fulfilment_id": order["fulfilment_id"],
            "confirmation_id": f"{ref}-S",
            "stage": "shipped",
            "lines": lines,
            "carrier": order.get("carrier") or "NORTHWIND",
            "tracking_numbers": [f"NW{ref[-8:]}"],
            "complete": True,
        }
        self._write(f"DESADV_{ref}.edi", self.formats.write_desadv([advice], sender="SANDBOX3PL"))

    def _write(self, name, text):
        outbox = self.root / "outbox"
        partial = outbox / f".{name}.part"
        partial.write_text(text)
        partial.rename(outbox / name)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", required=True, help="folder to serve")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--user", default="odoo")
    parser.add_argument("--password", required=True)
    parser.add_argument(
        "--host-key", help="private key file of the server (a new ECDSA key if absent)"
    )
    parser.add_argument(
        "--answer-orders",
        type=float,
        metavar="SECONDS",
        help="act as the 3PL: answer each ORDERS file of the inbox with a reservation report "
        "at once and a DESADV that many seconds later",
    )
    args = parser.parse_args(argv)
    host_key = None
    if args.host_key:
        path = Path(args.host_key)
        if path.exists():
            host_key = paramiko.ECDSAKey.from_private_key_file(str(path))
        else:
            host_key = paramiko.ECDSAKey.generate()
            host_key.write_private_key_file(str(path))
    server = SandboxSftp(
        args.root, users={args.user: args.password}, host_key=host_key, port=args.port
    ).start()
    sys.stdout.write(f"sandbox SFTP on 127.0.0.1:{server.port}, host key {server.host_key_line}\n")
    answerer = None
    if args.answer_orders is not None:
        # run on its own: logistics_sync_wms's file formats are read from the addon folder
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        import file_formats

        answerer = OrdersAnswerer(args.root, file_formats, delay=args.answer_orders).start()
        sys.stdout.write(f"answering ORDERS files of {args.root}/inbox\n")
    sys.stdout.flush()
    try:
        server._thread.join()
    except KeyboardInterrupt:
        server.stop()
        if answerer:
            answerer.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
