"""The one error type a user sees as a single line, without a stack trace, and the exit codes of a command."""

USER_ERROR = 2  # a SpeedrunError: the input, the config or the environment, named in one line
SERVER_GONE = 3  # the speedrun server stopped while it ran the command
INTERNAL_ERROR = 4  # an error speedrun did not foresee (a bug): one line naming it, --debug for the stack trace


class SpeedrunError(Exception):
    """A problem with the user's input, config or environment, worded for the user."""
