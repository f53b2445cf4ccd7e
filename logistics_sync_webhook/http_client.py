"""Outbound HTTP with an SSRF guard on the address actually connected, without the ORM.

A destination URL is configured by a partner or an administrator, so it may point, directly or
through DNS, at the Odoo host itself, the internal network or a cloud metadata service. Checking
the URL's host name before the request is not enough: DNS may answer differently a moment later
(rebinding) and many spellings reach the same address (``http://2130706433/``). The session
built by :func:`make_session` therefore resolves the name itself, checks every address it got,
and connects to one of those very addresses; the ``Host`` header, TLS SNI and certificate
checks still use the name from the URL.

Example::

    session = make_session(https_only=True)
    response = post(session, url, body, {"content-type": "application/json"}, timeout=(5, 30))

Other protocols (SFTP) connect their socket with :func:`guarded_connect`.

:class:`AddressNotAllowed` and :class:`UrlNotAllowed` reach the caller as they are (they are not
wrapped in a ``requests`` exception): they are permanent refusals, not transient network errors,
and must not be retried.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

import requests
from requests.adapters import DEFAULT_POOLBLOCK, HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.poolmanager import PoolManager
from urllib3.util.connection import allowed_gai_family

#: (connect, read) seconds, used when a caller passes no timeout: no call may hang forever.
DEFAULT_TIMEOUT = (10, 30)

ALLOWED_SCHEMES = ("http", "https")

# Instance metadata services hand out cloud credentials. They are refused even when an
# allow-list covers them, because no legitimate delivery target lives there. Most are in ranges
# refused anyway; the ones that are not (Azure, Oracle, Alibaba) are why this list exists.
CLOUD_METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address)
    for address in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean...
        "169.254.170.2",  # AWS ECS task metadata
        "fd00:ec2::254",  # AWS IMDS over IPv6
        "168.63.129.16",  # Azure WireServer
        "192.0.0.192",  # Oracle Cloud
        "100.100.100.200",  # Alibaba Cloud
    )
)

_NETWORK_TYPES = ipaddress.IPv4Network | ipaddress.IPv6Network
_ADDRESS_TYPES = ipaddress.IPv4Address | ipaddress.IPv6Address

# NAT64 well-known prefix (RFC 6052): the last 32 bits are the IPv4 host really reached.
_NAT64_NETWORK = ipaddress.ip_network("64:ff9b::/96")


class DestinationNotAllowed(Exception):
    """Base class of the refusals raised by this module; never worth retrying."""


class AddressNotAllowed(DestinationNotAllowed):
    """The destination resolves to an address that outbound calls must not reach.

    ``host`` is the name from the URL (or None), ``ip`` the refused address and ``reason`` why.
    """

    def __init__(self, ip, reason, host=None):
        self.ip = str(ip)
        self.reason = reason
        self.host = host
        target = f"{host} ({self.ip})" if host and host != self.ip else self.ip
        super().__init__(f"refusing to connect to {target}: {reason}")


class UrlNotAllowed(DestinationNotAllowed, ValueError):
    """The URL itself is refused (scheme, missing host, plain HTTP when HTTPS is required)."""

    def __init__(self, reason):
        self.reason = reason
        super().__init__(f"URL not allowed: {reason}")


def parse_networks(allow_networks):
    """Return ``allow_networks`` (CIDR strings or network objects) as a tuple of networks.

    :raises ValueError: on a malformed entry, including host bits set (``10.1.2.3/8``), so that
        a typo in the configuration does not silently allow more than intended.
    """
    if isinstance(allow_networks, str | _NETWORK_TYPES):
        allow_networks = [allow_networks]
    networks = []
    for entry in allow_networks or ():
        if isinstance(entry, _NETWORK_TYPES):
            networks.append(entry)
        else:
            networks.append(ipaddress.ip_network(str(entry).strip()))
    return tuple(networks)


def check_ip(ip, allow_networks=(), host=None):
    """Raise :class:`AddressNotAllowed` unless ``ip`` may be connected to.

    Refused: unspecified, loopback, link-local, multicast, site-local, reserved, private and
    other not globally routable addresses, and cloud metadata endpoints. IPv4 addresses carried
    inside IPv6 (mapped ``::ffff:a.b.c.d``, NAT64 ``64:ff9b::/96``, 6to4 ``2002::/16``) are
    checked as the IPv4 address they reach; Teredo addresses are refused.

    :param ip: an IP address as a string or an ``ipaddress`` object.
    :param allow_networks: CIDRs allowed even though they are not public, e.g. a partner on a
        private link (``["10.20.0.0/16"]``); cloud metadata addresses stay refused.
    :param host: the host name being connected to, only used in the error message.
    """
    networks = parse_networks(allow_networks)
    if isinstance(ip, _ADDRESS_TYPES):
        address = ip
    else:
        ip = str(ip).strip()
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            raise AddressNotAllowed(ip, "not a valid IP address", host) from None
    reason = _refusal_reason(address, networks)
    if reason:
        # The caller's spelling of the address, so the message matches what it configured.
        raise AddressNotAllowed(ip, reason, host)


def check_url(url, https_only=False, allow_networks=()):
    """Raise :class:`UrlNotAllowed` unless ``url`` is an http(s) URL with a host.

    When the host is an IP literal it is checked at once with :func:`check_ip` (raising
    :class:`AddressNotAllowed`), so a configuration form can refuse it on save. Host names are
    only checked when connecting, on the addresses they resolve to then.
    """
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on garbage such as ":99999"
    except ValueError as error:
        raise UrlNotAllowed(f"malformed URL ({error})") from None
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise UrlNotAllowed(f"scheme {scheme or '(none)'!r} is not http or https")
    if https_only and scheme != "https":
        raise UrlNotAllowed("plain http is not allowed, use https")
    host = parts.hostname
    if not host:
        raise UrlNotAllowed("the URL has no host")
    if port == 0:
        raise UrlNotAllowed("port 0 cannot be connected to")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        return
    check_ip(literal, allow_networks, host=host)


def make_session(allow_networks=(), https_only=False):
    """Return a ``requests`` session whose every connection goes through the SSRF guard.

    The session:

    * resolves host names itself, refuses the request if ANY resolved address fails
      :func:`check_ip`, and connects to one of the checked addresses (no second lookup, so DNS
      rebinding cannot slip in between); the ``Host`` header, TLS SNI and certificate
      verification keep using the host name of the URL;
    * never follows redirects, whatever ``allow_redirects`` says: a 3xx response is returned
      as it is (Standard Webhooks counts it as a failed delivery). Callers should still pass
      ``allow_redirects=False`` to say so;
    * ignores proxy settings from the environment and refuses explicit proxies, since a proxy
      would connect on our behalf to an address we never checked;
    * applies :data:`DEFAULT_TIMEOUT` when a call passes no timeout.

    :param allow_networks: see :func:`check_ip`.
    :param https_only: refuse plain ``http://`` URLs.
    """
    return GuardedSession(allow_networks=allow_networks, https_only=https_only)


def post(session, url, body, headers=None, timeout=DEFAULT_TIMEOUT):
    """POST ``body`` (bytes, sent exactly as given) to ``url``; redirects are not followed.

    :returns: the ``requests.Response``, whatever its status.
    :raises DestinationNotAllowed: when the URL or the address it resolves to is refused.
    :raises requests.RequestException: on network errors and timeouts (worth a retry).
    """
    if timeout is None:
        raise ValueError("an outbound call needs a timeout")
    return session.post(url, data=body, headers=headers, timeout=timeout, allow_redirects=False)


class GuardedSession(requests.Session):
    """``requests.Session`` built by :func:`make_session`; see there."""

    def __init__(self, allow_networks=(), https_only=False):
        super().__init__()
        self.trust_env = False
        # Belt and braces: resolve_redirects() below already yields nothing.
        self.max_redirects = 0
        adapter = GuardedHTTPAdapter(allow_networks=allow_networks, https_only=https_only)
        self.mount("https://", adapter)
        self.mount("http://", adapter)

    def get_adapter(self, url):
        # Only http and https are mounted: another scheme is a refusal, not a network error
        # (requests would raise InvalidSchema, which a caller would retry).
        scheme = urlsplit(url).scheme.lower()
        if scheme not in ALLOWED_SCHEMES:
            raise UrlNotAllowed(f"scheme {scheme or '(none)'!r} is not http or https")
        return super().get_adapter(url)

    def resolve_redirects(self, *args, **kwargs):
        # requests calls this to follow redirects (allow_redirects=True) and also, when they
        # are not followed, to prepare Response.next, which raises TooManyRedirects when
        # max_redirects is 0. Yielding nothing makes both cases return the 3xx response as is.
        return iter(())

    def send(self, request, **kwargs):
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = DEFAULT_TIMEOUT
        return super().send(request, **kwargs)


class GuardedHTTPAdapter(HTTPAdapter):
    """Transport adapter whose connections check the address they connect to."""

    __attrs__ = [*HTTPAdapter.__attrs__, "allow_networks", "https_only"]

    def __init__(self, allow_networks=(), https_only=False, **kwargs):
        # Set before super().__init__(), which builds the pool manager that needs them.
        self.allow_networks = parse_networks(allow_networks)
        self.https_only = https_only
        super().__init__(**kwargs)

    def init_poolmanager(self, connections, maxsize, block=DEFAULT_POOLBLOCK, **pool_kwargs):
        self._pool_connections = connections
        self._pool_maxsize = maxsize
        self._pool_block = block
        self.poolmanager = _GuardedPoolManager(
            num_pools=connections,
            maxsize=maxsize,
            block=block,
            ssrf_allow_networks=self.allow_networks,
            **pool_kwargs,
        )

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        raise ValueError("proxies are not supported: they would bypass the SSRF guard")

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        check_url(request.url, https_only=self.https_only, allow_networks=self.allow_networks)
        if proxies and any(proxies.values()):
            raise ValueError("proxies are not supported: they would bypass the SSRF guard")
        return super().send(
            request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=None
        )


class _GuardedConnectionMixin:
    def __init__(self, *args, ssrf_allow_networks=(), **kwargs):
        self._ssrf_allow_networks = ssrf_allow_networks
        super().__init__(*args, **kwargs)

    def _new_conn(self):
        # Same contract as urllib3's HTTPConnection._new_conn (also used by HTTPSConnection,
        # which wraps the socket afterwards with server_hostname=self.host), except that the
        # address comes from guarded_connect instead of a plain create_connection.
        try:
            return guarded_connect(
                self._dns_host,
                self.port,
                self.timeout,
                self._ssrf_allow_networks,
                source_address=self.source_address,
                socket_options=self.socket_options,
            )
        except TimeoutError:
            raise ConnectTimeoutError(
                self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
            )
        except OSError as error:
            raise NewConnectionError(self, f"Failed to establish a new connection: {error}")


class _GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class _GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedPoolManager(PoolManager):
    def __init__(self, *args, ssrf_allow_networks=(), **kwargs):
        super().__init__(*args, **kwargs)
        self._ssrf_allow_networks = ssrf_allow_networks
        self.pool_classes_by_scheme = {
            "http": _GuardedHTTPConnectionPool,
            "https": _GuardedHTTPSConnectionPool,
        }

    def _new_pool(self, scheme, host, port, request_context=None):
        # Extra pool keywords end up in conn_kw, i.e. in every connection the pool creates.
        # Passing them here rather than in connection_pool_kw keeps them out of the pool key.
        context = dict(self.connection_pool_kw if request_context is None else request_context)
        context["ssrf_allow_networks"] = self._ssrf_allow_networks
        return super()._new_pool(scheme, host, port, request_context=context)


def resolve_checked(host, port, allow_networks=()):
    """``socket.getaddrinfo`` of ``host``:``port`` (TCP), every address checked with
    :func:`check_ip`: connect to one of these, never to the name again.

    :raises AddressNotAllowed: when any address ``host`` resolves to is refused.
    :raises OSError: when the name does not resolve.
    """
    host = host.strip("[]")
    infos = socket.getaddrinfo(host, port, allowed_gai_family(), socket.SOCK_STREAM)
    if not infos:
        raise OSError(f"{host} did not resolve to any address")
    # Every address is checked before any connection attempt: a name that mixes public and
    # internal addresses is refused as a whole, instead of depending on which one answers.
    for *_info, sockaddr in infos:
        check_ip(sockaddr[0], allow_networks, host=host)
    return infos


def guarded_connect(
    host, port, timeout, allow_networks=(), source_address=None, socket_options=None
):
    """A TCP socket connected to ``host``:``port`` through the SSRF guard, for protocols
    other than HTTP (SFTP...): the name is resolved once, every address checked with
    :func:`check_ip`, and a checked address connected to.

    :raises AddressNotAllowed: when any address ``host`` resolves to is refused.
    :raises OSError: when no address could be connected to (worth a retry).
    """
    if timeout is None:
        raise ValueError("an outbound connection needs a timeout")
    infos = resolve_checked(host, port, allow_networks)
    error = None
    for family, socktype, proto, _canonname, sockaddr in infos:
        sock = None
        try:
            sock = socket.socket(family, socktype, proto)
            for option in socket_options or ():
                sock.setsockopt(*option)
            if timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            # The sockaddr that was checked, not the name: nothing is resolved a second time.
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            error = exc
            if sock is not None:
                sock.close()
    raise error


def _refusal_reason(address, networks):
    address = _without_scope(address)
    embedded = _embedded_ipv4(address)
    if embedded is None:
        candidates = [address]
    elif address.ipv4_mapped is not None or address in _NAT64_NETWORK:
        # The IPv6 form is only a way to reach the IPv4 host; it is the IPv4 that matters.
        candidates = [embedded]
    else:
        candidates = [embedded, address]

    for candidate in candidates:
        if candidate in CLOUD_METADATA_ADDRESSES:
            return _describe("a cloud metadata endpoint", candidate, address)
    if any(candidate in network for candidate in candidates for network in networks):
        return None
    if address.version == 6 and address.teredo is not None:
        return "a Teredo tunnel address, whose real destination cannot be checked"
    for candidate in candidates:
        reason = _special_purpose(candidate)
        if reason:
            return _describe(reason, candidate, address)
    return None


def _special_purpose(address):
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.version == 6 and address.is_site_local:
        return "a site-local address"
    if address.is_reserved:
        return "a reserved address"
    if address.is_private:
        return "a private address"
    if not address.is_global:
        # e.g. 100.64.0.0/10 (carrier-grade NAT), neither private nor public.
        return "an address that is not globally routable"
    return None


def _describe(reason, candidate, address):
    if candidate == address:
        return reason
    outer = f"::ffff:{candidate}" if address.ipv4_mapped is not None else address
    return f"{reason} (IPv4 {candidate} embedded in {outer})"


def _embedded_ipv4(address):
    if address.version != 6:
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64_NETWORK:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def _without_scope(address):
    # fe80::1%eth0 and fe80::1 are the same address for every check made here.
    if address.version == 6 and address.scope_id:
        return ipaddress.IPv6Address(str(address).split("%", 1)[0])
    return address
