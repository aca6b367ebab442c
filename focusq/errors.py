"""Errors that reach the user as one clear line, never as a traceback."""

from __future__ import annotations


class FocusqError(Exception):
    """A problem the user can fix; its message is printed as one line.

    ``exit_code`` is what the CLI exits with (2: bad input or unusable state).
    """

    exit_code = 2


class UserError(FocusqError):
    """Bad input: a token, an id, a path, a value out of range."""


class ConfigError(FocusqError):
    """The config file cannot be read or holds a value focusq does not accept."""


class DatabaseError(FocusqError):
    """The database is not usable: not focusq's, corrupt, too new, or locked too long."""
