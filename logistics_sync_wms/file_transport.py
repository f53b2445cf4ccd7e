"""Moving files to and from a file-based partner, without the ORM: a folder of the Odoo host
(a mounted share, or a folder an SFTP server of ours writes into) or the partner's SFTP
server (paramiko).

Both transports offer the same few operations on four folders of the partner side::

    with SftpTransport(sock, "odoo", password="...", host_key="ssh-ed25519 AAAA...",
                       folders={"pickup": "outbox", "upload": "inbox",
                                "processed": "processed", "error": "error"}) as files:
        for remote in files.list_pickup():        # RemoteFile(name, size)
            data = files.download(remote.name)
            files.archive(remote.name, "processed")  # or "error"
        files.archive("a.csv", "processed", source="error")  # applied after a retry
        files.upload("ORDERS_WH-OUT-1.edi", b"UNA...")

Files being written are never picked up (names starting with '.', ending with '.part',
'.tmp' or '.filepart'), and uploads are written under a '.part' name and renamed once
complete, so the partner never reads half a file either.
"""

import io
import os
import posixpath
import stat
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import paramiko

#: Suffixes of files still being written (ours and common clients').
PARTIAL_SUFFIXES = (".part", ".tmp", ".filepart")
DEFAULT_TIMEOUT = 30
#: paramiko's log of our SFTP connections.
LOG_CHANNEL = "odoo.addons.logistics_sync_wms.sftp"


class TransportError(Exception):
    """The partner's files could not be reached (network, login, host key, permissions):
    worth trying again later, after fixing the configuration if the message says so."""


@dataclass(frozen=True)
class RemoteFile:
    name: str
    size: int


def _wanted(name):
    return not name.startswith(".") and not name.endswith(PARTIAL_SUFFIXES)


def _archive_name(name, taken):
    """A free name for ``name`` in an archive folder that already holds one."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    candidate = f"{name}.{stamp}"
    counter = 1
    while candidate in taken:
        counter += 1
        candidate = f"{name}.{stamp}-{counter}"
    return candidate


class _Transport:
    FOLDERS = ("pickup", "upload", "processed", "error")

    def __init__(self, folders):
        missing = [kind for kind in self.FOLDERS if not folders.get(kind)]
        if missing:
            raise TransportError(f"no folder configured for: {', '.join(missing)}")
        self.folders = dict(folders)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self):
        """Release the connection."""


class FolderTransport(_Transport):
    """Folders of the Odoo host; relative folders are taken under ``root``."""

    def __init__(self, root, folders):
        super().__init__(folders)
        self.root = Path(root) if root else None
        if self.root is None or not self.root.is_dir():
            raise TransportError(f"the folder {root!r} does not exist on the Odoo server")

    def _path(self, kind, name=None):
        folder = self.root / self.folders[kind]
        return folder / name if name else folder

    def list_pickup(self):
        folder = self._path("pickup")
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError as exc:
            raise TransportError(f"cannot list {folder}: {exc.strerror}") from exc
        return [
            RemoteFile(entry.name, entry.stat().st_size)
            for entry in entries
            if entry.is_file() and _wanted(entry.name)
        ]

    def download(self, name):
        try:
            return self._path("pickup", name).read_bytes()
        except OSError as exc:
            raise TransportError(f"cannot read {name}: {exc.strerror}") from exc

    def archive(self, name, kind, source="pickup", target=None):
        """Move file ``name`` of the ``source`` folder (the pick-up folder, or ``error``
        for a file applied after a retry) into the ``processed`` or ``error`` folder, as
        ``target`` (default: the same name); returns its name there (suffixed when the
        folder already holds one by that name)."""
        target_folder = self._path(kind)
        target = target or name
        try:
            target_folder.mkdir(parents=True, exist_ok=True)
            taken = set(os.listdir(target_folder))
            target = target if target not in taken else _archive_name(target, taken)
            os.rename(self._path(source, name), target_folder / target)
        except OSError as exc:
            raise TransportError(f"cannot move {name} to {kind}: {exc.strerror}") from exc
        return target

    def upload(self, name, data):
        folder = self._path("upload")
        partial = folder / f".{name}.part"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            partial.write_bytes(data)
            os.replace(partial, folder / name)
        except OSError as exc:
            raise TransportError(f"cannot write {name}: {exc.strerror}") from exc


def load_private_key(text, passphrase=None):
    """A paramiko key from its OpenSSH/PEM text (Ed25519, ECDSA or RSA)."""
    errors = []
    for key_class in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return key_class.from_private_key(io.StringIO(text), password=passphrase)
        except (paramiko.SSHException, ValueError) as exc:
            errors.append(str(exc))
    raise TransportError("the private key cannot be read (Ed25519, ECDSA or RSA expected)")


def host_key_line(key):
    """``<type> <base64>`` of a paramiko public key: what is pinned on the system."""
    return f"{key.get_name()} {key.get_base64()}"


class SftpTransport(_Transport):
    """The partner's SFTP server, reached over ``sock`` (an already connected socket: the
    caller opens it through the SSRF guard).

    :param host_key: the server's public key ``<type> <base64>``; the connection is refused
        when the server shows another one. ``None`` only for :func:`fetch_host_key`.
    """

    def __init__(
        self,
        sock,
        username,
        folders,
        password=None,
        private_key=None,
        host_key=None,
        timeout=DEFAULT_TIMEOUT,
    ):
        super().__init__(folders)
        self.transport = None
        self.sftp = None
        try:
            sock.settimeout(timeout)
            self.transport = paramiko.Transport(sock)
            self.transport.set_log_channel(LOG_CHANNEL)
            self.transport.banner_timeout = timeout
            self.transport.auth_timeout = timeout
            self.transport.start_client(timeout=timeout)
            shown = host_key_line(self.transport.get_remote_server_key())
            if host_key is None or shown.split()[:2] != host_key.split()[:2]:
                raise TransportError(
                    "the server's host key is not the one pinned on the system "
                    f"(it shows {shown[:60]}...): check with the partner, then pin it"
                )
            if private_key is not None:
                self.transport.auth_publickey(username, private_key)
            elif password:
                self.transport.auth_password(username, password)
            else:
                raise TransportError("no SFTP password nor private key in the credentials")
            self.sftp = paramiko.SFTPClient.from_transport(self.transport)
            self.sftp.get_channel().settimeout(timeout)
        except TransportError:
            self.close()
            raise
        except paramiko.AuthenticationException as exc:
            self.close()
            raise TransportError(f"SFTP login refused for {username!r}") from exc
        except (paramiko.SSHException, OSError, EOFError) as exc:
            self.close()
            raise TransportError(f"SFTP connection failed: {type(exc).__name__}: {exc}") from exc

    def close(self):
        if self.sftp is not None:
            self.sftp.close()
        if self.transport is not None:
            self.transport.close()

    def _path(self, kind, name=None):
        folder = self.folders[kind]
        return posixpath.join(folder, name) if name else folder

    def _call(self, what, method, *args):
        try:
            return method(*args)
        except (OSError, paramiko.SSHException, EOFError) as exc:
            raise TransportError(f"{what}: {type(exc).__name__}: {exc}") from exc

    def list_pickup(self):
        entries = self._call(
            f"cannot list {self._path('pickup')}", self.sftp.listdir_attr, self._path("pickup")
        )
        return [
            RemoteFile(entry.filename, entry.st_size or 0)
            for entry in sorted(entries, key=lambda entry: entry.filename)
            if stat.S_ISREG(entry.st_mode or 0) and _wanted(entry.filename)
        ]

    def download(self, name):
        buffer = io.BytesIO()
        self._call(f"cannot read {name}", self.sftp.getfo, self._path("pickup", name), buffer)
        return buffer.getvalue()

    def archive(self, name, kind, source="pickup", target=None):
        taken = set(self._call(f"cannot list {kind}", self.sftp.listdir, self._path(kind)))
        target = target or name
        target = target if target not in taken else _archive_name(target, taken)
        self._call(
            f"cannot move {name} to {kind}",
            self.sftp.rename,
            self._path(source, name),
            self._path(kind, target),
        )
        return target

    def upload(self, name, data):
        partial = self._path("upload", f".{name}.part")
        self._call(f"cannot write {name}", self.sftp.putfo, io.BytesIO(data), partial)
        self._call(
            f"cannot rename {name}", self.sftp.posix_rename, partial, self._path("upload", name)
        )


def fetch_host_key(sock, timeout=DEFAULT_TIMEOUT):
    """The host key a server shows (``<type> <base64>``), for a manager to pin after
    checking it with the partner (the SSH handshake only; no login)."""
    transport = paramiko.Transport(sock)
    transport.set_log_channel(LOG_CHANNEL)
    try:
        sock.settimeout(timeout)
        transport.banner_timeout = timeout
        transport.start_client(timeout=timeout)
        return host_key_line(transport.get_remote_server_key())
    except (paramiko.SSHException, OSError, EOFError) as exc:
        raise TransportError(f"SSH handshake failed: {type(exc).__name__}: {exc}") from exc
    finally:
        transport.close()
