"""RabbitMQ with pika.

Publishing: persistent messages, publisher confirms, mandatory routing (an unroutable message
is a failure, not a silent drop). Consuming: :class:`Consumer` takes messages from a queue
without acknowledging them; the caller acknowledges them once what it made of them is
committed (at-least-once from the broker, duplicates absorbed by the caller's message ids).
"""

import logging
import time
from collections import namedtuple
from urllib.parse import quote, urlsplit, urlunsplit

import pika
from pika.exceptions import AMQPError

from . import http_client

_logger = logging.getLogger(__name__)


class PublishError(Exception):
    """The broker could not be reached, refused the message or did not confirm it."""


class Publisher:
    """One blocking connection with publisher confirms; close it when done."""

    def __init__(self, url, password=None, timeout=15, allow_networks=()):
        try:
            self.connection = _connect(url, password, timeout, allow_networks)
            self.channel = self.connection.channel()
            self.channel.confirm_delivery()
        except http_client.DestinationNotAllowed:
            raise  # refused by the SSRF guard: not worth a retry
        except (AMQPError, OSError, ValueError) as exc:
            raise PublishError(f"cannot connect to RabbitMQ: {type(exc).__name__}: {exc}") from exc

    def publish(self, exchange, routing_key, message_id, body, headers):
        """Publish ``body``; returns once the broker confirmed it, or raises PublishError."""
        properties = pika.BasicProperties(
            content_type="application/json",
            delivery_mode=pika.DeliveryMode.Persistent,
            message_id=message_id,
            headers=headers,
        )
        try:
            self.channel.basic_publish(
                exchange, routing_key, body, properties=properties, mandatory=True
            )
        except (AMQPError, OSError) as exc:
            raise PublishError(f"{type(exc).__name__}: {exc}") from exc

    def close(self):
        _close(self.connection)


class ConsumeError(Exception):
    """The broker could not be reached, or the queue could not be read."""


#: One message taken from a queue, not yet acknowledged. ``headers`` are the message's
#: application headers (text values); ``message_id`` and ``content_type`` its properties
#: (``None`` when the publisher set none).
Delivery = namedtuple(
    "Delivery",
    "delivery_tag message_id content_type headers body exchange routing_key redelivered",
)


class Consumer:
    """One blocking connection taking messages from a queue with ``basic_get``.

    Nothing is acknowledged until :meth:`ack_and_close`: a message taken but never
    acknowledged (the connection closed, the process died) goes back to the queue and is
    delivered again, so the caller must acknowledge only what it has durably stored.

    Example::

        consumer = Consumer("amqp://odoo@broker:5672/%2F", password, timeout=15)
        try:
            deliveries = consumer.take("wms.inbound", limit=100, seconds=30)
            ...  # store them, commit
        except BaseException:
            consumer.close()  # nothing acknowledged: the broker delivers them again
            raise
        consumer.ack_and_close()
    """

    def __init__(self, url, password=None, timeout=15, allow_networks=()):
        self.last_tag = None
        try:
            self.connection = _connect(url, password, timeout, allow_networks)
            self.channel = self.connection.channel()
        except http_client.DestinationNotAllowed:
            raise  # refused by the SSRF guard: not worth a retry
        except (AMQPError, OSError, ValueError) as exc:
            raise ConsumeError(f"cannot connect to RabbitMQ: {type(exc).__name__}: {exc}") from exc

    def take(self, queue, limit, seconds):
        """Up to ``limit`` messages of ``queue`` (fewer when it runs empty or after
        ``seconds``), unacknowledged, as :class:`Delivery` tuples.

        :raises ConsumeError: the queue does not exist, or the connection failed.
        """
        deliveries = []
        deadline = time.monotonic() + seconds
        while len(deliveries) < limit and time.monotonic() < deadline:
            try:
                method, properties, body = self.channel.basic_get(queue, auto_ack=False)
            except (AMQPError, OSError) as exc:
                raise ConsumeError(
                    f"cannot read queue {queue!r}: {type(exc).__name__}: {exc}"
                ) from exc
            if method is None:
                break
            self.last_tag = method.delivery_tag
            headers = properties.headers or {}
            deliveries.append(
                Delivery(
                    delivery_tag=method.delivery_tag,
                    message_id=properties.message_id,
                    content_type=properties.content_type,
                    headers={str(key): _header_text(value) for key, value in headers.items()},
                    body=body or b"",
                    exchange=method.exchange,
                    routing_key=method.routing_key,
                    redelivered=bool(method.redelivered),
                )
            )
        return deliveries

    def ack_and_close(self):
        """Acknowledge every message taken (one frame), then close. A failure is logged and
        left to the broker: it delivers the messages again."""
        try:
            if self.last_tag is not None:
                self.channel.basic_ack(self.last_tag, multiple=True)
        except (AMQPError, OSError) as exc:
            _logger.info("RabbitMQ acknowledgement failed, the broker will redeliver: %s", exc)
        self.close()

    def close(self):
        """Close without acknowledging: the broker delivers the messages taken again."""
        _close(self.connection)


def _connect(url, password, timeout, allow_networks=()):
    """A blocking connection to the broker of ``url``, through the SSRF guard: the broker's
    name is resolved once, every address it resolves to is checked like an HTTP partner's
    (:func:`http_client.check_ip`, with ``allow_networks``), and pika connects to a checked
    address, not to the name (which could resolve elsewhere the second time). TLS still
    verifies the certificate against the name.

    :raises http_client.AddressNotAllowed: the broker's address is refused.
    """
    params = pika.URLParameters(_with_password(url, password))
    host = params.host.strip("[]")
    infos = http_client.resolve_checked(host, params.port, allow_networks)
    if params.ssl_options is not None and not params.ssl_options.server_hostname:
        params.ssl_options = pika.SSLOptions(params.ssl_options.context, server_hostname=host)
    params.host = infos[0][4][0]
    params.socket_timeout = timeout
    params.blocked_connection_timeout = timeout
    params.connection_attempts = 1
    return pika.BlockingConnection(params)


def _close(connection):
    try:
        if connection.is_open:
            connection.close()
    except (AMQPError, OSError) as exc:
        # closing a broken connection: nothing left to do but say so
        _logger.debug("RabbitMQ connection closed uncleanly: %s", exc)


def _header_text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _with_password(url, password):
    """Put the stored password into ``url`` (pika reads credentials from the URL only)."""
    parts = urlsplit(url)
    if not parts.username or parts.password is not None:
        return url
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    netloc = f"{quote(parts.username, safe='')}:{quote(password or '', safe='')}@{host}"
    return urlunsplit(parts._replace(netloc=netloc))
