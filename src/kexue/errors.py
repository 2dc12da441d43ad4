"""One exception type for bad input: the CLI prints its message (no traceback) and exits 2."""


class KexueError(Exception):
    """A problem the user can fix: the message names the thing and the fix."""
