"""Errors of the pipelines; the command line catches their base, :class:`nce.data.errors.NCEError`."""

from nce.data.errors import MAX_MESSAGE, NCEError

__all__ = ["MAX_MESSAGE", "NCEError", "UserError"]


class UserError(NCEError):
    """Bad input from the user to a pipeline: a file, a flag, a row. The message names what
    and why, on one line of at most 400 characters (see :class:`NCEError`)."""
