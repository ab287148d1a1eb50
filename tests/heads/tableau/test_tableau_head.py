"""The tableau head end to end through the workspace: ATTACH over REST (the simulation of
``fakes.tableau.rest``), over the repository (the real PostgreSQL, loaded from the data
dictionary), and both; SELECT, EXTRACT and RECONCILE of extract tables, view data and
repository tables; every bad input as one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hydra.core.errors import HydraError

pytest_plugins = ["fakes.tableau.fixtures"]
SECRET_ENV = "HYDRA_TEST_TAB_PAT"
ORDERS = 'tab."default/datasources/Orders"."Extract.Extract"'


@pytest.fixture
def pat(monkeypatch, tableau_estate):
    monkeypatch.setenv(SECRET_ENV, tableau_estate.token_secret)
    return tableau_estate.token_secret


@pytest.fixture
def work(tmp_path):
    """A workspace file in a folder of its own: the head downloads into that folder."""
    from hydra.statements.workspace import Workspace

    folder = tmp_path / "work"
    folder.mkdir()
    ws = Workspace.open(str(folder / "ws.duckdb"))
    ws.folder = folder
    yield ws
    ws.close()


def leftovers(ws) -> list[str]:
    return sorted(p.name for p in ws.folder.iterdir() if not p.name.startswith("ws.duckdb"))


def rest_attach(ws, server, site="*", extra=""):
    return ws.execute(f"ATTACH 'tableau+{server.url}' AS tab (SITE '{site}', TOKEN_NAME 'hydra', "
                      f"TOKEN_ENV '{SECRET_ENV}'{extra})")


def catalog(ws, kinds=("extract", "view data")) -> dict[str, tuple]:
    marks = ", ".join(f"'{k}'" for k in kinds)
    return {ref: (kind, rows, error) for ref, kind, rows, error in ws.query(
        f"SELECT ref, kind, row_count, error FROM elements WHERE kind IN ({marks})")}


def sign_ins(server) -> int:
    return sum(1 for r in server.log if r.path == "/auth/signin")


# --- REST ----------------------------------------------------------------------------------------


@pytest.mark.simulated
def test_rest_attach_lists_extract_tables_views_and_fills_the_tables(work, tableau_server,
                                                                     tableau_estate, pat,
                                                                     monkeypatch):
    """Simulates Tableau Server's REST API over two sites, in pages of 3. Every extract table
    of every package is an element with its Hyper columns and exact row count; the .tde is
    listed with its reason; every view's data is an element; the tables are filled via
    'rest'; the walk signs in once per site, sends only GETs after each sign-in, and leaves no
    file behind."""
    e = tableau_estate
    monkeypatch.setattr("hydra.heads.tableau.rest.PAGE_SIZE", 3)  # 7 and 5 workbooks a site
    result = rest_attach(work, tableau_server)
    assert work.query("SELECT site, count(*) FROM tableau_workbooks GROUP BY 1 ORDER BY 1") == [
        ("", 5), ("finance", 7)]
    pages = {r.query.get("pageNumber", ["1"])[0] for r in tableau_server.log
             if r.path.endswith("/workbooks")}
    assert pages == {"1", "2", "3"}
    found = catalog(work)
    assert found[ORDERS] == ("extract", 40, None)
    assert found['tab."finance/datasources/Ledger"."Extract.Ledger"'] == ("extract", 25, None)
    assert found['tab."finance/datasources/Ledger"."Reference.Accounts"'] == ("extract", 6, None)
    regional = 'tab."default/workbooks/Regional Sales"."Extract.Extract"'
    assert found[regional] == ("extract", 12, None)
    assert found['tab."finance/workbooks/Quarterly Close"."Extract.Ledger"'][1] == 10
    kind, rows, error = found['tab."finance/datasources/Legacy Budget"."Budget.tde"']
    assert rows is None and error.startswith("Budget.tde is a legacy .tde extract")
    views = [r for r, (k, _, _) in found.items() if k == "view data"]
    assert len(views) == len(e.views())
    assert 'tab."default/views/Regional Sales"."Overview"' in views
    assert len(found) == 7 + len(e.views())
    assert result.message == f"attached tab: {len(found)} elements"
    types = dict(work.query(f"SELECT name, type FROM columns WHERE ref = '{ORDERS}'"))
    assert types["amount"] == "DECIMAL(18,2)" and types["paid_at"] == "TIMESTAMP WITH TIME ZONE"
    assert work.query("SELECT source_type FROM columns WHERE ref = ? AND name = 'location'",
                      [ORDERS]) == [("TABLEAU.TABGEOGRAPHY",)]
    counts = dict(work.query("SELECT via || ':' || count(*), 1 FROM tableau_connections "
                             "GROUP BY via"))
    assert counts == {f"rest:{len(e.connections())}": 1}
    assert work.query("SELECT site, via FROM tableau_sites ORDER BY site") == [
        ("", "rest"), ("finance", "rest")]
    assert sign_ins(tableau_server) == 2
    assert {(r.method, r.path) for r in tableau_server.log if r.method != "GET"} == {
        ("POST", "/auth/signin"), ("POST", "/auth/signout")}
    assert leftovers(work) == []


@pytest.mark.simulated
def test_rest_select_an_extract_and_a_views_data(work, tableau_server, pat):
    """Simulates the REST API. An extract table reads as Hyper holds it (the package is
    downloaded and removed after); a view's summary data reads as its CSV; PROFILE takes
    Hyper's own figures; closing the workspace signs out."""
    rest_attach(work, tableau_server)
    rows = work.execute(f"SELECT count(*), sum(amount), count(region), min(order_date) "
                        f"FROM {ORDERS}").rows
    # order_id g = 1..40: amount = g * 10.25, region NULL when g % 5 = 0
    assert [tuple(r) for r in rows] == [(40, pytest.approx(10.25 * 820), 32,
                                         __import__("datetime").date(2024, 1, 2))]
    data = work.execute('SELECT "Region", sum("Sales") FROM '
                        'tab."finance/views/Quarterly Close"."Close" GROUP BY 1 ORDER BY 1').rows
    assert [r[0] for r in data] == ["East", "North", "South"]
    assert work.query("SELECT type FROM columns WHERE ref = ? AND name = 'Sales'",
                      ['tab."finance/views/Quarterly Close"."Close"']) in ([], [("BIGINT",)])
    work.execute(f"PROFILE {ORDERS}")
    assert work.query("SELECT DISTINCT method FROM stats WHERE ref = ?", [ORDERS]) == [
        ("hyper aggregate query on the downloaded extract",)]
    assert work.query("SELECT row_count FROM stats WHERE ref = ? LIMIT 1", [ORDERS]) == [(40,)]
    assert leftovers(work) == []
    work.close()
    assert tableau_server.log[-1].path == "/auth/signout"
    assert {(r.method, r.path) for r in tableau_server.log if r.method != "GET"} == {
        ("POST", "/auth/signin"), ("POST", "/auth/signout")}


@pytest.mark.simulated
def test_rest_extract_and_reconcile_extract_tables(work, tableau_server, pat, tmp_path):
    """Simulates the REST API. EXTRACT of every extract table to Parquet, then RECONCILE: the
    figures Hyper computed on a fresh download agree with the files written."""
    import duckdb

    rest_attach(work, tableau_server, "")
    work.execute("MARK tab.\"default/*\".\"Extract.*\"")
    out = tmp_path / "out"
    result = work.execute(f"EXTRACT MARKED TO '{out}'")
    assert {r[1] for r in result.rows} == {"done"}, result.rows
    check = work.execute("RECONCILE LAST")
    assert check.message.endswith("all passed"), check.rows
    names = {r[0] for r in work.query(
        "SELECT check_name FROM reconciliations WHERE ref = ? AND status = 'pass'", [ORDERS])}
    assert {"row_count", "sum(amount)", "null_count(region)", "max(paid_at)"} <= names
    files = list(out.glob("tab/default/datasources/Orders/Extract.Extract/*.parquet"))
    assert duckdb.connect().execute(f"SELECT count(*) FROM read_parquet({[str(f) for f in files]})"
                      ).fetchone() == (40,)
    assert leftovers(work) == []


@pytest.mark.simulated
def test_rest_user_and_password_on_one_site(work, tableau_server, tableau_estate, monkeypatch):
    """Simulates the REST API: USER/PASSWORD_ENV on SITE 'finance' fills that site only."""
    monkeypatch.setenv("HYDRA_TEST_TAB_PW", tableau_estate.password)
    work.execute(f"ATTACH 'tableau+{tableau_server.url}' AS tab (SITE 'finance', USER 'admin', "
                 "PASSWORD_ENV 'HYDRA_TEST_TAB_PW')")
    assert work.query("SELECT DISTINCT site FROM tableau_workbooks") == [("finance",)]
    assert sign_ins(tableau_server) == 1
    assert all(ref.startswith('tab."finance/') for ref in catalog(work))


@pytest.mark.simulated
def test_rest_token_expired_mid_walk_signs_in_again_once(work, tableau_server, pat):
    """Simulates a token that expires mid-walk (401002, after 10 requests): one fresh sign-in,
    the request repeated, and the ATTACH completes; a token that expires between two reads
    is renewed the same way."""
    tableau_server.token_budget = 10  # every session's token dies after 10 requests
    rest_attach(work, tableau_server, "")
    statuses = [r.status for r in tableau_server.log]
    assert statuses.count(401) == 1 and sign_ins(tableau_server) == 2
    tableau_server.token_budget = None
    assert work.execute(f"SELECT count(*) FROM {ORDERS}").rows[0][0] == 40  # signs in
    tableau_server.expire_tokens(after=0)
    assert work.execute(f"SELECT count(*) FROM {ORDERS}").rows[0][0] == 40
    assert [r.status for r in tableau_server.log].count(401) == 2
    assert sign_ins(tableau_server) == 4


@pytest.mark.simulated
def test_rest_token_refused_again_fails_cleanly(work, tableau_server, tableau_estate, pat):
    """Simulates a token that expires mid-walk and a server that refuses the fresh one too:
    the ATTACH fails with one line without the secret, and leaves nothing in the workspace."""
    sign_in = tableau_server.sign_in

    def and_refuse_the_next(body):
        answer = sign_in(body)
        tableau_server.token_budget = 0  # later sessions are refused at their first request
        return answer

    tableau_server.token_budget = 5
    tableau_server.sign_in = and_refuse_the_next
    with pytest.raises(HydraError) as caught:
        rest_attach(work, tableau_server, "")
    text = str(caught.value)
    assert "\n" not in text and tableau_estate.token_secret not in text
    assert text.startswith("tab: Tableau session on ") and "expired while reading" in text
    assert "refused again after a fresh sign-in" in text
    assert sign_ins(tableau_server) == 2
    assert work.query("SELECT count(*) FROM sources") == [(0,)]
    assert leftovers(work) == []


@pytest.mark.simulated
def test_rest_bad_inputs_are_one_line_without_secrets(work, tableau_server, tableau_estate,
                                                      monkeypatch):
    """Simulates the REST API: a wrong token, an unknown site, an unset variable, and a
    server that is not there (a closed port) are each one line naming what to fix."""
    import socket

    monkeypatch.setenv(SECRET_ENV, "wrong-secret-123")
    with pytest.raises(HydraError) as wrong:
        rest_attach(work, tableau_server, "")
    assert str(wrong.value) == (
        f"tab: Tableau refused the sign-in of token 'hydra' to {tableau_server.url} (Default "
        "site) (401001): wrong, expired or revoked credentials, or no such site")
    monkeypatch.setenv(SECRET_ENV, tableau_estate.token_secret)
    with pytest.raises(HydraError) as unknown:
        rest_attach(work, tableau_server, "marketing")
    assert str(unknown.value) == (
        f"tab: Tableau site 'marketing' does not exist on {tableau_server.url} or token 'hydra' "
        "is not a member (sites it reaches: '', 'finance')")
    monkeypatch.delenv(SECRET_ENV)
    with pytest.raises(HydraError, match=f"^tab: environment variable {SECRET_ENV} \\(named by "
                                         "TOKEN_ENV\\) is not set$"):
        rest_attach(work, tableau_server, "")
    monkeypatch.setenv(SECRET_ENV, tableau_estate.token_secret)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(HydraError) as gone:
        work.execute(f"ATTACH 'tableau+http://127.0.0.1:{port}' AS tab (TOKEN_NAME 'hydra', "
                     f"TOKEN_ENV '{SECRET_ENV}')")
    assert str(gone.value) == (f"tab: cannot reach Tableau Server at http://127.0.0.1:{port}: "
                               "connection refused")
    with pytest.raises(HydraError, match="^tab: Tableau REST needs TOKEN_NAME with TOKEN_ENV"):
        work.execute(f"ATTACH 'tableau+{tableau_server.url}' AS tab")
    assert work.query("SELECT count(*) FROM sources") == [(0,)]


# --- the repository ------------------------------------------------------------------------------


def repo_uri(repository, role: str) -> str:
    return "tableau+" + repository.url(role)


def test_repository_readonly_fills_the_tables_and_extracts(work, tableau_repository,
                                                           tableau_estate, tmp_path):
    """The repository on the real PostgreSQL as its 'readonly' user: every table and view is
    an element, none unreadable; the tables are filled via 'repository' (connections with
    their dbname); repository tables EXTRACT and RECONCILE through the SQL head."""
    repo = tableau_repository
    result = work.execute(f"ATTACH '{repo_uri(repo, repo.readonly_role)}' AS tab")
    assert "\nnote:" not in result.message
    refs = {ref: error for ref, error in work.query(
        "SELECT ref, error FROM elements WHERE source = 'tab'")}
    assert "tab.public.workbooks" in refs and "tab.public._workbooks" in refs
    assert not any(refs.values())
    rows = work.query("SELECT owner_name, dbclass, server, dbname, via FROM tableau_connections "
                      "WHERE dbclass = 'postgres' ORDER BY owner_name")
    assert ("Orders", "postgres", "db.client.local", "crm", "repository") in rows
    assert len(work.query("SELECT * FROM tableau_connections")) == len(tableau_estate.connections())
    assert work.query("SELECT count(*) FROM tableau_events WHERE event_type = 'Login'") == [(2,)]
    work.execute("MARK tab.public.workbooks, tab.public.data_connections")
    done = work.execute(f"EXTRACT MARKED TO '{tmp_path / 'out'}'")
    assert {r[1] for r in done.rows} == {"done"}
    assert work.execute("RECONCILE LAST").message.endswith("all passed")


def test_repository_tableau_user_lists_the_unreadable_with_the_reason(work, tableau_repository):
    """The 'tableau' user reads only the _* views: the ATTACH succeeds, says so in one line, and
    each base table is listed with the reason in elements.error."""
    repo = tableau_repository
    result = work.execute(f"ATTACH '{repo_uri(repo, repo.tableau_role)}' AS tab")
    head, note = result.message.split("\nnote: ")
    assert "\n" not in note
    assert note.startswith(f"repository user '{repo.tableau_role}' cannot read ")
    errors = dict(work.query("SELECT name, error FROM elements WHERE source = 'tab'"))
    assert errors["_workbooks"] is None
    assert errors["workbooks"].startswith("permission denied: the repository's 'tableau' user")
    assert work.query("SELECT DISTINCT via FROM tableau_workbooks") == [("repository",)]
    assert work.execute("SELECT count(*) FROM tab.public._workbooks").rows[0][0] == 12
    with pytest.raises(HydraError, match="permission denied"):
        work.execute("SELECT count(*) FROM tab.public.workbooks")


def test_repository_not_enabled_says_how_to_enable_it(work):
    """Nothing listens on the port (repository access is off): one line naming the tsm
    command, without the password."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(HydraError) as caught:
        work.execute(f"ATTACH 'tableau+postgresql://readonly:Sekr3t-pw@127.0.0.1:{port}/"
                     "workgroup' AS tab")
    text = str(caught.value)
    assert text.startswith(f"tab: cannot connect to the Tableau repository at 127.0.0.1:{port}: "
                           "connection refused; repository access is off")
    assert "tsm data-access repository-access enable" in text
    assert "Sekr3t" not in text and "\n" not in text


@pytest.mark.simulated
def test_both_paths_rest_completed_from_the_repository(work, tableau_server, tableau_repository,
                                                       tableau_estate, pat):
    """Simulates the REST API, with the repository on the real PostgreSQL: content rows come
    from REST completed by the repository (dbname, repository ids), history from the
    repository; with SITE 'finance' the repository's other site is left out."""
    repo = tableau_repository
    rest_attach(work, tableau_server, "finance", f", REPOSITORY '{repo.readonly_url}'")
    rows = work.query("SELECT owner_name, dbname, repository_id IS NOT NULL, via "
                      "FROM tableau_connections WHERE dbclass = 'snowflake'")
    assert rows == [("Ledger", "FINANCE", True, "rest+repository")]
    assert work.query("SELECT DISTINCT site, via FROM tableau_extract_refreshes") == [
        ("finance", "repository")]
    assert work.query("SELECT DISTINCT site FROM tableau_events") == [("finance",)]
    kinds = dict(work.query("SELECT kind, count(*) FROM elements GROUP BY kind"))
    assert kinds["extract"] == 5 and kinds["table"] > 100
    assert work.execute("SELECT count(*) FROM tab.public.sites").rows[0][0] == 2
    assert work.execute('SELECT count(*) FROM tab."finance/datasources/Ledger".'
                        '"Reference.Accounts"').rows[0][0] == 6


# --- a big extract -------------------------------------------------------------------------------

_BIG = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from hydra.statements.workspace import Workspace

    url, folder, secret_env = sys.argv[1:4]
    folder = Path(folder)

    def status(key):  # kB, from the kernel's own accounting
        for line in open("/proc/self/status"):
            if line.startswith(key):
                return int(line.split()[1])

    ws = Workspace.open(str(folder / "ws.duckdb"))
    ws.execute(f"ATTACH 'tableau+{url}' AS tab (TOKEN_NAME 'hydra', TOKEN_ENV '{secret_env}')")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the peak (VmHWM) to the current resident size
    before = status("VmRSS:")
    extract = ws.execute(f"EXTRACT {sys.argv[4]} TO '{folder / 'out'}'")
    reconcile = ws.execute("RECONCILE LAST")
    peak = status("VmHWM:")
    checks = ws.query("SELECT check_name, source_value, target_value, status FROM reconciliations")
    left = sorted(p.name for p in folder.iterdir()
                  if p.name not in ("out", "ws.duckdb", "ws.duckdb.wal"))
    ws.close()
    print(json.dumps({"extract": [list(r) for r in extract.rows], "reconcile": reconcile.message,
                      "checks": checks, "growth_kb": peak - before, "left": left}, default=str))
""")


@pytest.mark.simulated
@pytest.mark.slow
def test_million_row_extract_to_parquet_and_reconcile_in_bounded_memory(
        tableau_server, tableau_estate, pat, tmp_path):
    """Simulates the REST API serving a .tdsx that holds a 1M-row .hyper (built with the Hyper
    API). In a process of its own: ATTACH, EXTRACT the extract table to Parquet, RECONCILE
    against Hyper's own figures: every check passes, the process grows by a bounded amount
    (the Arrow data alone is about 57 MB), and no download is left in the folder."""
    from fakes.tableau import hyper as build

    source = tmp_path / "src"
    source.mkdir()
    package = build.package_for("Big", source / "Big.tdsx",
                                build.big_extract(source / "Extract.hyper", 1_000_000))
    tableau_server.set_content(tableau_estate.datasource("Orders").luid, package)
    work = tmp_path / "work"
    work.mkdir()
    out = subprocess.run(
        [sys.executable, "-c", _BIG, tableau_server.url, str(work), SECRET_ENV, ORDERS],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])})
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout)
    done = next(r for r in result["extract"] if r[0] == ORDERS)
    assert done[1] == "done", result["extract"]
    assert result["reconcile"].endswith("all passed"), result
    checks = {name: (source_value, status) for name, source_value, _, status in result["checks"]}
    assert checks["row_count"] == ("1000000", "pass")
    assert checks["sum(id)"] == ("500000500000", "pass")
    assert result["left"] == []
    # measured (load 12): EXTRACT + RECONCILE grow the process by ~115 MB at 1M rows and ~165 MB
    # at 3M, most of it EXTRACT's own buffers (bench_extract_memory: 570 MiB for 4 GiB); the
    # reader's own bound (a stream, not the table whole) is test_tableau_protocol's million test
    assert result["growth_kb"] < 200 * 1024, result["growth_kb"]


@pytest.mark.simulated
def test_a_download_shows_its_size_first_at_a_terminal(work, tableau_server, pat, monkeypatch):
    """Simulates the REST API. At a terminal, each download is announced with its size
    before it starts (scripts and pipes get no such line)."""
    import io

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    rest_attach(work, tableau_server, "", ", EXTRACTS false")
    assert not any(kind == "extract" for kind, _, _ in catalog(work).values())
    work.execute("DETACH tab")
    screen = Terminal()
    monkeypatch.setattr("sys.stderr", screen)
    rest_attach(work, tableau_server, "")
    size = tableau_server.content_path(
        next(d for d in tableau_server.estate.datasources if d.name == "Orders"), True
    ).stat().st_size
    assert f"tab: downloading Orders.tdsx ({size / 1024:.1f} KB)\n" in screen.getvalue()


@pytest.mark.simulated
def test_a_reopened_workspace_reads_from_the_catalog_and_refresh_walks_again(
        tmp_path, tableau_server, tableau_repository, pat):
    """Simulates the REST API, with the repository on the real PostgreSQL: after the workspace
    is closed and opened again, extract tables, view data and repository tables read from what
    the catalog kept; REFRESH walks the server again."""
    from hydra.statements.workspace import Workspace

    path = str(tmp_path / "ws.duckdb")
    ws = Workspace.open(path)
    rest_attach(ws, tableau_server, "", f", REPOSITORY '{tableau_repository.readonly_url}'")
    before = ws.query("SELECT count(*) FROM elements")
    ws.close()
    ws = Workspace.open(path)
    try:
        assert ws.execute(f"SELECT count(*) FROM {ORDERS}").rows[0][0] == 40
        assert ws.execute('SELECT count(*) FROM tab."default/views/Pipeline"."Pipeline"'
                          ).rows[0][0] == 6
        assert ws.execute("SELECT count(*) FROM tab.public.views").rows[0][0] > 0
        signed = sign_ins(tableau_server)
        ws.execute("REFRESH tab")
        assert sign_ins(tableau_server) == signed + 1
        assert ws.query("SELECT count(*) FROM elements") == before
    finally:
        ws.close()


@pytest.mark.simulated
def test_no_secret_reaches_the_workspace(tmp_path, tableau_server, tableau_repository,
                                         tableau_estate, pat):
    """Simulates the REST API, with the repository on the real PostgreSQL (trust: any password
    passes): the token's secret and the repository's literal password are in no table of the
    workspace nor in its file; reopened, the source says how to give the password."""
    from hydra.statements.workspace import Workspace

    password = "Repo-Sekr3t-77"
    url = tableau_repository.readonly_url.replace("@", f":{password}@", 1)
    path = tmp_path / "ws.duckdb"
    ws = Workspace.open(str(path))
    rest_attach(ws, tableau_server, "", f", REPOSITORY '{url}'")
    stored = ws.query("SELECT uri, options::VARCHAR FROM sources")
    ws.close()
    assert password not in str(stored) and "***" in str(stored)
    data = path.read_bytes()
    assert password.encode() not in data and tableau_estate.token_secret.encode() not in data
    ws = Workspace.open(str(path))
    try:
        with pytest.raises(HydraError, match=r"^tab: the repository's password was not "
                                             r"stored.*\$\{ENV_VAR\}"):
            ws.execute("SELECT count(*) FROM tab.public.sites")
    finally:
        ws.close()


@pytest.mark.simulated
def test_filters_and_limits_on_an_extract_run_in_hyper(work, tableau_server, pat):
    """Simulates the REST API. The comparisons Hyper makes as DuckDB does are pushed into
    Hyper's query (the head's read returns only the rows asked for); the others are not
    accepted, and DuckDB applies them; the query's answer is the same either way."""
    from hydra.core.quals import parse

    rest_attach(work, tableau_server, "")
    head = work.head("tab")
    orders = work.elements("tab")[("default/datasources/Orders", "Extract.Extract")]
    accepted = parse("order_id > 30 AND region IN ('North', 'East') AND order_date "
                     ">= DATE '2024-01-01' AND shipped_at IS NOT NULL AND discount < 0.35")
    assert all(head.can_filter(orders, q) for q in accepted)
    refused = parse("region > 'M' OR customer LIKE 'C1%'") + parse("paid_at > TIMESTAMP "
                                                                   "'2024-01-01 00:00:00'")
    assert not any(head.can_filter(orders, q) for q in refused)
    assert not head.can_filter(orders, parse("location = 'POINT(1 1)'")[0])
    got = head.read(orders, ["order_id", "region"], accepted).read_all().to_pydict()
    # g 31..40: region North/East at 31, 33, 36, 38; discount NULL at 33, 36, 39 and >= 0.35
    # from 35; shipped_at NULL at 32, 36, 40
    assert got == {"order_id": [31], "region": ["North"]}
    assert head.read(orders, ["order_id"], parse("order_id > 30"), limit=2).read_all(
        ).num_rows == 2
    rows = work.execute(f"SELECT order_id FROM {ORDERS} WHERE order_id > 30 AND region > 'M' "
                        "ORDER BY 1").rows
    assert [r[0] for r in rows] == [31, 32, 34, 36, 37, 39]
