"""Encryption at rest for credentials and signing secrets.

Secrets are encrypted with Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``). The key
never lives in the database: it comes from the Odoo configuration file option
``logistics_sync_secret_key`` or the ``LOGISTICS_SYNC_SECRET_KEY`` environment variable. Several
comma-separated keys allow rotation: the first encrypts, any of them decrypts.

Generate a key with::

    python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"
"""

import os

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from odoo.tools import config

from .exceptions import SecretKeyError

CONFIG_OPTION = "logistics_sync_secret_key"
ENV_VARIABLE = "LOGISTICS_SYNC_SECRET_KEY"


def configured_keys():
    """Return the list of configured keys (strings), first one used to encrypt."""
    raw = config.get(CONFIG_OPTION) or os.environ.get(ENV_VARIABLE) or ""
    return [key.strip() for key in raw.split(",") if key.strip()]


def _box(keys=None):
    keys = configured_keys() if keys is None else keys
    if not keys:
        raise SecretKeyError(
            f"No encryption key is configured for Logistics Sync secrets. Set "
            f"'{CONFIG_OPTION}' in the Odoo configuration file or the {ENV_VARIABLE} "
            f"environment variable (a Fernet key) and restart Odoo."
        )
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except (ValueError, TypeError) as exc:
        raise SecretKeyError(
            f"The configured '{CONFIG_OPTION}' is not a valid Fernet key (32 url-safe "
            f"base64-encoded bytes): {exc}"
        ) from exc


def encrypt(plaintext, keys=None):
    """Encrypt ``plaintext`` (str) and return the token (str)."""
    return _box(keys).encrypt(plaintext.encode()).decode()


def decrypt(token, keys=None):
    """Decrypt a token made by :func:`encrypt`; a wrong key raises :class:`SecretKeyError`."""
    try:
        return _box(keys).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretKeyError(
            "A Logistics Sync secret cannot be decrypted with the configured key: it was "
            "encrypted with another key. Configure the original key (a list of keys is "
            "accepted during rotation) or enter the secret again."
        ) from exc
