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


# the extra of hydra-shell that installs each optional driver (pyproject.toml)
DRIVER_EXTRAS = {"psycopg": "postgres", "pymysql": "mysql", "pyodbc": "mssql", "pymssql": "mssql",
                 "boto3": "aws", "botocore": "aws"}


def missing_driver(what: str, err: ModuleNotFoundError) -> HydraError:
    """One line for a driver that is not installed, naming the extra that installs it."""
    module = (err.name or str(err)).split(".")[0]
    extra = DRIVER_EXTRAS.get(module)
    if extra:
        return HydraError(f"{what}: the {module} driver is not installed: pip install 'hydra-shell[{extra}]'")
    return HydraError(f"{what}: needs the Python module {module}, which is not installed")
