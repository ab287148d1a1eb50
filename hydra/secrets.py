"""Secrets: expanded from the environment when used, masked whenever stored or shown."""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit, urlunsplit

from hydra.errors import HydraError

MASK = "***"
# ${NAME} placeholders in ATTACH strings. This is not SQL parsing: it reads a URI the user wrote.
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# query-string keys whose values are secrets (password=…, pwd=…, token=…)
SECRET_KEYS = ("password", "pwd", "passwd", "secret", "token", "sas", "key", "apikey", "api_key",
               "aws_secret_access_key", "aws_session_token")


def expand(text: str) -> str:
    """Replace ``${VAR}`` with the environment's value; a missing variable is one clear error."""

    def value(match: re.Match) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise HydraError(f"environment variable {name} is not set (needed by ${{{name}}})")
        return os.environ[name]

    return _PLACEHOLDER.sub(value, text)


def has_placeholders(text: str) -> bool:
    return bool(_PLACEHOLDER.search(text))


def redact_uri(uri: str) -> str:
    """Mask the password of ``scheme://user:password@host/...`` and secret query parameters.

    ``${VAR}`` placeholders are kept: they are not secrets, and they let a reopened workspace
    re-read the secret from the environment.
    """
    try:
        parts = urlsplit(uri)
    except ValueError:
        return uri
    if not parts.scheme or not parts.netloc and not parts.query:
        return uri
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        if ":" in userinfo:
            user, _, password = userinfo.partition(":")
            if password and not _is_placeholder(password):
                userinfo = f"{user}:{MASK}"
        netloc = f"{userinfo}@{hostport}"
    query = parts.query
    if query:
        pieces = []
        for piece in query.split("&"):
            key, sep, val = piece.partition("=")
            if sep and key.lower() in SECRET_KEYS and val and not _is_placeholder(val):
                val = MASK
            pieces.append(f"{key}{sep}{val}")
        query = "&".join(pieces)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _is_placeholder(text: str) -> bool:
    """True when ``text`` is exactly one ``${VAR}`` placeholder (not a secret itself)."""
    return _PLACEHOLDER.fullmatch(text) is not None


def mask_secrets(text: str, secrets: list[str]) -> str:
    """Remove known secret values from a message (driver errors sometimes echo them)."""
    for secret in secrets:
        if secret and len(secret) >= 3:
            text = text.replace(secret, MASK)
    return text


# option / setting names whose string value is a secret (ATTACH options, CREATE SECRET, SET …)
SECRET_WORDS = frozenset({
    "PASSWORD", "PASSWD", "PWD", "SECRET", "TOKEN", "SESSION_TOKEN", "SECRET_ACCESS_KEY",
    "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "S3_SECRET_ACCESS_KEY", "S3_SESSION_TOKEN",
    "ACCOUNT_KEY", "CONNECTION_STRING", "API_KEY", "APIKEY", "SAS", "SAS_TOKEN", "CLIENT_SECRET",
    "PRIVATE_KEY", "PERSONAL_ACCESS_TOKEN", "PAT", "BEARER_TOKEN", "KEY",
})
SKIP_BETWEEN = frozenset({"EQ", "COLON", "EQUAL", "DCOLON"})  # PASSWORD = '…', password: '…'


def mask_sql(text: str) -> str | None:
    """``text`` with passwords in string literals masked; None when it cannot be tokenized
    (then it must not be stored: we cannot tell where its secrets are)."""
    from hydra.statements import tokenize

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
