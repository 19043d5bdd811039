"""The one exception the command line turns into a one-line message and exit code 2."""


class UserError(Exception):
    """Bad input from the user: a file, a flag, a row. The message names what and why."""
