"""The one error type a user sees as a single line, without a stack trace."""


class SpeedrunError(Exception):
    """A problem with the user's input, config or environment, worded for the user."""
