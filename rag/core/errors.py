"""The errors whose message is meant for the user as it is: each says what went wrong and
how to fix it, so a face (the chat, the command line) shows it without a stack trace.

Two families: :class:`UserError` when what was asked can't be done as asked (the user
changes the question or the choice), and the backends' own errors, which subclass
:class:`AppError` where they are defined (a model that fails, a store that can't be reached,
an ingest that can't run). A face catches :class:`AppError`.
"""


class AppError(RuntimeError):
    """A failure worth showing to the user as it is."""


class UserError(AppError):
    """What was asked can't be done as asked: an empty or over-long question, an unknown
    answer mode. The message says what to change."""


class NotReady(AppError):
    """The app can't answer yet (its notes are still being ingested); asking again later
    works."""
