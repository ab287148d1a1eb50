"""Secrets: expanded from the environment when used, masked whenever stored or shown.

How Hydra reads the credentials of a URL (``scheme://user:password@host…``), so that what it does
with any password is unambiguous — and masking works on this structure, never on text patterns:

* the user name runs from ``//`` to the first ``:``, ``@``, ``/``, ``?`` or ``#``; it is a user
  name only when that character is ``:`` or ``@`` (otherwise it was the host);
* after ``user:``, the password runs to the **last** ``@`` of the URL, so a password may hold any
  character — ``@ : / ? # [ ] %``, spaces, quotes — typed as it is (an ``@`` later in the URL, in
  the database name or a query parameter, must then be written ``%40``);
* in the user name and the password, ``%`` followed by two hex digits is a percent-escape
  (``%25`` is a ``%``, ``%40`` an ``@``); any other ``%`` is itself;
* ``${NAME}`` is always a placeholder for an environment variable. Its value is percent-encoded
  when it lands in the user name, the password or a query parameter's value, so it may hold any
  character;
* the query starts at the first ``?`` after the host and runs to the end (as SQLAlchemy reads
  database URLs: they have no ``#fragment``).

A head gets the URL with its user name and password percent-encoded (``canonical``), so every URL
parser downstream (SQLAlchemy, urllib, libpq) reads the same user, password and host.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import quote, unquote, unquote_plus

from hydra.core.errors import HydraError

MASK = "***"
# ${NAME} placeholders in ATTACH strings. This is not SQL parsing: it reads a URI the user wrote.
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# query-string keys whose values are secrets (password=…, pwd=…, token=…)
SECRET_KEYS = ("password", "pwd", "passwd", "secret", "token", "sas", "key", "apikey", "api_key",
               "aws_secret_access_key", "aws_session_token")


# -- the parts of a URL ------------------------------------------------------------------------


@dataclass(frozen=True)
class Url:
    """Where the parts of ``scheme://user:password@host…?query`` sit in a URI's text, as spans
    ``(start, end)`` of ``text``: the password span is None when none is written."""

    text: str
    user: tuple[int, int] | None
    password: tuple[int, int] | None
    query: tuple[int, int] | None  # after the '?'

    def part(self, span: tuple[int, int] | None) -> str | None:
        return None if span is None else self.text[span[0]:span[1]]

    def query_values(self) -> list[tuple[str, tuple[int, int]]]:
        """(the key, percent-decoded and lower-cased, and the span of its value) per parameter."""
        if self.query is None:
            return []
        found, position = [], self.query[0]
        for piece in self.text[self.query[0]:self.query[1]].split("&"):
            key, eq, value = piece.partition("=")
            if eq:
                start = position + len(key) + 1
                found.append((unquote_plus(key).strip().lower(), (start, start + len(value))))
            position += len(piece) + 1
        return found


def _is_scheme(text: str) -> bool:
    return bool(text) and text[0].isascii() and text[0].isalpha() and all(
        ch.isascii() and (ch.isalnum() or ch in "+-.") for ch in text)


def parse_url(text: str) -> Url | None:
    """The credentials and query of a ``scheme://…`` URL (rules in this module's docstring), or
    None when ``text`` is not such a URL (a path, a key=value connection string…)."""
    mark = text.find("://")
    if mark <= 0 or not _is_scheme(text[:mark]):
        return None
    start = mark + 3
    end = start
    while end < len(text) and text[end] not in ":@/?#":
        end += 1
    user = password = None
    host = start
    if end < len(text) and text[end] == "@":
        user, host = (start, end), end + 1
    elif end < len(text) and text[end] == ":":
        at = text.rfind("@")
        if at > end:  # else it was host:port
            user, password, host = (start, end), (end + 1, at), at + 1
    question = text.find("?", host)
    query = (question + 1, len(text)) if question >= 0 else None
    return Url(text, user, password, query)


def canonical(uri: str) -> str:
    """``uri`` with its user name and password percent-encoded, so that any URL parser reads them
    as written (``Kx9#mP!2v/Q`` → ``Kx9%23mP%212v%2FQ``). Other text is unchanged."""
    url = parse_url(uri)
    if url is None or url.user is None:
        return uri
    return _rebuild(url, lambda span, text: quote(unquote(text), safe=""))


def _rebuild(url: Url, change, spans=None) -> str:
    """The URL's text with ``change(span, text)`` applied to the user and password spans
    (or to ``spans``)."""
    chosen = sorted(s for s in (spans if spans is not None else (url.user, url.password)) if s is not None)
    out, position = [], 0
    for start, end in chosen:
        out += [url.text[position:start], change((start, end), url.text[start:end])]
        position = end
    out.append(url.text[position:])
    return "".join(out)


# -- ${ENV} placeholders -----------------------------------------------------------------------


def _value(match: re.Match) -> str:
    name = match.group(1)
    if name not in os.environ:
        raise HydraError(f"environment variable {name} is not set (needed by ${{{name}}})")
    return os.environ[name]


def expand(text: str) -> str:
    """``text`` as a head gets it: ``${VAR}`` replaced with the environment's value (a missing
    variable is one clear error) and, in a URL, the credentials percent-encoded (``canonical``):
    a value that lands in the user name, the password or a query value is encoded, so any
    character in it stays part of that value."""
    url = parse_url(text)
    if url is None:
        return _PLACEHOLDER.sub(_value, text)
    credentials = [s for s in (url.user, url.password) if s is not None]
    values = [span for _, span in url.query_values()]

    def expanded(span, part: str) -> str:
        if span in credentials:  # literal text is percent-decoded, values taken as they are
            pieces, position = [], 0
            for match in _PLACEHOLDER.finditer(part):
                pieces += [unquote(part[position:match.start()]), _value(match)]
                position = match.end()
            return quote("".join(pieces) + unquote(part[position:]), safe="")
        return _PLACEHOLDER.sub(lambda m: quote(_value(m), safe=""), part)

    changed = _rebuild(url, expanded, credentials + values)
    # placeholders elsewhere (host, path, query keys) are substituted as they are
    return _PLACEHOLDER.sub(_value, changed) if _PLACEHOLDER.search(changed) else changed


def has_placeholders(text: str) -> bool:
    return bool(_PLACEHOLDER.search(text))


def _only_placeholders(text: str) -> bool:
    """True when ``text`` is nothing but ``${VAR}`` placeholders (they are not secrets)."""
    return bool(text) and not _PLACEHOLDER.sub("", text)


# -- masking -----------------------------------------------------------------------------------


def redact_uri(uri: str) -> str:
    """Mask the password of ``scheme://user:password@host/...`` and secret query parameters.

    ``${VAR}`` placeholders are kept: they are not secrets, and they let a reopened workspace
    re-read the secret from the environment.
    """
    url = parse_url(uri)
    if url is None:
        return uri
    secret = [span for key, span in url.query_values() if key in SECRET_KEYS]
    if url.password is not None:
        secret.append(url.password)

    def masked(span, text: str) -> str:
        return text if not text or _only_placeholders(text) else MASK

    return _rebuild(url, masked, secret)


def uri_secrets(uri: str) -> list[str]:
    """Every form in which the secrets of a URI could appear in a message: as written,
    percent-decoded and percent-encoded (the password and secret query values)."""
    url = parse_url(uri)
    if url is None:
        return []
    spans = [span for key, span in url.query_values() if key in SECRET_KEYS]
    found = []
    for span in ([url.password] if url.password else []) + spans:
        text = url.part(span)
        found += [text, unquote(text), unquote_plus(text), quote(unquote(text), safe="")]
    return [s for s in dict.fromkeys(found) if s and not _only_placeholders(s)]


def mask_secrets(text: str, secrets: list[str]) -> str:
    """Remove known secret values from a message (driver errors sometimes echo them). Longest
    first, so that no part of a longer secret is left beside a mask."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        if secret and len(secret) >= 3:
            text = text.replace(secret, MASK)
    return text


# option / setting names whose string value is a secret (ATTACH options, CREATE SECRET, SET …)
SECRET_WORDS = frozenset({
    "PASSWORD", "PASSWD", "PWD", "SECRET", "TOKEN", "SESSION_TOKEN", "SECRET_ACCESS_KEY",
    "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "S3_SECRET_ACCESS_KEY", "S3_SESSION_TOKEN",
    "ACCOUNT_KEY", "CONNECTION_STRING", "API_KEY", "APIKEY", "SAS", "SAS_TOKEN", "CLIENT_SECRET",
    "PRIVATE_KEY", "PERSONAL_ACCESS_TOKEN", "PAT", "BEARER_TOKEN", "KEY", "ENCRYPTION_KEY",
})
SKIP_BETWEEN = frozenset({"EQ", "COLON", "EQUAL", "DCOLON"})  # PASSWORD = '…', password: '…'


def mask_sql(text: str) -> str | None:
    """``text`` with passwords in string literals masked; None when it cannot be tokenized
    (then it must not be stored: we cannot tell where its secrets are)."""
    from hydra.core.statement import tokenize

    try:
        tokens = tokenize(text)
    except HydraError:
        return None
    except Exception:  # noqa: BLE001 - any tokenizer failure: do not store
        return None
    replacements = []
    for i, token in enumerate(tokens):
        if token.token_type.name not in ("STRING", "RAW_STRING", "NATIONAL_STRING", "BYTE_STRING", "HEX_STRING"):
            continue
        value = token.text
        masked = redact_uri(value)
        if _follows_secret_word(tokens, i) and value and not has_placeholders(value):
            masked = MASK
        elif masked == value:
            masked = _redact_embedded(value)
        if masked != value:
            replacements.append((token.start, token.end + 1, "'" + masked.replace("'", "''") + "'"))
    for start, end, literal in reversed(replacements):
        text = text[:start] + literal + text[end:]
    return text


def _follows_secret_word(tokens, i: int) -> bool:
    j = i - 1
    while j >= 0 and tokens[j].token_type.name in SKIP_BETWEEN:
        j -= 1
    return j >= 0 and tokens[j].text.upper() in SECRET_WORDS and tokens[j].token_type.name != "STRING"


def _redact_embedded(value: str) -> str:
    """Key=value connection strings (``host=h password=s3cret``; ``…;Password=s3cret;…``)."""
    for sep in (";", " "):
        if sep not in value or "=" not in value:
            continue
        pieces = value.split(sep)
        for n, piece in enumerate(pieces):
            key, eq, val = piece.partition("=")
            if eq and key.strip().lower() in SECRET_KEYS and val and not has_placeholders(val):
                pieces[n] = f"{key}={MASK}"
        joined = sep.join(pieces)
        if joined != value:
            return joined
    return value
