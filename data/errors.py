"""The one base of NCE's user-facing errors; the command line turns it into one line and exit 2."""

from __future__ import annotations

MAX_MESSAGE = 400  # characters


class NCEError(Exception):
    """Bad input from the user (a file, a flag, a row, a model folder); the message names
    what and why.

    The message is kept to one line of at most :data:`MAX_MESSAGE` characters, whatever
    text of the user's it quotes (it goes to stderr as ``error: ...``).
    """

    def __init__(self, message: object = "") -> None:
        super().__init__(one_line(message))


def one_line(message: object, limit: int = MAX_MESSAGE) -> str:
    """``message`` as one line of at most ``limit`` characters (cut with an ellipsis)."""
    text = " ".join(str(message).splitlines())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"
