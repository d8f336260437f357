"""The one error the deploy commands raise: its message is the line the user sees."""


class DeployError(Exception):
    """A deploy step cannot go on; ``str(error)`` says why in one line."""
