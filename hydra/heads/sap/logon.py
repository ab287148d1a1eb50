"""``sap://`` URIs and ATTACH options to pyrfc's logon parameters.

    sap://USER@app-server/00?client=100              application server and system number
    sap://USER@msg-server?group=PUBLIC&sysid=PRD&client=100   message server (load balancing)

Query parameters: ``client`` (or the CLIENT option), ``lang`` (or LANG; ISO, default EN),
``group``/``sysid``/``msserv`` (message server), ``saprouter``. The password comes from the
environment: ``PASSWORD_ENV 'VAR'`` or ``sap://USER:${VAR}@…`` (a literal one works but is not
stored, so a reopened workspace cannot reconnect).
"""

from __future__ import annotations

import os
from typing import Mapping
from urllib.parse import parse_qsl, unquote, urlsplit

from .rfc import SapError

FORMS = ("sap://USER@app-server/00?client=100 or"
         " sap://USER@message-server?group=GROUP&sysid=SID&client=100")
_QUERY = ("client", "lang", "group", "sysid", "msserv", "saprouter")


def logon_params(uri: str, options: Mapping[str, str]) -> dict[str, str]:
    """pyrfc's ``Connection`` keywords for ``uri`` and the ATTACH options (SapError when either
    is malformed: one line, never the password)."""
    try:
        parts = urlsplit(uri)
    except ValueError as err:
        raise SapError(f"not an SAP URI ({err}); write {FORMS}") from None
    if parts.scheme.lower() != "sap":
        raise SapError(f"not an SAP URI; write {FORMS}")
    credentials, at, host = parts.netloc.rpartition("@")
    user, colon, password = credentials.partition(":")
    if not at or not user:
        raise SapError(f"the SAP URI needs the RFC user before the host; write {FORMS}")
    if not host or any(c in host for c in ":[]"):
        raise SapError(f"the SAP URI needs a host name (no port: SAP ports follow the system"
                       f" number); write {FORMS}")
    try:
        query = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        raise SapError(f"the SAP URI's query is malformed; write {FORMS}") from None
    given = {}
    for key, value in query:
        if key.lower() not in _QUERY:
            raise SapError(f"unknown SAP URI parameter {key!r}; known: {', '.join(_QUERY)}")
        given[key.lower()] = value
    params = {"user": unquote(user).upper()}
    path = parts.path.strip("/")
    if "group" in given:
        if path:
            raise SapError("a message-server URI has no system number path; write " + FORMS)
        params.update(mshost=host, group=given["group"])
        for key in ("sysid", "msserv"):
            if given.get(key):
                params[key] = given[key]
    else:
        if not (len(path) == 2 and path.isdigit()):
            raise SapError(f"the SAP system number must be two digits after the host, not"
                           f" {path!r}; write {FORMS}")
        params.update(ashost=host, sysnr=path)
    if given.get("saprouter"):
        params["saprouter"] = given["saprouter"]
    client = options.get("CLIENT") or given.get("client", "")
    if not (len(client) == 3 and client.isdigit()):
        raise SapError(f"the SAP client must be three digits (?client=100 or CLIENT '100'),"
                       f" not {client!r}")
    params["client"] = client
    lang = (options.get("LANG") or given.get("lang") or "EN").upper()
    if not (1 <= len(lang) <= 2 and lang.isalnum()):
        raise SapError(f"LANG must be a language code such as 'EN' or 'DE', not {lang!r}")
    params["lang"] = lang
    params["passwd"] = _password(unquote(password) if colon else None, options)
    return params


def _password(in_uri: str | None, options: Mapping[str, str]) -> str:
    variable = options.get("PASSWORD_ENV")
    if variable:
        if in_uri is not None:
            raise SapError("give the SAP password once: PASSWORD_ENV or in the URI, not both")
        value = os.environ.get(variable)
        if not value:
            raise SapError(f"environment variable {variable} is not set (named by PASSWORD_ENV)")
        return value
    if in_uri:
        return in_uri
    raise SapError("the SAP password is missing: PASSWORD_ENV 'VARIABLE' or sap://USER:${VARIABLE}@…")
