"""The one clock every record is stamped with: timezone-aware UTC."""

from datetime import datetime, timezone


def now() -> datetime:
    return datetime.now(timezone.utc)
