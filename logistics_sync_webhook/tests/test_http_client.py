import ipaddress
import os
import socket
import ssl
import tempfile
import threading
from contextlib import contextmanager
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock
from urllib.parse import urlsplit

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from odoo.tests import BaseCase, common
from odoo.tools import mute_logger

from ..http_client import (
    AddressNotAllowed,
    DestinationNotAllowed,
    UrlNotAllowed,
    check_ip,
    check_url,
    guarded_connect,
    make_session,
    parse_networks,
    post,
)

LOOPBACK = ["127.0.0.1/32"]
# Names whose DNS answers the tests fake (see fake_dns) or that the resolver maps to 127.0.0.1
# by itself; Odoo's test harness would otherwise block them before the guard is reached.
TEST_NAMES = {"partner.test", "mixed.test", "2130706433"}
TIMEOUT = 10  # Odoo's test harness raises shorter timeouts to 10 s (and logs it).


@contextmanager
def fake_dns(answers):
    """Resolve the names in ``answers`` to the given addresses, leave the others alone.

    A name maps to a list of addresses, or to a list of such lists: successive answers, the
    last one repeating, as a rebinding DNS server would give. Yields the names looked up.
    """
    real_getaddrinfo = socket.getaddrinfo
    lookups = []

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        if host not in answers:
            return real_getaddrinfo(host, port, family, type, proto, flags)
        answer = answers[host]
        if not isinstance(answer[0], str):
            answer = answer[min(len(lookups), len(answer) - 1)]
        lookups.append(host)
        results = []
        for ip in answer:
            if ipaddress.ip_address(ip).version == 6:
                results.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (ip, port, 0, 0)))
            else:
                results.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)))
        return results

    with mock.patch("socket.getaddrinfo", getaddrinfo):
        yield lookups


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass  # keep the test output clean

    def do_GET(self):
        self._answer(b"")

    def do_POST(self):
        self._answer(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

    def _answer(self, body):
        self.server.received.append({"path": self.path, "host": self.headers["Host"], "body": body})
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{self.server.server_port}/ok")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.received = []
        self.server_names = []

    def handle_error(self, request, client_address):
        pass  # clients that abort on purpose (TLS name mismatch) are part of the tests


class _ServerCase(BaseCase):
    @classmethod
    def _request_handler(cls, s, r, /, **kw):
        # Let the fake test names through to the SSRF guard under test; everything they
        # resolve to is on this machine, and the guard itself is what is being checked.
        if urlsplit(r.url).hostname in TEST_NAMES:
            return common._super_send(s, r, **kw)
        return super()._request_handler(s, r, **kw)

    def setUp(self):
        super().setUp()
        self.server = _Server()
        self._prepare_server(self.server)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def tearDown(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(TIMEOUT)
        super().tearDown()

    def _prepare_server(self, server):
        pass

    def _session(self, **kwargs):
        session = make_session(**kwargs)
        self.addCleanup(session.close)
        return session


class TestCheckIp(BaseCase):
    def test_refused(self):
        cases = {
            "127.0.0.1": "loopback",
            "10.1.2.3": "private",
            "172.16.0.1": "private",
            "192.168.1.1": "private",
            "169.254.169.254": "cloud metadata",
            "0.0.0.0": "unspecified",
            "224.0.0.1": "multicast",
            "240.0.0.1": "reserved",
            "100.64.0.1": "not globally routable",
            "168.63.129.16": "cloud metadata",
            "::1": "loopback",
            "::": "unspecified",
            "fe80::1": "link-local",
            "fe80::1%1": "link-local",
            "fc00::1": "private",
            "fd00:ec2::254": "cloud metadata",
            "fec0::1": "site-local",
            "ff02::1": "multicast",
            "::ffff:127.0.0.1": "loopback address (IPv4 127.0.0.1 embedded",
            "::ffff:10.0.0.1": "private address (IPv4 10.0.0.1 embedded",
            "::ffff:169.254.169.254": "cloud metadata",
            "64:ff9b::7f00:1": "loopback address (IPv4 127.0.0.1 embedded",
            "2002:a00:1::1": "private address (IPv4 10.0.0.1 embedded",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2": "Teredo",
            "not-an-ip": "not a valid IP address",
        }
        for ip, reason in cases.items():
            with self.subTest(ip=ip), self.assertRaises(AddressNotAllowed) as caught:
                check_ip(ip)
            self.assertIn(reason, caught.exception.reason)
            self.assertIn(ip.split("%")[0], str(caught.exception))

    def test_allowed(self):
        for ip in (
            "93.184.216.34",
            "2606:4700::1",
            "::ffff:93.184.216.34",
            "64:ff9b::5db8:d822",  # NAT64 of 93.184.216.34
            ipaddress.ip_address("8.8.8.8"),
        ):
            with self.subTest(ip=ip):
                self.assertIsNone(check_ip(ip))

    def test_allow_networks(self):
        self.assertIsNone(check_ip("127.0.0.1", LOOPBACK))
        self.assertIsNone(check_ip("::ffff:127.0.0.1", LOOPBACK))
        self.assertIsNone(check_ip("10.20.3.4", [ipaddress.ip_network("10.20.0.0/16")]))
        self.assertIsNone(check_ip("10.20.3.4", "10.20.0.0/16"))
        for ip in ("127.0.0.2", "::1", "10.21.0.1"):
            with self.subTest(ip=ip), self.assertRaises(AddressNotAllowed):
                check_ip(ip, [*LOOPBACK, "10.20.0.0/16"])

    def test_metadata_never_allowed(self):
        for ip in ("169.254.169.254", "fd00:ec2::254"):
            with self.subTest(ip=ip), self.assertRaises(AddressNotAllowed) as caught:
                check_ip(ip, ["169.254.0.0/16", "fd00::/8"])
            self.assertIn("cloud metadata", caught.exception.reason)

    def test_message_names_host_and_ip(self):
        with self.assertRaises(AddressNotAllowed) as caught:
            check_ip("10.0.0.7", host="wms.partner.example")
        error = caught.exception
        self.assertEqual((error.host, error.ip), ("wms.partner.example", "10.0.0.7"))
        self.assertEqual(
            str(error), "refusing to connect to wms.partner.example (10.0.0.7): a private address"
        )

    def test_parse_networks(self):
        self.assertEqual(
            parse_networks(["127.0.0.1/32", " ::1 "]),
            (ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("::1/128")),
        )
        for bad in (["10.1.2.3/8"], ["localhost"], ["10.0.0.0/33"]):
            with self.subTest(bad=bad), self.assertRaises(ValueError):
                parse_networks(bad)


class TestCheckUrl(BaseCase):
    def test_refused(self):
        cases = [
            ("ftp://partner.example/in", False, "scheme 'ftp'"),
            ("file:///etc/passwd", False, "scheme 'file'"),
            ("gopher://partner.example/", False, "scheme 'gopher'"),
            ("partner.example/hook", False, "scheme '(none)'"),
            ("http://partner.example/hook", True, "plain http"),
            ("http:///hook", False, "no host"),
            ("https://partner.example:99999/hook", False, "malformed"),
            ("https://partner.example:0/hook", False, "port 0"),
        ]
        for url, https_only, reason in cases:
            with self.subTest(url=url), self.assertRaises(UrlNotAllowed) as caught:
                check_url(url, https_only=https_only)
            self.assertIn(reason, str(caught.exception))
            self.assertIsInstance(caught.exception, ValueError)
            self.assertIsInstance(caught.exception, DestinationNotAllowed)

    def test_allowed(self):
        self.assertIsNone(check_url("https://partner.example/hook", https_only=True))
        self.assertIsNone(check_url("HTTP://partner.example:8080/hook?x=1"))
        self.assertIsNone(check_url("http://127.0.0.1:8069/hook", allow_networks=LOOPBACK))

    def test_ip_literal_checked_at_once(self):
        for url in ("http://127.0.0.1/", "https://[::1]:8443/", "http://169.254.169.254/latest"):
            with self.subTest(url=url), self.assertRaises(AddressNotAllowed):
                check_url(url)


class TestGuardedSession(_ServerCase):
    def test_loopback_refused_without_allow_list(self):
        session = self._session()
        with self.assertRaises(AddressNotAllowed) as caught:
            session.get(f"http://127.0.0.1:{self.port}/ok", timeout=TIMEOUT)
        self.assertEqual(caught.exception.ip, "127.0.0.1")
        self.assertIn("loopback", caught.exception.reason)
        self.assertEqual(self.server.received, [])

    def test_loopback_allowed_by_allow_list(self):
        session = self._session(allow_networks=LOOPBACK)
        response = post(session, f"http://127.0.0.1:{self.port}/ok", b'{"a": 1}', {}, TIMEOUT)
        self.assertEqual((response.status_code, response.text), (200, "ok"))
        self.assertEqual(self.server.received[0]["body"], b'{"a": 1}')

    def test_name_checked_on_resolved_address(self):
        # localhost is not refused by name: it is refused because it resolves to loopback.
        for url in (f"http://localhost:{self.port}/ok", f"http://2130706433:{self.port}/ok"):
            with self.subTest(url=url), self.assertRaises(AddressNotAllowed) as caught:
                self._session().get(url, timeout=TIMEOUT)
            self.assertIn("loopback", caught.exception.reason)
        self.assertEqual(self.server.received, [])

    def test_connects_to_checked_address_keeping_host(self):
        url = f"http://partner.test:{self.port}/ok"
        with fake_dns({"partner.test": ["127.0.0.1"]}):
            with self.assertRaises(AddressNotAllowed) as caught:
                self._session().get(url, timeout=TIMEOUT)
            self.assertEqual(caught.exception.host, "partner.test")
            response = self._session(allow_networks=LOOPBACK).get(url, timeout=TIMEOUT)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.server.received[0]["host"], f"partner.test:{self.port}")

    def test_dns_rebinding(self):
        # The first answer passes the check; a second lookup would get an address outside the
        # allow-list (where nothing listens). The connection must use the first answer.
        answers = {"partner.test": [["127.0.0.1"], ["127.0.0.2"]]}
        with fake_dns(answers) as lookups:
            session = self._session(allow_networks=LOOPBACK)
            response = session.get(f"http://partner.test:{self.port}/ok", timeout=TIMEOUT)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(lookups, ["partner.test"])

    def test_every_resolved_address_checked_before_connecting(self):
        connect = mock.Mock(side_effect=AssertionError("no connection may be attempted"))
        with fake_dns({"mixed.test": ["93.184.216.34", "127.0.0.1"]}):
            with mock.patch.object(socket.socket, "connect", connect):
                with self.assertRaises(AddressNotAllowed) as caught:
                    self._session().get(f"http://mixed.test:{self.port}/ok", timeout=TIMEOUT)
        self.assertEqual(caught.exception.ip, "127.0.0.1")
        connect.assert_not_called()

    def test_redirect_not_followed(self):
        session = self._session(allow_networks=LOOPBACK)
        url = f"http://127.0.0.1:{self.port}/redirect"
        responses = [
            post(session, url, b"{}", {}, TIMEOUT),
            session.get(url, timeout=TIMEOUT, allow_redirects=False),
            # Even a caller that asks for redirects does not get them followed.
            session.get(url, timeout=TIMEOUT),
        ]
        for response in responses:
            self.assertEqual(response.status_code, 302)
            self.assertEqual(response.headers["Location"], f"http://127.0.0.1:{self.port}/ok")
            self.assertEqual(response.history, [])
        self.assertEqual([r["path"] for r in self.server.received], ["/redirect"] * 3)

    def test_https_only(self):
        session = self._session(allow_networks=LOOPBACK, https_only=True)
        with self.assertRaises(UrlNotAllowed):
            session.get(f"http://127.0.0.1:{self.port}/ok", timeout=TIMEOUT)
        self.assertEqual(self.server.received, [])

    def test_other_schemes_are_refused_not_network_errors(self):
        session = self._session(allow_networks=LOOPBACK)
        for url in (f"ftp://127.0.0.1:{self.port}/ok", "file:///etc/passwd"):
            with self.assertRaises(UrlNotAllowed, msg=url):
                session.post(url, data=b"{}", timeout=TIMEOUT)
        self.assertEqual(self.server.received, [])

    def test_proxies_ignored_or_refused(self):
        session = self._session(allow_networks=LOOPBACK)
        url = f"http://127.0.0.1:{self.port}/ok"
        # A proxy from the environment (here a dead one) is not used: the request goes direct.
        with mock.patch.dict(os.environ, {"HTTP_PROXY": "http://127.0.0.1:9", "NO_PROXY": ""}):
            self.assertEqual(session.get(url, timeout=TIMEOUT).status_code, 200)
        with self.assertRaisesRegex(ValueError, "proxies are not supported"):
            session.get(url, timeout=TIMEOUT, proxies={"http": "http://127.0.0.1:9"})
        self.assertEqual(len(self.server.received), 1)


class TestGuardedConnect(_ServerCase):
    """The raw TCP connection other protocols (SFTP) use goes through the same guard."""

    def test_loopback_refused_without_allow_list(self):
        with self.assertRaises(AddressNotAllowed):
            guarded_connect("127.0.0.1", self.port, TIMEOUT)

    def test_connects_to_checked_address(self):
        with fake_dns({"partner.test": [["127.0.0.1"], ["127.0.0.2"]]}) as lookups:
            sock = guarded_connect("partner.test", self.port, TIMEOUT, LOOPBACK)
        try:
            self.assertEqual(sock.getpeername()[:2], ("127.0.0.1", self.port))
        finally:
            sock.close()
        self.assertEqual(lookups, ["partner.test"])

    def test_needs_a_timeout(self):
        with self.assertRaises(ValueError):
            guarded_connect("127.0.0.1", self.port, None, LOOPBACK)


class TestGuardedSessionTls(_ServerCase):
    """The connection goes to the checked IP, yet TLS still verifies the URL's host name."""

    def _prepare_server(self, server):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "partner.test")])
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            # Fixed, wide validity: OpenSSL checks it against the real clock.
            .not_valid_before(datetime(2000, 1, 1))
            .not_valid_after(datetime(2100, 1, 1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("partner.test")]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256())
        )
        self.ca_file = os.path.join(tmp.name, "cert.pem")
        key_file = os.path.join(tmp.name, "key.pem")
        with open(self.ca_file, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        with open(key_file, "wb") as f:
            f.write(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.ca_file, key_file)
        context.sni_callback = lambda sock, sni, ctx: server.server_names.append(sni)
        server.socket = context.wrap_socket(server.socket, server_side=True)

    def test_sni_and_certificate_use_host_name(self):
        session = self._session(allow_networks=LOOPBACK)
        with fake_dns({"partner.test": ["127.0.0.1"]}):
            response = session.get(
                f"https://partner.test:{self.port}/ok", timeout=TIMEOUT, verify=self.ca_file
            )
        self.assertEqual((response.status_code, response.text), (200, "ok"))
        self.assertEqual(self.server.server_names, ["partner.test"])
        self.assertEqual(self.server.received[0]["host"], f"partner.test:{self.port}")

    @mute_logger("urllib3.connection")
    def test_certificate_for_another_name_refused(self):
        session = self._session(allow_networks=LOOPBACK)
        with self.assertRaises(requests.exceptions.SSLError):
            session.get(f"https://127.0.0.1:{self.port}/ok", timeout=TIMEOUT, verify=self.ca_file)
        self.assertEqual(self.server.received, [])
