"""One error family. Anything a user can cause is a HydraError with one clear line of text."""


class HydraError(Exception):
    """A problem the user can act on. ``str(err)`` is the one line shown (no traceback)."""


class StatementError(HydraError):
    """A statement is malformed or names something that does not exist."""


class ReadOnlyError(HydraError):
    """A statement tried to write to a source; Hydra never writes to a source."""


class WorkspaceLockedError(HydraError):
    """Another process holds the workspace file open."""


def one_line(err: BaseException) -> str:
    """The first line of an error's message (drivers and DuckDB put context on later lines)."""
    text = str(err).strip().splitlines()
    return text[0].strip() if text else type(err).__name__
