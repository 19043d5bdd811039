"""The one exception the command line turns into a one-line message and exit code 2."""

MAX_MESSAGE = 400  # characters


class UserError(Exception):
    """Bad input from the user: a file, a flag, a row. The message names what and why.

    The message is kept to one line of at most 400 characters, whatever text of the
    user's it quotes (it goes to stderr as ``error: ...``).
    """

    def __init__(self, message: object = "") -> None:
        text = " ".join(str(message).splitlines())
        if len(text) > MAX_MESSAGE:
            text = text[: MAX_MESSAGE - 1] + "\u2026"
        super().__init__(text)
