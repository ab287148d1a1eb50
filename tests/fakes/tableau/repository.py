"""Tableau Server's repository (``workgroup``) on the real PostgreSQL, from the data dictionary.

Every table of ``reference/tableau/data_dictionary_2025.3.json`` becomes a table with exactly its
columns and types (the dictionary's types are PostgreSQL's ``information_schema`` names, so they are
used as written, except ``ARRAY`` whose element type the dictionary does not give: ``text[]``).
The ``_*`` entries are the repository's documented views: they become real PostgreSQL views over the
base tables, each column cast to the dictionary's type, because that is what makes the two access
roles differ as on a real server (``tsm data-access repository-access enable --repository-username
readonly|tableau``): ``readonly`` reads every table and view, ``tableau`` only the ``_*`` views.

The estate of ``estate.py`` is written into the tables a read-only inventory needs (sites, users,
projects, workbooks, views, datasources, data_connections, schedules, tasks, background_jobs,
extracts, historical_events with their types and hist_* rows). Database and role names carry a
uuid: roles are cluster-wide and other test runs share the server.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from .estate import Datasource, Estate, Workbook


def reference(name: str) -> Path:
    """A file of ``shared/reference/tableau/``, which sits beside the checkout (``../shared``; a
    worktree under ``/work/wt/`` finds it one level further up)."""
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "reference" / "tableau" / name
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"shared/reference/tableau/{name} not found above {__file__}")


DICTIONARY = "data_dictionary_2025.3.json"

# The dictionary names types as information_schema.columns.data_type does; only these need a
# spelling PostgreSQL accepts in DDL.
_DDL_TYPES = {"ARRAY": "text[]"}


def load_dictionary() -> dict[str, dict]:
    """``{"schema.table": {"desc": …, "cols": [[name, type, comment], …], "fks": […]}}``."""
    return json.loads(reference(DICTIONARY).read_text())


def is_view(qualified: str) -> bool:
    return qualified.split(".", 1)[1].startswith("_")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _qualified(name: str) -> str:
    schema, table = name.split(".", 1)
    return f"{_q(schema)}.{_q(table)}"


def _has_primary_key(cols: list[list[str]]) -> bool:
    first = cols[0]
    return first[0] == "id" and "primary key" in first[2].lower()


def table_ddl(name: str, entry: dict) -> str:
    cols = [f"    {_q(c)} {_DDL_TYPES.get(t, t)}" for c, t, _ in entry["cols"]]
    if _has_primary_key(entry["cols"]):
        cols.append('    PRIMARY KEY ("id")')
    return f"CREATE TABLE {_qualified(name)} (\n" + ",\n".join(cols) + "\n);"


# How the documented views are computed from the base tables: the FROM clause (its first alias
# is the main table) and the columns that are not the main table's own column of the same name.
# A view without an entry here reads its namesake table (``_tags`` from ``tags``) or is empty.
_OWNER = ("JOIN public.users u ON u.id = {a}.owner_id "
          "JOIN public.system_users su ON su.id = u.system_user_id "
          "LEFT JOIN public.domains d ON d.id = su.domain_id")
_OWNER_COLS = {"owner_name": "su.name", "system_user_id": "su.id", "domain_id": "su.domain_id",
               "domain_name": "d.name"}
VIEW_SOURCES: dict[str, tuple[str, dict[str, str]]] = {
    "public._projects": ("public.projects p " + _OWNER.format(a="p"), _OWNER_COLS),
    "public._users": (
        "public.users x JOIN public.system_users su ON su.id = x.system_user_id "
        "LEFT JOIN public.domains d ON d.id = su.domain_id "
        "LEFT JOIN public.site_roles r ON r.id = x.site_role_id",
        {"name": "su.name", "friendly_name": "su.friendly_name", "licensing_role_id": "r.id",
         "licensing_role_name": "r.name", "domain_id": "su.domain_id", "system_user_id": "su.id",
         "domain_name": "d.name", "domain_short_name": "d.short_name"}),
    "public._workbooks": (
        "public.workbooks w " + _OWNER.format(a="w") +
        " JOIN public.projects p ON p.id = w.project_id",
        {**_OWNER_COLS, "workbook_url": "w.repository_url", "project_name": "p.name"}),
    "public._views": ("public.views v " + _OWNER.format(a="v"),
                      {"view_url": "v.repository_url", "owner_name": "su.name"}),
    "public._datasources": (
        "public.datasources ds " + _OWNER.format(a="ds") +
        " JOIN public.projects p ON p.id = ds.project_id"
        " LEFT JOIN public.data_connections dc"
        " ON dc.owner_type = 'Datasource' AND dc.owner_id = ds.id",
        {**_OWNER_COLS, "datasource_url": "ds.repository_url", "project_name": "p.name",
         "server": "dc.server", "dbclass": "dc.dbclass", "port": "dc.port",
         "username": "dc.username", "dbname": "dc.dbname", "owner_type": "'Datasource'"}),
    "public._background_tasks": ("public.background_jobs bj", {}),
}


def view_ddl(name: str, entry: dict, dictionary: dict[str, dict]) -> str:
    source = VIEW_SOURCES.get(name)
    namesake = name.replace("._", ".", 1)
    if source is None and namesake in dictionary:
        source = (f"{namesake} t", {})
    if source is None:
        main_cols, from_clause, exprs = set(), None, {}
    else:
        from_clause, exprs = source
        main_table, alias = from_clause.split()[:2]
        main_cols = {c for c, _, _ in dictionary[main_table]["cols"]}
    select = []
    for col, typ, _ in entry["cols"]:
        expr = exprs.get(col) or (f"{alias}.{_q(col)}" if col in main_cols else "NULL")
        select.append(f"    CAST({expr} AS {_DDL_TYPES.get(typ, typ)}) AS {_q(col)}")
    body = ",\n".join(select)
    tail = f"FROM {from_clause}" if from_clause else "WHERE false"
    return f"CREATE VIEW {_qualified(name)} AS SELECT\n{body}\n{tail};"


def repository_ddl(dictionary: dict[str, dict] | None = None) -> str:
    """The whole repository: schemas, tables (with their primary keys), then the ``_*`` views."""
    dictionary = dictionary or load_dictionary()
    schemas = sorted({name.split(".", 1)[0] for name in dictionary} - {"public"})
    parts = [f"CREATE SCHEMA {_q(s)};" for s in schemas]
    parts += [table_ddl(n, e) for n, e in dictionary.items() if not is_view(n)]
    parts += [view_ddl(n, e, dictionary) for n, e in dictionary.items() if is_view(n)]
    return "\n".join(parts)


def grants(dictionary: dict[str, dict], readonly: str, tableau: str, database: str) -> str:
    """``readonly`` reads everything; ``tableau`` only the ``_*`` views (as on a real server)."""
    schemas = sorted({name.split(".", 1)[0] for name in dictionary})
    out = [f"GRANT CONNECT ON DATABASE {_q(database)} TO {_q(readonly)}, {_q(tableau)};"]
    for schema in schemas:
        out.append(f"GRANT USAGE ON SCHEMA {_q(schema)} TO {_q(readonly)}, {_q(tableau)};")
        out.append(f"GRANT SELECT ON ALL TABLES IN SCHEMA {_q(schema)} TO {_q(readonly)};")
    views = ", ".join(_qualified(n) for n in dictionary if is_view(n))
    out.append(f"GRANT SELECT ON {views} TO {_q(tableau)};")
    return "\n".join(out)


# --- the estate, as rows ---------------------------------------------------------------------


def _kind(obj: Workbook | Datasource) -> str:
    return "Workbook" if isinstance(obj, Workbook) else "Datasource"


JOB_NAMES = {"RefreshExtracts": "Refresh Extracts", "IncrementExtracts": "Increment Extracts",
             "RefreshThumbnails": "Refresh Thumbnails"}


def estate_rows(e: Estate) -> dict[str, list[dict]]:
    """The estate as ``{"schema.table": [row, …]}``; unnamed columns stay NULL."""
    rows: dict[str, list[dict]] = {}
    add = lambda table, **row: rows.setdefault(table, []).append(row)  # noqa: E731
    t0 = e.jobs[0].created_at - timedelta(days=400)
    add("public.domains", id=1, name="local", short_name="local", active=True, family="local")
    for role_id, role in [(1, "SiteAdministratorCreator"), (2, "Creator"), (3, "Explorer"),
                          (4, "Viewer"), (5, "ServerAdministrator")]:
        add("public.site_roles", id=role_id, name=role, licensing_rank=role_id, display_name=role)
    for s in e.sites:
        add("public.sites", id=s.id, name=s.name, url_namespace=s.content_url, status="active",
            created_at=t0, updated_at=t0, luid=s.luid, content_admin_mode=2)
        add("public.hist_sites", id=s.id, site_id=s.id, name=s.name, url_namespace=s.content_url)
    for su in e.system_users:
        add("public.system_users", id=su.id, name=su.name, email=su.email, domain_id=1,
            friendly_name=su.full_name, admin_level=su.admin_level, created_at=t0, updated_at=t0)
    for u in e.users:
        add("public.users", id=u.id, login_at=u.last_login, created_at=t0, updated_at=t0,
            site_id=u.site.id, system_user_id=u.system_user.id, luid=u.luid,
            site_role_id=u.site_role_id)
        add("public.hist_users", id=u.id, user_id=u.id, name=u.system_user.name,
            domain_name="local", email=u.system_user.email, system_user_id=u.system_user.id,
            site_role_id=u.site_role_id)
    for p in e.projects:
        add("public.projects", id=p.id, name=p.name, owner_id=p.owner.id, created_at=t0,
            updated_at=t0, state="active", description=p.description, site_id=p.site.id,
            special=1 if p.name == "Default" else None, luid=p.luid,
            parent_project_id=p.parent.id if p.parent else None, lower_name=p.name.lower())
        add("public.hist_projects", id=p.id, project_id=p.id, name=p.name)
    for w in e.workbooks:
        add("public.workbooks", id=w.id, name=w.name, repository_url=w.content_url,
            created_at=w.created_at, updated_at=w.updated_at, owner_id=w.owner.id,
            project_id=w.project.id, view_count=len(w.views), size=w.size, site_id=w.site.id,
            luid=w.luid, refreshable_extracts=bool(w.extract),
            data_engine_extracts=bool(w.extract), revision="1.0", is_deleted=False,
            first_published_at=w.created_at, last_published_at=w.updated_at,
            default_view_index=0)
        add("public.hist_workbooks", id=w.id, workbook_id=w.id, name=w.name,
            repository_url=w.content_url, size=w.size, revision="1.0")
        for v in w.views:
            url = f"{w.content_url}/sheets/{v.name.replace(' ', '')}"
            add("public.views", id=v.id, name=v.name, repository_url=url,
                created_at=w.created_at, workbook_id=w.id, index=v.index,
                updated_at=w.updated_at, owner_id=w.owner.id, title=v.name, sheet_id=v.name,
                state="active", sheettype=v.sheet_type, site_id=w.site.id, luid=v.luid,
                is_deleted=False)
            add("public.hist_views", id=v.id, view_id=v.id, name=v.name, repository_url=url,
                revision="1.0")
    for d in e.datasources:
        c = d.connections[0]
        add("public.datasources", id=d.id, name=d.name, repository_url=d.content_url,
            owner_id=d.owner.id, created_at=d.created_at, updated_at=d.updated_at,
            project_id=d.project.id, size=d.size, state="active", db_class=c.dbclass,
            db_name=c.dbname, table_name=c.tablename, site_id=d.site.id, luid=d.luid,
            data_engine_extracts=bool(d.extract), refreshable_extracts=bool(d.extract),
            is_certified=d.certified, description=d.description, connectable=True,
            revision="1.0", first_published_at=d.created_at, last_published_at=d.updated_at)
        add("public.hist_datasources", id=d.id, datasource_id=d.id, name=d.name,
            repository_url=d.content_url, size=d.size, revision="1.0", is_certified=d.certified)
    for owner, c in e.connections():
        add("public.data_connections", id=c.id, server=c.server, dbclass=c.dbclass, port=c.port,
            username=c.username, password=c.embed_password, name=f"{c.dbclass}.{c.id}",
            dbname=c.dbname, tablename=c.tablename, owner_type=_kind(owner), owner_id=owner.id,
            created_at=owner.created_at, updated_at=owner.updated_at, site_id=owner.site.id,
            luid=c.luid, has_extract=c.has_extract,
            datasource_id=owner.id if isinstance(owner, Datasource) else None,
            caption=c.server or c.dbclass)
    for n, obj in enumerate(e.extracts(), start=1):
        add("public.extracts", id=n, workbook_id=obj.id if isinstance(obj, Workbook) else None,
            datasource_id=obj.id if isinstance(obj, Datasource) else None,
            descriptor=obj.extract.file_name, created_at=obj.created_at,
            updated_at=obj.updated_at, site_id=obj.site.id, size=obj.size)
    for s in e.schedules:
        add("public.schedules", id=s.id, name=s.name, active=True, priority=50, schedule_type=1,
            run_next_at=s.next_run_at, created_at=t0, updated_at=t0, luid=s.luid, hidden=False)
    for t in e.tasks:
        add("public.tasks", id=t.id, schedule_id=t.schedule.id,
            type="IncrementExtractTask" if t.incremental else "RefreshExtractTask",
            priority=t.priority, obj_id=t.target.id, created_at=t0, updated_at=t0,
            site_id=t.site.id, obj_type=_kind(t.target), luid=t.luid,
            consecutive_failure_count=t.consecutive_failures, active=True, state=0)
    for j in e.jobs:
        add("public.background_jobs", id=j.id, job_type=j.job_type,
            progress=100 if j.completed_at else 0, notes=j.notes, created_at=j.created_at,
            updated_at=j.completed_at or j.started_at, completed_at=j.completed_at,
            started_at=j.started_at, job_name=JOB_NAMES[j.job_type],
            finish_code=j.finish_code, priority=50, title=j.target.name if j.target else None,
            subtitle=("Workbook" if isinstance(j.target, Workbook) else "Data Source")
            if j.target else None, site_id=j.site.id, luid=j.luid,
            task_id=j.task.id if j.task else None, created_on_worker="node1",
            processed_on_worker="node1", backgrounder_id="node1:backgrounder:0", run_now=False)
    for t in e.event_types:
        add("public.historical_event_types", type_id=t.id, name=t.name, action_type=t.action_type)
    for ev in e.events:
        add("public.historical_events", id=ev.id, historical_event_type_id=ev.type.id,
            worker="node1", is_failure=ev.is_failure, details=ev.details,
            created_at=ev.created_at, hist_actor_user_id=ev.actor.id,
            hist_actor_site_id=ev.actor.site.id, hist_target_site_id=ev.actor.site.id,
            hist_project_id=(ev.workbook or ev.datasource).project.id
            if (ev.workbook or ev.datasource) else None,
            hist_workbook_id=ev.workbook.id if ev.workbook else None,
            hist_view_id=ev.view.id if ev.view else None,
            hist_datasource_id=ev.datasource.id if ev.datasource else None)
    return rows


def seed(con, e: Estate) -> None:
    """Insert the estate's rows through a psycopg connection."""
    for table, table_rows in estate_rows(e).items():
        cols = list(dict.fromkeys(c for row in table_rows for c in row))
        sql = (f"INSERT INTO {_qualified(table)} ({', '.join(_q(c) for c in cols)}) "
               f"VALUES ({', '.join(['%s'] * len(cols))})")
        with con.cursor() as cur:
            cur.executemany(sql, [[row.get(c) for c in cols] for row in table_rows])


@dataclass
class Repository:
    """A loaded repository: the database, its two roles, and URLs that sign in as each."""

    server_url: str  # postgresql://postgres@127.0.0.1:5432 (no database)
    database: str
    readonly_role: str
    tableau_role: str

    def url(self, role: str | None = None, driver: str = "postgresql") -> str:
        user = role or "postgres"
        host = self.server_url.split("@", 1)[1]
        return f"{driver}://{user}@{host}/{self.database}"

    @property
    def readonly_url(self) -> str:
        return self.url(self.readonly_role)

    @property
    def tableau_url(self) -> str:
        return self.url(self.tableau_role)


def create_repository(server_url: str, e: Estate) -> Repository:
    """Create a fresh repository database with its roles and the estate; undo with ``drop``."""
    import psycopg

    suffix = uuid.uuid4().hex[:10]
    repo = Repository(server_url, f"tableau_repo_{suffix}", f"readonly_{suffix}",
                      f"tableau_{suffix}")
    dictionary = load_dictionary()
    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {_q(repo.database)}")
        for role in (repo.readonly_role, repo.tableau_role):
            admin.execute(f"CREATE ROLE {_q(role)} LOGIN")
    try:
        with psycopg.connect(repo.url()) as con:
            con.execute(repository_ddl(dictionary))
            seed(con, e)
            con.execute(grants(dictionary, repo.readonly_role, repo.tableau_role, repo.database))
    except BaseException:
        drop_repository(repo)
        raise
    return repo


def drop_repository(repo: Repository) -> None:
    """Drop the database first (its grants go with it), then the two cluster-wide roles."""
    import psycopg

    with psycopg.connect(f"{repo.server_url}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {_q(repo.database)} WITH (FORCE)")
        for role in (repo.readonly_role, repo.tableau_role):
            admin.execute(f"DROP ROLE IF EXISTS {_q(role)}")
