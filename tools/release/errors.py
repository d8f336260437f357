"""The one error the release commands raise: its message is the line the user sees."""


class ReleaseError(Exception):
    """A release step cannot go on; ``str(error)`` is one line saying why and what to do."""
