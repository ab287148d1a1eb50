"""The RFC connection: a small protocol that pyrfc's ``Connection`` (from pyrfcx, or SAP's
archived pyrfc) and the test simulator both satisfy, the lazy import of the client, and one clear
line for every error a user can cause.

pyrfcx imports without the SAP NW RFC SDK and fails at the first connection with
``pyrfcx.SdkNotFoundError`` (not an ``RFCError``), whose message spans six lines; ``connect``
turns it, and a missing ``pyrfc`` module, into one line that says what to install.
Errors are recognised by pyrfc's class names, so no import of pyrfc is needed to classify them.
"""

from __future__ import annotations

from typing import Any, Mapping, Protocol

from hydra.core.errors import HydraError

SDK_HINT = ("the SAP NW RFC SDK is not installed: download it from the SAP Support Portal"
            " (support.sap.com, needs an S-user) and set SAPNWRFC_HOME to its directory")
CLIENT_HINT = ("SAP needs a pyrfc-compatible client: pip install 'hydra-shell[sap]' (pyrfcx),"
               " plus the SAP NW RFC SDK")


class SapError(HydraError):
    """A problem reading an SAP system, in one line without secrets."""


class Connection(Protocol):
    """What Hydra uses of pyrfc's ``Connection``."""

    def call(self, func_name: str, **params: Any) -> dict[str, Any]: ...

    def close(self) -> None: ...


def connect(params: Mapping[str, str]) -> Connection:
    """Open an RFC connection with pyrfc's keyword parameters (``ashost``, ``sysnr`` or
    ``mshost``, ``msserv``, ``sysid``, ``group``; ``client``, ``user``, ``passwd``, ``lang``)."""
    try:
        import pyrfc
    except ImportError as err:
        raise SapError(CLIENT_HINT) from err
    try:
        return pyrfc.Connection(**params)
    except Exception as err:  # noqa: BLE001 - SdkNotFoundError is no RFCError; all become one line
        raise SapError(_logon_line(err, params)) from err


def error_kind(err: BaseException) -> str | None:
    """pyrfc's class of ``err`` by name (``ABAPApplicationError``, ``LogonError`` …), or None."""
    for cls in type(err).__mro__:
        if cls.__name__ in _KINDS:
            return cls.__name__
    return None


_KINDS = {"ABAPApplicationError", "ABAPRuntimeError", "LogonError", "CommunicationError",
          "ExternalRuntimeError", "ExternalApplicationError", "ExternalAuthorizationError",
          "RFCLibError", "RFCError", "SdkNotFoundError"}


def _message(err: BaseException) -> str:
    text = getattr(err, "message", None) or str(err)
    lines = str(text).strip().splitlines()
    return lines[0].strip() if lines else type(err).__name__


def _scrub(text: str, params: Mapping[str, str]) -> str:
    secret = params.get("passwd")
    return text.replace(secret, "***") if secret else text


def _logon_line(err: BaseException, params: Mapping[str, str]) -> str:
    kind = error_kind(err)
    where = params.get("ashost") or params.get("mshost") or params.get("dest") or "?"
    who = f"{params.get('user', '?')}@{where} client {params.get('client', '?')}"
    if kind == "SdkNotFoundError":
        return SDK_HINT
    if kind == "LogonError":
        return _scrub(f"SAP logon failed for {who}: {_message(err)}", params)
    if kind == "CommunicationError":
        return _scrub(f"cannot reach SAP {where}: {_message(err)}", params)
    return _scrub(f"cannot connect to SAP {who}: {_message(err)}", params)


def call(conn: Connection, function: str, *, table: str | None = None,
         **params: Any) -> dict[str, Any]:
    """``conn.call`` with every RFC error turned into a one-line SapError about ``table``."""
    try:
        return conn.call(function, **params)
    except Exception as err:  # noqa: BLE001 - any client error becomes one line
        if error_kind(err) is None:
            raise
        raise SapError(call_error_line(err, function, table, params)) from err


def call_error_line(err: BaseException, function: str, table: str | None,
                    params: Mapping[str, Any]) -> str:
    kind, key = error_kind(err), getattr(err, "key", None) or ""
    what = f"SAP table {table}" if table else f"SAP function {function}"
    if key == "TABLE_NOT_AVAILABLE" or (key == "NOT_FOUND" and table):
        return f"{what} does not exist"
    if key == "NOT_AUTHORIZED":
        return f"not authorized to read {what} (needs S_TABU_DIS or S_TABU_NAM)"
    if key == "TABLE_WITHOUT_DATA":
        return f"{what} is a structure without data"
    if key == "FIELD_NOT_VALID":
        names = ", ".join(row.get("FIELDNAME", "") for row in params.get("FIELDS", []))
        return f"{what} has no field among {names or 'the requested fields'}"
    if key == "OPTION_NOT_VALID":
        where = " ".join(row.get("TEXT", "").strip() for row in params.get("OPTIONS", []))
        where = where if len(where) <= 200 else where[:199] + "…"
        return f"{function} rejected the condition on {what}: {where}"
    if key == "DATA_BUFFER_EXCEEDED":
        return f"{what}: the selected fields are wider than {function}'s row"
    if key == "FU_NOT_FOUND":
        return f"the SAP system has no function {function}"
    if key == "RFC_NO_AUTHORITY" or "authoriz" in _message(err).lower():
        return f"no RFC authorization (S_RFC) for {function}"
    if kind == "CommunicationError":
        return f"lost the connection to SAP during {function}: {_message(err)}"
    return f"{function} failed on {what}: {key + ': ' if key else ''}{_message(err)}"
