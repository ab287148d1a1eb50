"""One description of a small, consistent Tableau Server estate, shared by the simulations.

The repository fixture (``repository.py``) writes it into the data dictionary's tables and the REST
server (``rest.py``) answers from it, so a test can compare what each access path says about the
same workbooks, connections, jobs… Every object has the repository's integer ``id`` and the REST
API's ``luid`` (a UUID derived from its name, so runs are reproducible).

Two sites, so that walking ``SITE '*'`` signs in twice; the ``finance`` site holds 7 workbooks
(and ``Default`` 5) so that page sizes 2, 3 and 5 do not divide the totals.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

T0 = datetime(2025, 3, 3, 6, 0, 0)  # all times are UTC; the repository stores them without zone


def luid(*names: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "tableau-fake/" + "/".join(names)))


@dataclass(frozen=True)
class Site:
    id: int
    name: str
    content_url: str  # '' for the Default site

    @property
    def luid(self) -> str:
        return luid("site", self.content_url)


@dataclass(frozen=True)
class SystemUser:
    id: int
    name: str
    full_name: str
    email: str
    admin_level: int = 0  # 10: server administrator


@dataclass(frozen=True)
class User:
    """A system user's membership of one site (the repository's ``users`` row)."""

    id: int
    site: Site
    system_user: SystemUser
    site_role: str  # REST siteRole
    site_role_id: int
    last_login: datetime | None

    @property
    def luid(self) -> str:
        return luid("user", self.site.content_url, self.system_user.name)


@dataclass(frozen=True)
class Project:
    id: int
    site: Site
    name: str
    owner: User
    description: str = ""
    parent: "Project | None" = None

    @property
    def luid(self) -> str:
        return luid("project", self.site.content_url, self.name)


@dataclass(frozen=True)
class Connection:
    """A data connection of a workbook or a datasource (the repository's ``data_connections``)."""

    id: int
    dbclass: str  # postgres, sqlserver, mysql, snowflake, excel-direct, sqlproxy, hyper…
    server: str
    port: int | None
    dbname: str | None
    username: str | None
    embed_password: bool
    has_extract: bool
    tablename: str | None = None

    @property
    def luid(self) -> str:
        return luid("connection", str(self.id))


@dataclass(frozen=True)
class ExtractTable:
    """One table of a .hyper extract; ``hyper.build_table`` knows how to fill each ``kind``."""

    schema: str
    name: str
    kind: str  # 'orders' (every type, NULLs), 'ledger', 'accounts', 'pairs', 'sequence'
    rows: int


@dataclass(frozen=True)
class Extract:
    """The extract packaged in a .twbx/.tdsx: a .hyper with these tables, or a legacy .tde."""

    file_name: str  # the member name under Data/Extracts/
    tables: tuple[ExtractTable, ...] = ()

    @property
    def legacy(self) -> bool:
        return self.file_name.endswith(".tde")


@dataclass(frozen=True)
class View:
    id: int
    name: str
    sheet_type: str  # view, dashboard, story
    index: int

    @property
    def luid(self) -> str:
        return luid("view", str(self.id))


@dataclass(frozen=True)
class Workbook:
    id: int
    site: Site
    project: Project
    owner: User
    name: str
    views: tuple[View, ...]
    connections: tuple[Connection, ...]
    extract: Extract | None
    created_at: datetime
    updated_at: datetime
    size: int
    description: str = ""

    @property
    def luid(self) -> str:
        return luid("workbook", self.site.content_url, self.name)

    @property
    def content_url(self) -> str:
        return self.name.replace(" ", "")

    @property
    def file_name(self) -> str:
        return self.content_url + (".twbx" if self.extract else ".twb")


@dataclass(frozen=True)
class Datasource:
    id: int
    site: Site
    project: Project
    owner: User
    name: str
    connections: tuple[Connection, ...]
    extract: Extract | None
    created_at: datetime
    updated_at: datetime
    size: int
    description: str = ""
    certified: bool = False

    @property
    def luid(self) -> str:
        return luid("datasource", self.site.content_url, self.name)

    @property
    def content_url(self) -> str:
        return self.name.replace(" ", "")

    @property
    def dbclass(self) -> str:
        return self.connections[0].dbclass

    @property
    def file_name(self) -> str:
        return self.content_url + (".tdsx" if self.extract else ".tds")


@dataclass(frozen=True)
class Schedule:
    id: int
    name: str
    frequency: str  # REST: Hourly, Daily, Weekly, Monthly
    next_run_at: datetime

    @property
    def luid(self) -> str:
        return luid("schedule", self.name)


@dataclass(frozen=True)
class Task:
    """An extract-refresh task: a schedule applied to a workbook or datasource."""

    id: int
    site: Site
    schedule: Schedule
    target: "Workbook | Datasource"
    priority: int = 50
    consecutive_failures: int = 0
    incremental: bool = False

    @property
    def luid(self) -> str:
        return luid("task", str(self.id))


@dataclass(frozen=True)
class Job:
    """A background job; extract refreshes have a target (and usually a task)."""

    id: int
    site: Site
    job_type: str  # repository job_type: RefreshExtracts, IncrementExtracts, RefreshThumbnails…
    target: "Workbook | Datasource | None"
    task: Task | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    finish_code: int | None  # 0 success, 1 failure, 2 cancelled; None while running
    notes: str | None = None  # the error text of a failed job

    @property
    def luid(self) -> str:
        return luid("job", str(self.id))

    @property
    def rest_job_type(self) -> str:
        return {"RefreshExtracts": "refresh_extracts", "IncrementExtracts": "increment_extracts",
                "RefreshThumbnails": "refresh_thumbnails"}[self.job_type]

    @property
    def rest_status(self) -> str:
        if self.finish_code is None:
            return "InProgress" if self.started_at else "Pending"
        return {0: "Success", 1: "Failed", 2: "Cancelled"}[self.finish_code]


@dataclass(frozen=True)
class EventType:
    id: int
    name: str
    action_type: str


@dataclass(frozen=True)
class Event:
    id: int
    type: EventType
    created_at: datetime
    actor: User
    workbook: Workbook | None = None
    view: View | None = None
    datasource: Datasource | None = None
    is_failure: bool = False
    details: str | None = None


@dataclass
class Estate:
    sites: list[Site] = field(default_factory=list)
    system_users: list[SystemUser] = field(default_factory=list)
    users: list[User] = field(default_factory=list)
    projects: list[Project] = field(default_factory=list)
    workbooks: list[Workbook] = field(default_factory=list)
    datasources: list[Datasource] = field(default_factory=list)
    schedules: list[Schedule] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)
    event_types: list[EventType] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    # the personal access token and the user/password that sign in (a server administrator)
    token_name: str = "hydra"
    token_secret: str = "pat-secret-0f1e2d3c"
    username: str = "admin"
    password: str = "admin-password-9a8b"

    def site(self, content_url: str) -> Site:
        return next(s for s in self.sites if s.content_url == content_url)

    def on(self, site: Site, items: list) -> list:
        return [item for item in items if item.site == site]

    def workbook(self, name: str) -> Workbook:
        return next(w for w in self.workbooks if w.name == name)

    def datasource(self, name: str) -> Datasource:
        return next(d for d in self.datasources if d.name == name)

    def views(self, site: Site | None = None) -> list[tuple[Workbook, View]]:
        return [(w, v) for w in self.workbooks if site in (None, w.site) for v in w.views]

    def connections(self) -> list[tuple["Workbook | Datasource", Connection]]:
        return [(o, c) for o in [*self.workbooks, *self.datasources] for c in o.connections]

    def extracts(self) -> list["Workbook | Datasource"]:
        return [o for o in [*self.datasources, *self.workbooks] if o.extract]


def build_estate() -> Estate:
    """The estate every simulation serves (see the module docstring)."""
    e = Estate()
    default, finance = Site(1, "Default", ""), Site(2, "Finance", "finance")
    e.sites = [default, finance]
    admin = SystemUser(1, "admin", "Ada Admin", "ada@client.com", admin_level=10)
    alice = SystemUser(2, "alice", "Alice Analyst", "alice@client.com")
    bob = SystemUser(3, "bob", "Bob Viewer", "bob@client.com")
    carol = SystemUser(4, "carol", "Carol Controller", "carol@client.com")
    e.system_users = [admin, alice, bob, carol]
    members = [(default, admin, "ServerAdministrator", 5), (default, alice, "Creator", 2),
               (default, bob, "Viewer", 4), (finance, admin, "ServerAdministrator", 5),
               (finance, alice, "Explorer", 3), (finance, carol, "SiteAdministratorCreator", 1)]
    for n, (site, su, role, role_id) in enumerate(members, start=1):
        login = T0 - timedelta(days=n) if su is not bob else None  # bob never signed in
        e.users.append(User(n, site, su, role, role_id, login))

    def user(site: Site, name: str) -> User:
        return next(u for u in e.users if u.site == site and u.system_user.name == name)

    def project(site: Site, name: str, owner: str, parent: Project | None = None) -> Project:
        p = Project(len(e.projects) + 1, site, name, user(site, owner),
                    f"{name} content on {site.name}", parent)
        e.projects.append(p)
        return p

    d_default = project(default, "Default", "admin")
    sales = project(default, "Sales", "alice")
    project(finance, "Default", "admin")  # every site has one; this one stays empty
    reports = project(finance, "Reports", "carol")
    monthly = project(finance, "Monthly", "carol", parent=reports)

    ids = {"connection": 0, "view": 0}

    def conn(dbclass, server, port, dbname, username, embed, extract, table=None) -> Connection:
        ids["connection"] += 1
        return Connection(ids["connection"], dbclass, server, port, dbname, username, embed,
                          extract, table)

    def views(*specs: tuple[str, str]) -> tuple[View, ...]:
        out = []
        for index, (name, sheet_type) in enumerate(specs, start=1):
            ids["view"] += 1
            out.append(View(ids["view"], name, sheet_type, index))
        return tuple(out)

    def datasource(site, proj, owner, name, conns, extract=None, certified=False) -> Datasource:
        n = len(e.datasources) + 1
        d = Datasource(n, site, proj, user(site, owner), name, conns, extract,
                       T0 - timedelta(days=90 - n), T0 - timedelta(days=10 - n), 40_000 * n,
                       f"The {name} data", certified)
        e.datasources.append(d)
        return d

    def workbook(site, proj, owner, name, vs, conns, extract=None) -> Workbook:
        n = len(e.workbooks) + 1
        w = Workbook(n, site, proj, user(site, owner), name, vs, conns, extract,
                     T0 - timedelta(days=60 - n), T0 - timedelta(days=5, hours=n), 100_000 + n,
                     f"{name} workbook")
        e.workbooks.append(w)
        return w

    orders_extract = Extract("Orders.hyper", (ExtractTable("Extract", "Extract", "orders", 40),))
    orders = datasource(default, sales, "alice", "Orders",
                        (conn("postgres", "db.client.local", 5432, "crm", "report_ro", True, True,
                              "public.orders"),), orders_extract, certified=True)
    customers = datasource(default, sales, "alice", "Customers",
                           (conn("sqlserver", "mssql.client.local", 1433, "CRM", "tableau_svc",
                                 True, False, "dbo.Customers"),))
    ledger = datasource(finance, reports, "carol", "Ledger",
                        (conn("snowflake", "client.snowflakecomputing.com", 443, "FINANCE",
                              "TABLEAU", False, True),),
                        Extract("Ledger.hyper", (ExtractTable("Extract", "Ledger", "ledger", 25),
                                                 ExtractTable("Reference", "Accounts", "accounts",
                                                              6))))
    budget = datasource(finance, monthly, "carol", "Legacy Budget",
                        (conn("excel-direct", "", None, None, None, False, True),),
                        Extract("Budget.tde"))

    def published(d: Datasource) -> Connection:  # a workbook's connection to a published datasource
        return conn("sqlproxy", "localhost", 8060, d.content_url, "", False, False)

    workbook(default, sales, "alice", "Regional Sales",
             views(("Overview", "dashboard"), ("By Region", "view"), ("By Product", "view")),
             (published(orders), conn("postgres", "db.client.local", 5432, "crm", "report_ro",
                                      True, True)),
             Extract("Regional Sales.hyper", (ExtractTable("Extract", "Extract", "orders", 12),)))
    workbook(default, sales, "alice", "Customer Churn", views(("Churn", "view")),
             (published(customers),))
    workbook(default, d_default, "admin", "Server Health",
             views(("Load", "view"), ("Disk", "view")),
             (conn("postgres", "localhost", 8060, "workgroup", "readonly", True, False),))
    workbook(default, sales, "bob", "Pipeline", views(("Pipeline", "view")),
             (conn("mysql", "mysql.client.local", 3306, "sales", "bi", False, False),))
    workbook(default, d_default, "alice", "Scratch", views(("Sheet 1", "view")), ())
    workbook(finance, reports, "carol", "Quarterly Close",
             views(("Close", "dashboard"), ("Accruals", "view")),
             (published(ledger), conn("hyper", "", None, None, None, False, True)),
             Extract("Quarterly Close.hyper", (ExtractTable("Extract", "Ledger", "ledger", 10),
                                               ExtractTable("Reference", "Accounts", "accounts",
                                                            6))))
    for n, name in enumerate(["Budget vs Actual", "Cash Flow", "AP Aging", "AR Aging",
                              "Headcount", "Travel"], start=1):
        proj = monthly if n % 2 else reports
        conns = (published(budget),) if n == 1 else (
            conn("sqlserver", "erp.client.local", 1433, "ERP", "fin_ro", n % 3 == 0, False),)
        workbook(finance, proj, "carol" if n % 2 else "admin", name, views((name, "view")), conns)

    daily = Schedule(1, "Daily 6am", "Daily", T0 + timedelta(days=1))
    weekly = Schedule(2, "Weekly Monday", "Weekly", T0 + timedelta(days=7))
    e.schedules = [daily, weekly]
    regional = e.workbook("Regional Sales")
    t_orders = Task(1, default, daily, orders, consecutive_failures=1)
    t_regional = Task(2, default, daily, regional)
    t_ledger = Task(3, finance, weekly, ledger, priority=30, incremental=True)
    e.tasks = [t_orders, t_regional, t_ledger]

    def job(site, job_type, target, task, day, minutes, code, notes=None, running=False):
        n = len(e.jobs) + 1
        created = T0 - timedelta(days=day)
        started = created + timedelta(seconds=30)
        done = None if running else started + timedelta(minutes=minutes)
        e.jobs.append(Job(n, site, job_type, target, task, created, started, done,
                          None if running else code, notes))

    job(default, "RefreshExtracts", orders, t_orders, 3, 4, 0)
    job(default, "RefreshExtracts", orders, t_orders, 2, 5, 0)
    job(default, "RefreshExtracts", orders, t_orders, 1, 1, 1,
        'Unable to connect to the server "db.client.local". Check that the server is running '
        "and that you have access privileges to the requested database.")
    job(default, "RefreshExtracts", regional, t_regional, 1, 2, 0)
    job(default, "RefreshThumbnails", regional, None, 1, 0, 0)
    job(finance, "IncrementExtracts", ledger, t_ledger, 7, 12, 0)
    job(finance, "RefreshExtracts", ledger, t_ledger, 0, 0, 2, "Cancelled by the administrator.")
    job(finance, "RefreshExtracts", ledger, t_ledger, 0, 0, None, running=True)

    types = [EventType(1, "Login", "Access"), EventType(2, "Access View", "Access"),
             EventType(3, "Publish Workbook", "Publish"),
             EventType(4, "Publish Data Source", "Publish"),
             EventType(5, "Download Workbook", "Access"),
             EventType(6, "Refresh Extract", "Update")]
    e.event_types = types
    alice_d, carol_f = user(default, "alice"), user(finance, "carol")
    close = e.workbook("Quarterly Close")
    specs = [(types[0], alice_d, {}, False, None),
             (types[2], alice_d, {"workbook": regional}, False, None),
             (types[1], alice_d, {"workbook": regional, "view": regional.views[0]}, False, None),
             (types[3], alice_d, {"datasource": orders}, False, None),
             (types[4], user(default, "bob"), {"workbook": regional}, False, None),
             (types[5], alice_d, {"datasource": orders}, True, "Unable to connect to the server"),
             (types[0], carol_f, {}, True, "Invalid username or password"),
             (types[2], carol_f, {"workbook": close}, False, None),
             (types[1], carol_f, {"workbook": close, "view": close.views[1]}, False, None)]
    for n, (etype, actor, objs, failure, details) in enumerate(specs, start=1):
        e.events.append(Event(n, etype, T0 - timedelta(hours=48 - 3 * n), actor,
                              is_failure=failure, details=details, **objs))
    return e
