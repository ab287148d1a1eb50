"""The rows of the tableau head's virtual tables, whichever access path fills them.

``TABLES`` names every column of every table, in the order of its DDL file in ``tables/``
(a test checks they agree). Both the REST client and the repository reader build rows with
``row()``, so a row always has every column and a misspelt column fails at once.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

_COMMON = ("source", "via", "site")
TABLES: dict[str, tuple[str, ...]] = {
    "tableau_sites": (*_COMMON, "site_id", "site_name", "state", "repository_id"),
    "tableau_projects": (*_COMMON, "project_id", "project_name", "description",
                         "parent_project_id", "owner_id", "owner_name", "created_at",
                         "updated_at", "repository_id"),
    "tableau_workbooks": (*_COMMON, "workbook_id", "workbook_name", "content_url", "project_id",
                          "project_name", "owner_id", "owner_name", "size_bytes", "has_extract",
                          "description", "created_at", "updated_at", "repository_id"),
    "tableau_views": (*_COMMON, "view_id", "view_name", "content_url", "sheet_type",
                      "workbook_id", "workbook_name", "owner_name", "created_at", "updated_at",
                      "repository_id"),
    "tableau_datasources": (*_COMMON, "datasource_id", "datasource_name", "content_url",
                            "dbclass", "project_id", "project_name", "owner_id", "owner_name",
                            "has_extract", "certified", "size_bytes", "description", "created_at",
                            "updated_at", "repository_id"),
    "tableau_connections": (*_COMMON, "connection_id", "owner_type", "owner_id", "owner_name",
                            "dbclass", "server", "port", "dbname", "username",
                            "embedded_password", "has_extract", "published_datasource_id",
                            "published_datasource_name", "repository_id"),
    "tableau_users": (*_COMMON, "user_id", "user_name", "full_name", "email", "site_role",
                      "last_login", "repository_id"),
    "tableau_extract_refreshes": (*_COMMON, "job_id", "job_type", "target_type", "target_id",
                                  "target_name", "created_at", "started_at", "finished_at",
                                  "duration_seconds", "status", "error", "task_id",
                                  "repository_id"),
    "tableau_refresh_tasks": (*_COMMON, "task_id", "target_type", "target_id", "target_name",
                              "schedule_name", "next_run_at", "priority",
                              "incremental", "consecutive_failures", "repository_id"),
    "tableau_events": (*_COMMON, "event_id", "event_type", "action_type", "created_at",
                       "actor_name", "project_name", "workbook_name", "view_name",
                       "datasource_name", "is_failure", "details", "repository_id"),
}

Row = dict[str, Any]


def row(table: str, source: str, via: str, site: str | None, **values: Any) -> Row:
    """One row of ``table`` with every column; columns not given are NULL."""
    columns = TABLES[table]
    unknown = set(values) - set(columns)
    if unknown:
        raise KeyError(f"{table} has no column {', '.join(sorted(unknown))}")
    out = dict.fromkeys(columns)
    out.update(values, source=source, via=via, site=site)
    return out


def utc(value: datetime | None) -> datetime | None:
    """Tableau keeps UTC; the repository stores it without a zone: say so."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)


def duration(started: datetime | None, finished: datetime | None) -> float | None:
    if started is None or finished is None:
        return None
    return (finished - started).total_seconds()


def empty_inventory() -> dict[str, list[Row]]:
    return {table: [] for table in TABLES}
