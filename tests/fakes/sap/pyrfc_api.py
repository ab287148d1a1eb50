"""pyrfc's client API over the simulated system: ``Connection(**params).call(name, **params)``,
``close()``, ``alive``, and pyrfc's exception classes with their attributes (``key``, ``code``,
``message``, ``msg_*``), as pyrfc 3.4 has them (and pyrfcx's ``pyrfc`` reproduces them).

Plug it in as the ``pyrfc`` module: in-process with ``install(monkeypatch, system)``; in a
subprocess by putting ``fakes/sap/pythonpath`` on PYTHONPATH and naming the system's DuckDB file
in ``HYDRA_SAP_SIM``.
"""

from __future__ import annotations

import sys
import types
from typing import Any, Callable

from . import functions
from .system import LANGUAGES, Call, SapSystem


class RFCError(Exception):
    """Base class of all pyrfc errors."""


class RFCLibError(RFCError):
    """An error reported by the SAP NW RFC library (pyrfc's attributes)."""

    def __init__(self, message=None, code=None, key=None, msg_class=None, msg_type=None,
                 msg_number=None, msg_v1=None, msg_v2=None, msg_v3=None, msg_v4=None):
        super().__init__(message)
        self.message, self.code, self.key = message, code, key
        self.msg_class, self.msg_type, self.msg_number = msg_class, msg_type, msg_number
        self.msg_v1, self.msg_v2, self.msg_v3, self.msg_v4 = msg_v1, msg_v2, msg_v3, msg_v4

    def __str__(self) -> str:  # pyrfc 3.4's form
        return (f"{self.code} (rc={self.code}): key={self.key}, message={self.message}"
                f" [MSG: class={self.msg_class}, type={self.msg_type}, number={self.msg_number},"
                f" v1-4:={self.msg_v1};{self.msg_v2};{self.msg_v3};{self.msg_v4}]")


class ABAPApplicationError(RFCLibError): ...


class ABAPRuntimeError(RFCLibError): ...


class CommunicationError(RFCLibError): ...


class ExternalApplicationError(RFCLibError): ...


class ExternalAuthorizationError(RFCLibError): ...


class ExternalRuntimeError(RFCLibError): ...


class RFCTypeError(RFCLibError): ...


class LogonError(RFCLibError):
    def __init__(self, message=None, code=2, key="RFC_LOGON_FAILURE", *rest):
        super().__init__(message, code, key, *rest)


EXPORTS = ("RFCError", "RFCLibError", "ABAPApplicationError", "ABAPRuntimeError",
           "CommunicationError", "ExternalApplicationError", "ExternalAuthorizationError",
           "ExternalRuntimeError", "RFCTypeError", "LogonError")
_CONFIG = {"rstrip": True, "return_import_params": False, "dtime": False, "check_date": True,
           "check_time": True, "timeout": None}
# SDK return codes (sapnwrfc.h RFC_RC)
_RC_COMMUNICATION, _RC_RUNTIME, _RC_ABAP_EXCEPTION, _RC_INVALID_PARAMETER = 1, 3, 5, 20


class Connection:
    """A pyrfc ``Connection`` to a simulated system (``system``: the system to log on to)."""

    def __init__(self, config: dict | None = None, *, system: SapSystem, **params: Any):
        config = dict(config or {})
        for key in config:
            if key not in _CONFIG:
                raise RFCError(f"Connection configuration option '{key}' is not supported")
        self._config = {**_CONFIG, **config}
        if not params:
            raise RFCError("Connection parameters missing")
        for name, value in params.items():
            if not isinstance(value, str):
                raise RFCError(f"Connection parameter '{name}' value is not string")
        self._system = system
        self._user, self._client, self._lang = _logon(system, {k.lower(): v
                                                               for k, v in params.items()})
        self._cursor = system.db.cursor()
        self._open = True

    # -- life cycle ----------------------------------------------------------------------------
    @property
    def alive(self) -> bool:
        return self._open

    @property
    def options(self) -> dict:
        return self._config

    def close(self) -> None:
        if self._open:
            self._open = False
            self._cursor.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 - the database may be closed already at exit
            pass

    # -- calls ---------------------------------------------------------------------------------
    def ping(self) -> None:
        self.call("RFC_PING")

    def call(self, func_name: str, options: dict | None = None, **params: Any) -> dict[str, Any]:
        if not isinstance(func_name, str):
            raise RFCError("Remote function module name must be unicode string, received:",
                           func_name, type(func_name))
        if not self._open:
            raise RFCError(f"Remote function module '{func_name}' invocation rejected because"
                           " the connection is closed")
        self._system.calls.append(Call(func_name, dict(params), self._user))
        session = functions.Session(self._system, self._user, self._client, self._lang,
                                    bool(self._config["rstrip"]), self._cursor)
        try:
            return functions.call(session, func_name, params)
        except functions.AbapException as err:
            raise ABAPApplicationError(err.message, _RC_ABAP_EXCEPTION, err.key, "", "", "",
                                       "", "", "", "") from None
        except functions.AbapDump as err:
            raise ABAPRuntimeError(err.message, _RC_RUNTIME, err.key, "", "", "", "", "", "",
                                   "") from None
        except functions.BadParameter as err:
            raise ExternalRuntimeError(str(err), _RC_INVALID_PARAMETER, "RFC_INVALID_PARAMETER",
                                       "", "", "", "", "", "", "") from None

    def get_function_description(self, func_name: str):
        """The function's parameters (pyrfc's FunctionDescription, reduced to what a client
        reads: ``name`` and ``parameters`` with ``name`` and ``direction``)."""
        result = self.call("RFC_GET_FUNCTION_INTERFACE", FUNCNAME=func_name.upper())
        direction = {"I": "RFC_IMPORT", "E": "RFC_EXPORT", "C": "RFC_CHANGING", "T": "RFC_TABLES"}
        return types.SimpleNamespace(
            name=func_name.upper(),
            parameters=[{"name": p["PARAMETER"], "direction": direction[p["PARAMCLASS"]],
                         "nuc_length": p["INTLENGTH"] // 2, "uc_length": p["INTLENGTH"]}
                        for p in result["PARAMS"]])

    def __repr__(self) -> str:
        return f"<pyrfc.Connection [{'open' if self._open else 'closed'}]>"


def _logon(system: SapSystem, params: dict[str, str]) -> tuple[str, str, str]:
    ident = system.identity
    if "ashost" in params:
        if params["ashost"] != ident.ashost or params.get("sysnr", "") != ident.sysnr:
            raise CommunicationError(
                f"partner '{params['ashost']}:33{params.get('sysnr', '')}' not reached",
                _RC_COMMUNICATION, "RFC_COMMUNICATION_FAILURE", "", "", "", "", "", "", "")
    elif "mshost" in params:
        if (params["mshost"] != ident.mshost or params.get("group", "") != ident.group
                or params.get("sysid", ident.sysid) != ident.sysid
                or params.get("msserv", ident.msserv) != ident.msserv):
            raise CommunicationError(
                f"message server '{params['mshost']}' has no group"
                f" '{params.get('group', '')}' for system {params.get('sysid', '')}",
                _RC_COMMUNICATION, "RFC_COMMUNICATION_FAILURE", "", "", "", "", "", "", "")
    else:
        raise ExternalRuntimeError("Parameter ASHOST, GWHOST, MSHOST or PORT is missing.",
                                   _RC_INVALID_PARAMETER, "RFC_INVALID_PARAMETER",
                                   "", "", "", "", "", "", "")
    client = params.get("client", "")
    if client not in ident.clients:
        raise LogonError(f"Client {client} is not available in this system")
    user = params.get("user", "").upper()
    known = system.users.get(user)
    if known is None or known.password != params.get("passwd"):
        raise LogonError("Name or password is incorrect (repeat logon)")
    lang = params.get("lang", "EN").upper()
    return user, client, LANGUAGES.get(lang, lang[:1] or "E")


def connection_class(get_system: Callable[[], SapSystem]) -> type[Connection]:
    """pyrfc's ``Connection`` for a module bound to one system."""

    class BoundConnection(Connection):
        def __init__(self, config: dict | None = None, **params: Any):
            super().__init__(config, system=get_system(), **params)

    BoundConnection.__name__ = BoundConnection.__qualname__ = "Connection"
    return BoundConnection


def module(system: SapSystem) -> types.ModuleType:
    """A ``pyrfc`` module whose ``Connection`` logs on to ``system``."""
    mod = types.ModuleType("pyrfc", "pyrfc simulated by fakes.sap (tests only)")
    for name in EXPORTS:
        setattr(mod, name, globals()[name])
    mod.Connection = connection_class(lambda: system)
    mod.__version__ = "3.4"
    return mod


def install(monkeypatch, system: SapSystem) -> types.ModuleType:
    """Make ``import pyrfc`` give a module bound to ``system`` for the rest of the test."""
    mod = module(system)
    monkeypatch.setitem(sys.modules, "pyrfc", mod)
    return mod
