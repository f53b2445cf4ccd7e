"""Errors raised by the sync core. All are ``UserError`` so a person sees the reason."""

from odoo.exceptions import UserError


class SecretKeyError(UserError):
    """The encryption key is missing or does not match the stored ciphertext."""


class UnknownCodeError(UserError):
    """An external code has no mapping; it was quarantined instead of guessed."""


class OwnershipError(UserError):
    """A system that does not own an object, field set or transition tried to change it."""


class DuplicateReferenceError(UserError):
    """A cross-reference already exists for this record or external id."""
