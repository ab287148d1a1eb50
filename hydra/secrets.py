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
