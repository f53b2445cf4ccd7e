"""Publishing to RabbitMQ with pika: persistent messages, publisher confirms, mandatory
routing (an unroutable message is a failure, not a silent drop)."""

import logging
from urllib.parse import quote, urlsplit, urlunsplit

import pika
from pika.exceptions import AMQPError

_logger = logging.getLogger(__name__)


class PublishError(Exception):
    """The broker could not be reached, refused the message or did not confirm it."""


class Publisher:
    """One blocking connection with publisher confirms; close it when done."""

    def __init__(self, url, password=None, timeout=15):
        try:
            params = pika.URLParameters(_with_password(url, password))
            params.socket_timeout = timeout
            params.blocked_connection_timeout = timeout
            params.connection_attempts = 1
            self.connection = pika.BlockingConnection(params)
            self.channel = self.connection.channel()
            self.channel.confirm_delivery()
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
        try:
            if self.connection.is_open:
                self.connection.close()
        except (AMQPError, OSError) as exc:
            # closing a broken connection: nothing left to do but say so
            _logger.debug("RabbitMQ connection closed uncleanly: %s", exc)


def _with_password(url, password):
    """Put the stored password into ``url`` (pika reads credentials from the URL only)."""
    parts = urlsplit(url)
    if not parts.username or parts.password is not None:
        return url
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    netloc = f"{quote(parts.username, safe='')}:{quote(password or '', safe='')}@{host}"
    return urlunsplit(parts._replace(netloc=netloc))
