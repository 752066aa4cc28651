"""The one exception type users see: a single sentence naming the values and the fix."""


class ConvsuiteError(Exception):
    """A user-facing error. The CLI prints its message without a traceback."""
