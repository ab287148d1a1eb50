"""Tableau Server's repository database (``workgroup``, PostgreSQL on port 8060) as rows of the
tableau head's virtual tables. The SQL head owns the connection; these functions take a
SQLAlchemy ``Connection`` and only run SELECTs.

The admin opens the repository to one of two users (``tsm data-access repository-access
enable --repository-username readonly|tableau``): ``readonly`` reads every base table, so every
table is filled (and ``tableau_events`` from the historical events); ``tableau`` reads only the
documented ``_*`` views, which carry no LUIDs and no workbook connections, so the rows it gives
are thinner. ``relation_access`` says which relations the user can read, with the reason for the
others, so the head lists them in ``elements.error`` instead of failing.

The repository is preferred for history (background jobs, historical events); timestamps are UTC
stored without a zone, so they are given their zone here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hydra.core.errors import one_line

from .errors import ENABLE_REPOSITORY, TableauConnectionError, TableauError
from .rows import Row, empty_inventory, row, utc


@dataclass(frozen=True)
class Relation:
    schema: str
    name: str
    kind: str  # 'table' or 'view'
    readable: bool

    @property
    def reason(self) -> str | None:
        if self.readable:
            return None
        return ("permission denied: the repository's 'tableau' user reads only the _* views; "
                "attach as 'readonly' to read every table")


def relation_access(conn) -> list[Relation]:
    """Every table and view of the repository, and whether this user may SELECT from it."""
    from sqlalchemy import text

    result = conn.execute(text(
        "SELECT n.nspname, c.relname, c.relkind, has_table_privilege(c.oid, 'SELECT')"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')"
        " AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
        " AND n.nspname NOT LIKE 'pg\\_%'"
        " ORDER BY 1, 2"))
    return [Relation(schema, name, "view" if kind in ("v", "m") else "table", bool(readable))
            for schema, name, kind, readable in result]


def access_mode(relations: list[Relation]) -> str | None:
    """'tables' (the readonly user), 'views' (the tableau user) or None (neither readable)."""
    readable = {(r.schema, r.name) for r in relations if r.readable}
    if {("public", t) for t in ("sites", "workbooks", "data_connections")} <= readable:
        return "tables"
    if {("public", t) for t in ("_sites", "_workbooks")} <= readable:
        return "views"
    return None


_STATUS = ("CASE WHEN {j}.finish_code = 0 THEN 'Success' WHEN {j}.finish_code = 1 THEN 'Failed'"
           " WHEN {j}.finish_code = 2 THEN 'Cancelled' WHEN {j}.started_at IS NOT NULL"
           " THEN 'InProgress' ELSE 'Pending' END")
_JOB_TYPE = ("CASE {j}.job_type WHEN 'RefreshExtracts' THEN 'refresh_extracts'"
             " WHEN 'IncrementExtracts' THEN 'increment_extracts' ELSE {j}.job_type END")
_DURATION = "CAST(EXTRACT(EPOCH FROM {j}.completed_at - {j}.started_at) AS double precision)"
_REFRESH_JOBS = "('RefreshExtracts', 'IncrementExtracts')"
_OWNER = ("LEFT JOIN public.users u ON u.id = {a}.owner_id"
          " LEFT JOIN public.system_users su ON su.id = u.system_user_id")

# Each query names its output columns as the table's columns (and ``site``).
TABLE_QUERIES: dict[str, str] = {
    "tableau_sites": """
        SELECT s.url_namespace AS site, s.luid::text AS site_id, s.name AS site_name,
               s.status AS state, s.id AS repository_id
        FROM public.sites s ORDER BY s.id""",
    "tableau_projects": f"""
        SELECT s.url_namespace AS site, p.luid::text AS project_id, p.name AS project_name,
               p.description, pp.luid::text AS parent_project_id, u.luid::text AS owner_id,
               su.name AS owner_name, p.created_at, p.updated_at, p.id AS repository_id
        FROM public.projects p JOIN public.sites s ON s.id = p.site_id
        LEFT JOIN public.projects pp ON pp.id = p.parent_project_id {_OWNER.format(a='p')}
        ORDER BY p.id""",
    "tableau_workbooks": f"""
        SELECT s.url_namespace AS site, w.luid::text AS workbook_id, w.name AS workbook_name,
               w.repository_url AS content_url, p.luid::text AS project_id,
               p.name AS project_name, u.luid::text AS owner_id, su.name AS owner_name,
               w.size AS size_bytes, w.data_engine_extracts AS has_extract, w.created_at,
               w.updated_at, w.id AS repository_id
        FROM public.workbooks w JOIN public.sites s ON s.id = w.site_id
        LEFT JOIN public.projects p ON p.id = w.project_id {_OWNER.format(a='w')}
        WHERE w.is_deleted IS NOT TRUE ORDER BY w.id""",
    "tableau_views": f"""
        SELECT s.url_namespace AS site, v.luid::text AS view_id, v.name AS view_name,
               v.repository_url AS content_url, v.sheettype AS sheet_type,
               w.luid::text AS workbook_id, w.name AS workbook_name, su.name AS owner_name,
               v.created_at, v.updated_at, v.id AS repository_id
        FROM public.views v JOIN public.sites s ON s.id = v.site_id
        JOIN public.workbooks w ON w.id = v.workbook_id {_OWNER.format(a='v')}
        WHERE v.is_deleted IS NOT TRUE ORDER BY v.id""",
    "tableau_datasources": f"""
        SELECT s.url_namespace AS site, d.luid::text AS datasource_id,
               d.name AS datasource_name, d.repository_url AS content_url, d.db_class AS dbclass,
               p.luid::text AS project_id, p.name AS project_name, u.luid::text AS owner_id,
               su.name AS owner_name, d.data_engine_extracts AS has_extract,
               d.is_certified AS certified, d.size AS size_bytes, d.description, d.created_at,
               d.updated_at, d.id AS repository_id
        FROM public.datasources d JOIN public.sites s ON s.id = d.site_id
        LEFT JOIN public.projects p ON p.id = d.project_id {_OWNER.format(a='d')}
        WHERE d.parent_workbook_id IS NULL ORDER BY d.id""",
    # a workbook's sqlproxy connection names its published datasource by content URL (dbname)
    "tableau_connections": """
        SELECT s.url_namespace AS site, c.luid::text AS connection_id,
               lower(c.owner_type) AS owner_type,
               coalesce(w.luid, d.luid)::text AS owner_id, coalesce(w.name, d.name) AS owner_name,
               c.dbclass, NULLIF(c.server, '') AS server, c.port, NULLIF(c.dbname, '') AS dbname,
               NULLIF(c.username, '') AS username, c.password AS embedded_password, c.has_extract,
               coalesce(pd.luid, d.luid)::text AS published_datasource_id,
               coalesce(pd.name, d.name) AS published_datasource_name, c.id AS repository_id
        FROM public.data_connections c JOIN public.sites s ON s.id = c.site_id
        LEFT JOIN public.workbooks w ON c.owner_type = 'Workbook' AND w.id = c.owner_id
        LEFT JOIN public.datasources d ON c.owner_type = 'Datasource' AND d.id = c.owner_id
        LEFT JOIN public.datasources pd ON c.dbclass = 'sqlproxy' AND pd.site_id = c.site_id
             AND pd.repository_url = c.dbname AND pd.parent_workbook_id IS NULL
        WHERE (w.id IS NOT NULL AND w.is_deleted IS NOT TRUE)
           OR (d.id IS NOT NULL AND d.parent_workbook_id IS NULL)
        ORDER BY c.id""",
    "tableau_users": """
        SELECT s.url_namespace AS site, u.luid::text AS user_id, su.name AS user_name,
               su.friendly_name AS full_name, su.email, r.name AS site_role,
               u.login_at AS last_login, u.id AS repository_id
        FROM public.users u JOIN public.sites s ON s.id = u.site_id
        JOIN public.system_users su ON su.id = u.system_user_id
        LEFT JOIN public.site_roles r ON r.id = u.site_role_id
        ORDER BY u.id""",
    "tableau_extract_refreshes": f"""
        SELECT s.url_namespace AS site, j.luid::text AS job_id,
               {_JOB_TYPE.format(j='j')} AS job_type,
               coalesce(lower(t.obj_type),
                        CASE j.subtitle WHEN 'Workbook' THEN 'workbook' ELSE 'datasource' END)
                   AS target_type,
               coalesce(w.luid, d.luid)::text AS target_id,
               coalesce(w.name, d.name, j.title) AS target_name,
               j.created_at, j.started_at, j.completed_at AS finished_at,
               {_DURATION.format(j='j')} AS duration_seconds, {_STATUS.format(j='j')} AS status,
               CASE WHEN j.finish_code IN (1, 2) THEN j.notes END AS error,
               t.luid::text AS task_id, j.id AS repository_id
        FROM public.background_jobs j LEFT JOIN public.sites s ON s.id = j.site_id
        LEFT JOIN public.tasks t ON t.id = j.task_id
        LEFT JOIN public.workbooks w ON t.obj_type = 'Workbook' AND w.id = t.obj_id
        LEFT JOIN public.datasources d ON t.obj_type = 'Datasource' AND d.id = t.obj_id
        WHERE j.job_type IN {_REFRESH_JOBS} ORDER BY j.id""",
    "tableau_refresh_tasks": """
        SELECT s.url_namespace AS site, t.luid::text AS task_id,
               lower(t.obj_type) AS target_type, coalesce(w.luid, d.luid)::text AS target_id,
               coalesce(w.name, d.name) AS target_name, sc.name AS schedule_name,
               sc.run_next_at AS next_run_at, t.priority,
               t.type = 'IncrementExtractTask' AS incremental,
               t.consecutive_failure_count AS consecutive_failures, t.id AS repository_id
        FROM public.tasks t LEFT JOIN public.sites s ON s.id = t.site_id
        LEFT JOIN public.schedules sc ON sc.id = t.schedule_id
        LEFT JOIN public.workbooks w ON t.obj_type = 'Workbook' AND w.id = t.obj_id
        LEFT JOIN public.datasources d ON t.obj_type = 'Datasource' AND d.id = t.obj_id
        WHERE t.type IN ('RefreshExtractTask', 'IncrementExtractTask') ORDER BY t.id""",
    "tableau_events": """
        SELECT hs.url_namespace AS site, e.id AS event_id, et.name AS event_type,
               et.action_type, e.created_at, hu.name AS actor_name, hp.name AS project_name,
               hw.name AS workbook_name, hv.name AS view_name, hd.name AS datasource_name,
               e.is_failure, e.details, e.id AS repository_id
        FROM public.historical_events e
        JOIN public.historical_event_types et ON et.type_id = e.historical_event_type_id
        LEFT JOIN public.hist_sites hs
             ON hs.id = coalesce(e.hist_target_site_id, e.hist_actor_site_id)
        LEFT JOIN public.hist_users hu ON hu.id = e.hist_actor_user_id
        LEFT JOIN public.hist_projects hp ON hp.id = e.hist_project_id
        LEFT JOIN public.hist_workbooks hw ON hw.id = e.hist_workbook_id
        LEFT JOIN public.hist_views hv ON hv.id = e.hist_view_id
        LEFT JOIN public.hist_datasources hd ON hd.id = e.hist_datasource_id
        ORDER BY e.id""",
}

# What the 'tableau' user's _* views can give: no LUIDs, no workbook connections, no tasks,
# no events.
_SITE = "LEFT JOIN public._sites s ON s.id = {a}.site_id"
VIEW_QUERIES: dict[str, str] = {
    "tableau_sites": """
        SELECT s.url_namespace AS site, s.name AS site_name, s.status AS state,
               s.id AS repository_id FROM public._sites s ORDER BY s.id""",
    "tableau_projects": f"""
        SELECT s.url_namespace AS site, p.name AS project_name, p.owner_name, p.created_at,
               p.id AS repository_id FROM public._projects p {_SITE.format(a='p')}
        ORDER BY p.id""",
    "tableau_workbooks": f"""
        SELECT s.url_namespace AS site, w.name AS workbook_name,
               w.workbook_url AS content_url, w.project_name, w.owner_name,
               w.size AS size_bytes, w.created_at, w.updated_at, w.id AS repository_id
        FROM public._workbooks w {_SITE.format(a='w')} ORDER BY w.id""",
    "tableau_views": f"""
        SELECT s.url_namespace AS site, v.name AS view_name, v.view_url AS content_url,
               w.name AS workbook_name, v.owner_name, v.created_at, v.id AS repository_id
        FROM public._views v LEFT JOIN public._workbooks w ON w.id = v.workbook_id
        {_SITE.format(a='v')} ORDER BY v.id""",
    "tableau_datasources": f"""
        SELECT s.url_namespace AS site, d.name AS datasource_name,
               d.datasource_url AS content_url, d.dbclass, d.project_name, d.owner_name,
               d.size AS size_bytes, d.created_at, d.updated_at, d.id AS repository_id
        FROM public._datasources d {_SITE.format(a='d')} ORDER BY d.id""",
    "tableau_connections": f"""
        SELECT s.url_namespace AS site, 'datasource' AS owner_type, d.name AS owner_name,
               d.dbclass, NULLIF(d.server, '') AS server, d.port, NULLIF(d.dbname, '') AS dbname,
               NULLIF(d.username, '') AS username, d.name AS published_datasource_name
        FROM public._datasources d {_SITE.format(a='d')} ORDER BY d.id""",
    "tableau_users": f"""
        SELECT s.url_namespace AS site, u.name AS user_name, u.friendly_name AS full_name,
               u.licensing_role_name AS site_role, u.login_at AS last_login,
               u.id AS repository_id FROM public._users u {_SITE.format(a='u')} ORDER BY u.id""",
    "tableau_extract_refreshes": f"""
        SELECT s.url_namespace AS site, {_JOB_TYPE.format(j='j')} AS job_type,
               CASE j.subtitle WHEN 'Workbook' THEN 'workbook' ELSE 'datasource' END
                   AS target_type,
               j.title AS target_name, j.created_at, j.started_at,
               j.completed_at AS finished_at, {_DURATION.format(j='j')} AS duration_seconds,
               {_STATUS.format(j='j')} AS status,
               CASE WHEN j.finish_code IN (1, 2) THEN j.notes END AS error, j.id AS repository_id
        FROM public._background_tasks j {_SITE.format(a='j')}
        WHERE j.job_type IN {_REFRESH_JOBS} ORDER BY j.id""",
}


def inventory(conn, source: str, mode: str | None = None) -> dict[str, list[Row]]:
    """Every virtual table's rows the repository can give to this user (``mode`` as
    ``access_mode`` tells; found out when not given). Tables the mode cannot fill stay empty."""
    from sqlalchemy import text

    if mode is None:
        mode = access_mode(relation_access(conn))
    queries = {"tables": TABLE_QUERIES, "views": VIEW_QUERIES}.get(mode or "", {})
    out = empty_inventory()
    for table, sql in queries.items():
        for record in conn.execute(text(sql)).mappings():
            values = {k: utc(v) if isinstance(v, datetime) else v for k, v in record.items()}
            site = values.pop("site")
            out[table].append(row(table, source, "repository", site, **values))
    return out


def connect_error(err: BaseException, host: str, port: int | None,
                  user: str | None) -> TableauError:
    """One line for a failed connection to the repository, saying what the admin must do.
    ``err`` is the driver's (or SQLAlchemy's) error; the caller raises the result ``from err``."""
    text = str(err)
    where = f"the Tableau repository at {host}:{port or 8060}"
    if "connection refused" in text.lower():
        return TableauConnectionError(
            f"cannot connect to {where}: connection refused; repository access is off or "
            f"the port is closed: the Tableau admin runs `{ENABLE_REPOSITORY}` and opens port "
            f"{port or 8060} to this machine")
    if "password authentication failed" in text or "no password supplied" in text:
        return TableauConnectionError(
            f"{where} refused user '{user}': wrong password (the admin sets it with "
            f"`{ENABLE_REPOSITORY}`)")
    if "no pg_hba.conf entry" in text:
        return TableauConnectionError(
            f"{where} does not accept this machine or user '{user}': the admin runs "
            f"`{ENABLE_REPOSITORY}` (it allows remote readers)")
    if "timeout" in text.lower() or "timed out" in text:
        return TableauConnectionError(f"cannot connect to {where}: timed out; port "
                                      f"{port or 8060} is probably closed by a firewall")
    return TableauConnectionError(f"cannot connect to {where}: {one_line(err)}")
