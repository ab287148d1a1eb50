"""One set of virtual-table rows from both access paths, when both are attached.

History (refresh jobs, historical events) comes from the repository, which keeps it; REST
gives only what the server still lists. Content (sites, projects, workbooks, views,
datasources, connections, users, refresh tasks) comes from REST, each row completed with what
only the repository knows (a connection's dbname and has_extract, the repository ids) from the
repository row with the same LUID; such a row says ``via = 'rest+repository'``. A table that one
path leaves empty is filled from the other. When REST walks one site, the repository's rows of
other sites are left out: the source is what was attached.
"""

from __future__ import annotations

from .rows import Row, TABLES

HISTORY = ("tableau_extract_refreshes", "tableau_events")
KEYS = {"tableau_sites": "site_id", "tableau_projects": "project_id",
        "tableau_workbooks": "workbook_id", "tableau_views": "view_id",
        "tableau_datasources": "datasource_id", "tableau_connections": "connection_id",
        "tableau_users": "user_id", "tableau_refresh_tasks": "task_id"}


def merge(rest: dict[str, list[Row]] | None,
          repository: dict[str, list[Row]] | None) -> dict[str, list[Row]]:
    """The rows of every table from whichever path was attached, or both."""
    if rest is None or repository is None:
        return rest if repository is None else repository
    sites = {r["site"] for r in rest["tableau_sites"]}
    repository = {t: [r for r in rows if r["site"] in sites] for t, rows in repository.items()}
    out: dict[str, list[Row]] = {}
    for table in TABLES:
        first, second = (repository, rest) if table in HISTORY else (rest, repository)
        if not first[table]:
            out[table] = second[table]
        elif first is rest and table in KEYS:
            out[table] = _completed(rest[table], repository[table], KEYS[table])
        else:
            out[table] = first[table]
    return out


def _completed(rest_rows: list[Row], repository_rows: list[Row], key: str) -> list[Row]:
    known = {r[key]: r for r in repository_rows if r[key] is not None}
    out = []
    for r in rest_rows:
        other = known.get(r[key])
        if other is None:
            out.append(r)
            continue
        merged = {c: other[c] if v is None and c not in ("source", "via", "site") else v
                  for c, v in r.items()}
        merged["via"] = "rest+repository"
        out.append(merged)
    return out
