"""One error family. Anything a user can cause is a HydraError with one clear line of text."""


class HydraError(Exception):
    """A problem the user can act on. ``str(err)`` is the one line shown (no traceback)."""


class StatementError(HydraError):
    """A statement is malformed or names something that does not exist."""


class ReadOnlyError(HydraError):
    """A statement tried to write to a source; Hydra never writes to a source."""


class WorkspaceLockedError(HydraError):
    """Another process holds the workspace file open."""
