"""Exceptions the domain raises; handlers and views turn them into a localised reply.

Each carries a message id of the gettext catalogues and its placeholders, so the
domain decides *what* went wrong and the caller only decides the language.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of the domain's refusals."""

    def __init__(self, message_id: str, **params: Any) -> None:
        super().__init__(message_id)
        self.message_id = message_id
        self.params = params


class ValidationFailed(DomainError):
    """An answer that breaks a rule (too long, bad checksum, unknown township)."""


class NotAllowed(DomainError):
    """The user may not do this (wrong role, not their record, forged callback)."""


class NotFound(DomainError):
    """The record does not exist (or is not visible to this user)."""


class InvalidTransition(DomainError):
    """The record is not in a state that allows this action."""


class AlreadyDecided(DomainError):
    """Someone else decided first; `params` say who and how."""
