"""The Tableau simulations follow their reference (``shared/reference/tableau/``).

Simulated: Tableau Server's REST API (``fakes.tableau.rest``), checked against the published XSD
and driven by tableauserverclient itself; and Tableau's repository (``fakes.tableau.repository``),
checked column for column against the data dictionary on the real PostgreSQL.
"""

from __future__ import annotations

import io
import tracemalloc
import zipfile

import pytest

from fakes.tableau.repository import is_view, load_dictionary, reference

pytest_plugins = ["fakes.tableau.fixtures"]
pytestmark = pytest.mark.simulated
NS = "{http://tableau.com/api}"


@pytest.fixture(scope="module")
def xsd():
    from lxml import etree

    return etree.XMLSchema(etree.parse(str(reference("ts-api_3_29.xsd"))))


def _api(server, path: str) -> str:
    return f"{server.url}/api/3.29{path}"


def _sign_in(server, estate, site: str = "finance", pat: bool = True):
    import requests
    from lxml import etree

    creds = ({"personalAccessTokenName": estate.token_name,
              "personalAccessTokenSecret": estate.token_secret} if pat
             else {"name": estate.username, "password": estate.password})
    body = (f'<tsRequest><credentials {" ".join(f"{k}={v!r}" for k, v in creds.items())}>'
            f'<site contentUrl="{site}"/></credentials></tsRequest>')
    response = requests.post(_api(server, "/auth/signin"), data=body)
    response.raise_for_status()
    root = etree.fromstring(response.content)
    credentials = root.find(f"{NS}credentials")
    return response, credentials.get("token"), credentials.find(f"{NS}site").get("id")


def _get(server, path: str, token: str | None, **params):
    import requests

    headers = {"X-Tableau-Auth": token} if token else {}
    return requests.get(_api(server, path), headers=headers, params=params)


def test_every_kind_of_rest_response_validates_against_the_xsd(tableau_server, tableau_estate,
                                                              xsd):
    """Each response the simulation gives, success and error, is valid ts-api 3.29 XML."""
    import requests
    from lxml import etree

    e, server = tableau_estate, tableau_server
    ledger, close = e.datasource("Ledger"), e.workbook("Quarterly Close")
    failed_job = next(j for j in e.jobs if j.finish_code == 1)
    signin_password, default_token, default_site = _sign_in(server, e, "", pat=False)
    signin_pat, token, site = _sign_in(server, e, "finance")
    s = f"/sites/{site}"
    responses = {
        "signin with a token": signin_pat,
        "signin with a password": signin_password,
        "sites": _get(server, "/sites", token),
        "projects": _get(server, f"{s}/projects", token),
        "workbooks page": _get(server, f"{s}/workbooks", token, pageSize=3, pageNumber=3),
        "workbook": _get(server, f"{s}/workbooks/{close.luid}", token),
        "workbook views": _get(server, f"{s}/workbooks/{close.luid}/views", token),
        "workbook connections": _get(server, f"{s}/workbooks/{close.luid}/connections", token),
        "datasources": _get(server, f"{s}/datasources", token),
        "datasource": _get(server, f"{s}/datasources/{ledger.luid}", token),
        "datasource connections": _get(server, f"{s}/datasources/{ledger.luid}/connections",
                                       token),
        "views": _get(server, f"{s}/views", token),
        "view": _get(server, f"{s}/views/{close.views[0].luid}", token),
        "users": _get(server, f"{s}/users", token),
        "jobs": _get(server, f"{s}/jobs", token, filter="jobType:eq:refresh_extracts"),
        "job with its error": _get(server, f"/sites/{default_site}/jobs/{failed_job.luid}",
                                   default_token),
        "extract refresh tasks": _get(server, f"{s}/tasks/extractRefreshes", token),
        "error: no token": _get(server, f"{s}/workbooks", None),
        "error: wrong token": _get(server, f"{s}/workbooks", "not-a-token"),
        "error: unknown site": _get(server, "/sites/00000000-0000-0000-0000-000000000000/views",
                                    token),
        "error: page size": _get(server, f"{s}/workbooks", token, pageSize=5000),
        "error: unknown workbook": _get(server, f"{s}/workbooks/{ledger.luid}", token),
        "error: a write": requests.delete(_api(server, f"{s}/workbooks/{close.luid}"),
                                          headers={"X-Tableau-Auth": token}),
        "error: sign-in refused": requests.post(
            _api(server, "/auth/signin"),
            data='<tsRequest><credentials personalAccessTokenName="hydra" '
                 'personalAccessTokenSecret="wrong"><site contentUrl=""/></credentials>'
                 '</tsRequest>'),
    }
    server.expire_tokens(after=0)
    responses["error: expired token"] = _get(server, f"{s}/workbooks", token)
    invalid = {}
    for kind, response in responses.items():
        assert response.headers["Content-Type"].startswith("application/xml"), kind
        doc = etree.fromstring(response.content)
        if not xsd.validate(doc):
            invalid[kind] = str(xsd.error_log.last_error)
        error = doc.find(f"{NS}error")
        if kind.startswith("error"):
            assert error is not None and response.status_code == int(error.get("code")[:3]), kind
        else:
            assert error is None and response.status_code == 200, kind
    assert invalid == {}
    codes = {k: etree.fromstring(r.content).find(f"{NS}error").get("code")
             for k, r in responses.items() if k.startswith("error")}
    assert codes["error: expired token"] == "401002"
    assert codes["error: no token"] == "401000"
    assert codes["error: sign-in refused"] == codes["error: wrong token"][:5] + "1"  # 401001


def test_server_info_deviates_from_the_xsd_only_in_the_api_version(tableau_server, xsd):
    """serverInfo is valid except restApiVersion: real servers send '3.29' there (clients put it
    in their URLs), which the XSD's build-number pattern does not accept."""
    import requests
    from lxml import etree

    doc = etree.fromstring(requests.get(_api(tableau_server, "/serverInfo")).content)
    assert doc.findtext(f"{NS}serverInfo/{NS}restApiVersion") == "3.29"
    assert not xsd.validate(doc)
    errors = [(err.message) for err in xsd.error_log]
    assert len(errors) == 1 and "restApiVersion" in errors[0] and "'3.29'" in errors[0]
    doc.find(f"{NS}serverInfo/{NS}restApiVersion").text = "20262.26.0410.1234"
    assert xsd.validate(doc), xsd.error_log


@pytest.mark.parametrize("size", [2, 3, 5])
def test_pages_that_do_not_divide_the_total(tableau_server, tableau_estate, size):
    """Finance has 7 workbooks: every page carries <pagination>, the last one is short, and the
    pages together are every workbook once."""
    from lxml import etree

    _, token, site = _sign_in(tableau_server, tableau_estate, "finance")
    seen, number = [], 1
    while True:
        doc = etree.fromstring(_get(tableau_server, f"/sites/{site}/workbooks", token,
                                    pageSize=size, pageNumber=number).content)
        pagination = doc.find(f"{NS}pagination")
        assert (pagination.get("pageSize"), pagination.get("totalAvailable")) == (str(size), "7")
        names = [w.get("name") for w in doc.iter(f"{NS}workbook")]
        seen += names
        if number * size >= 7:
            assert len(names) == 7 - (number - 1) * size
            break
        assert len(names) == size
        number += 1
    finance = tableau_estate.site("finance")
    assert seen == [w.name for w in tableau_estate.on(finance, tableau_estate.workbooks)]


def test_tableauserverclient_walks_the_simulation_end_to_end(tableau_server, tableau_estate,
                                                             tmp_path):
    """tableauserverclient itself signs in with a token, lists sites, pages over workbooks,
    populates views and connections, downloads a .twbx whose .hyper opens, reads a view's
    data, signs out; after sign-in it sent only GETs (and the sign-out)."""
    import tableauserverclient as TSC
    from tableauhyperapi import Connection, HyperProcess, Telemetry

    e = tableau_estate
    server = TSC.Server(tableau_server.url, use_server_version=True)
    auth = TSC.PersonalAccessTokenAuth(e.token_name, e.token_secret, site_id="finance")
    with server.auth.sign_in(auth):
        assert server.version == "3.29"
        assert [s.content_url for s in TSC.Pager(server.sites)] == ["", "finance"]
        workbooks = list(TSC.Pager(server.workbooks, TSC.RequestOptions(pagesize=2)))
        assert len(workbooks) == 7
        close = next(w for w in workbooks if w.name == "Quarterly Close")
        server.workbooks.populate_views(close)
        server.workbooks.populate_connections(close)
        assert [v.name for v in close.views] == ["Close", "Accruals"]
        assert {(c.connection_type, c.datasource_name) for c in close.connections} == {
            ("sqlproxy", "Ledger"), ("hyper", None)}
        ledger = next(d for d in TSC.Pager(server.datasources) if d.name == "Ledger")
        server.datasources.populate_connections(ledger)
        assert [(c.connection_type, c.server_address, c.server_port, c.embed_password)
                for c in ledger.connections] == [
            ("snowflake", "client.snowflakecomputing.com", "443", False)]
        path = server.workbooks.download(close.id, str(tmp_path))
        view = close.views[0]
        server.views.populate_csv(view)
        assert b"".join(view.csv).startswith(b"Region,Category,Sales,Quantity\n")
    with zipfile.ZipFile(path) as z:
        assert sorted(z.namelist()) == ["Data/Extracts/Quarterly Close.hyper",
                                        "QuarterlyClose.twb"]
        z.extract("Data/Extracts/Quarterly Close.hyper", tmp_path)
    with HyperProcess(Telemetry.DO_NOT_SEND_USAGE_DATA_TO_TABLEAU,
                      parameters={"log_config": ""}) as hp, \
            Connection(hp.endpoint, str(tmp_path / "Data/Extracts/Quarterly Close.hyper")) as c:
        assert c.execute_scalar_query('SELECT count(*) FROM "Extract"."Ledger"') == 10
    after = tableau_server.requests_after_sign_in()
    assert {r.method for r in after[:-1]} == {"GET"}
    assert (after[-1].method, after[-1].path) == ("POST", "/auth/signout")


def test_one_site_per_sign_in_with_a_password(tableau_server, tableau_estate):
    """A user/password sign-in reaches its one site; its token does not open the other site."""
    e = tableau_estate
    _, token, site = _sign_in(tableau_server, e, "", pat=False)
    assert site == e.site("").luid
    from lxml import etree

    doc = etree.fromstring(_get(tableau_server, f"/sites/{site}/workbooks", token).content)
    assert doc.find(f"{NS}pagination").get("totalAvailable") == "5"
    other = _get(tableau_server, f"/sites/{e.site('finance').luid}/workbooks", token)
    assert other.status_code == 403


def test_a_personal_access_token_holds_one_session(tableau_server, tableau_estate):
    """Signing in again with the same token ends its first session (401002); a password
    session is not touched."""
    e, server = tableau_estate, tableau_server
    _, by_password, default = _sign_in(server, e, "", pat=False)
    _, first, finance = _sign_in(server, e, "finance")
    _, second, _ = _sign_in(server, e, "")
    assert _get(server, f"/sites/{finance}/projects", first).status_code == 401
    assert _get(server, f"/sites/{default}/projects", second).status_code == 200
    assert _get(server, f"/sites/{default}/projects", by_password).status_code == 200


def test_tokens_expire_mid_walk(tableau_server, tableau_estate):
    """``expire_tokens(after=n)`` lets n more requests through, then answers 401002; a new
    sign-in works again unless ``every_sign_in`` is set."""
    from lxml import etree

    e, server = tableau_estate, tableau_server
    _, token, site = _sign_in(server, e)
    server.expire_tokens(after=2)
    statuses = [_get(server, f"/sites/{site}/projects", token).status_code for _ in range(3)]
    assert statuses == [200, 200, 401]
    error = etree.fromstring(_get(server, f"/sites/{site}/projects", token).content)
    assert error.find(f"{NS}error").get("code") == "401002"
    _, fresh, _ = _sign_in(server, e)
    assert _get(server, f"/sites/{site}/projects", fresh).status_code == 200
    server.expire_tokens(after=1, every_sign_in=True)
    _, doomed, _ = _sign_in(server, e)
    assert [_get(server, f"/sites/{site}/users", doomed).status_code for _ in range(2)] == [200,
                                                                                          401]


def test_content_is_streamed_from_disk(tableau_server, tableau_estate, tmp_path):
    """A 48 MiB content file is served in pieces: the server thread never holds it whole."""
    import requests

    e = tableau_estate
    big = tmp_path / "Big.tdsx"
    with big.open("wb") as f:
        for _ in range(48):
            f.write(b"\x5a" * (1 << 20))
    orders = e.datasource("Orders")
    tableau_server.set_content(orders.luid, big)
    _, token, site = _sign_in(tableau_server, e, "")
    tracemalloc.start()
    try:
        with requests.get(_api(tableau_server, f"/sites/{site}/datasources/{orders.luid}/content"),
                          headers={"X-Tableau-Auth": token}, stream=True) as response:
            assert int(response.headers["Content-Length"]) == 48 << 20
            assert 'filename="Big.tdsx"' in response.headers["Content-Disposition"]
            received = sum(len(chunk) for chunk in response.iter_content(1 << 16))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert received == 48 << 20
    assert peak < 12 << 20, f"peak {peak >> 20} MiB while serving 48 MiB"


def test_content_without_its_extract_and_view_data(tableau_server, tableau_estate):
    """``?includeExtract=False`` leaves Data/Extracts out; a view's data is CSV filtered by
    ``vf_<field>``."""
    e = tableau_estate
    orders = e.datasource("Orders")
    _, token, site = _sign_in(tableau_server, e, "")
    full = _get(tableau_server, f"/sites/{site}/datasources/{orders.luid}/content", token)
    bare = _get(tableau_server, f"/sites/{site}/datasources/{orders.luid}/content", token,
                includeExtract="False")
    assert zipfile.ZipFile(io.BytesIO(full.content)).namelist() == [
        "Orders.tds", "Data/Extracts/Orders.hyper"]
    assert zipfile.ZipFile(io.BytesIO(bare.content)).namelist() == ["Orders.tds"]
    view = e.workbook("Regional Sales").views[1]
    csv_text = _get(tableau_server, f"/sites/{site}/views/{view.luid}/data", token,
                    vf_Region="North").text
    lines = csv_text.splitlines()
    assert lines[0] == "Region,Category,Sales,Quantity" and len(lines) == 3
    assert all(line.startswith("North,") for line in lines[1:])


def test_the_repository_matches_the_data_dictionary(tableau_repository):
    """Every documented table and view exists with exactly its columns, in order, and types;
    the ``_*`` entries are views, the rest base tables."""
    import psycopg

    dictionary = load_dictionary()
    with psycopg.connect(tableau_repository.url()) as con:
        rows = con.execute(
            "SELECT c.table_schema || '.' || c.table_name, c.column_name, c.data_type, t.table_type"
            " FROM information_schema.columns c JOIN information_schema.tables t"
            " USING (table_schema, table_name)"
            " WHERE c.table_schema NOT IN ('pg_catalog', 'information_schema')"
            " ORDER BY 1, c.ordinal_position").fetchall()
    found: dict[str, list] = {}
    kinds = {}
    for table, column, data_type, table_type in rows:
        found.setdefault(table, []).append([column, data_type])
        kinds[table] = table_type
    assert found == {name: [[c, t] for c, t, _ in entry["cols"]]
                     for name, entry in dictionary.items()}
    assert {n for n, k in kinds.items() if k == "VIEW"} == {n for n in dictionary if is_view(n)}


def test_repository_roles_read_what_tableau_documents(tableau_repository, tableau_estate):
    """``readonly`` reads every table and view; ``tableau`` reads only the ``_*`` views, whose
    rows agree with the base tables."""
    import psycopg

    dictionary = load_dictionary()
    check = ("SELECT count(*) FILTER (WHERE has_table_privilege(%s, oid, 'SELECT'))"
             " FROM pg_class WHERE oid = ANY(%s::regclass[])")
    names = ['"' + n.replace(".", '"."', 1) + '"' for n in dictionary]
    views = [n for n, name in zip(names, dictionary, strict=True) if is_view(name)]
    with psycopg.connect(tableau_repository.url()) as con:
        assert con.execute(check, (tableau_repository.readonly_role, names)).fetchone()[0] == \
            len(names)
        assert con.execute(check, (tableau_repository.tableau_role, names)).fetchone()[0] == \
            len(views)
        assert con.execute(check, (tableau_repository.tableau_role, views)).fetchone()[0] == \
            len(views)
    with psycopg.connect(tableau_repository.tableau_url) as con:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            con.execute("SELECT 1 FROM public.workbooks")
    with psycopg.connect(tableau_repository.tableau_url) as con:
        got = con.execute("SELECT name, project_name, owner_name, site_id FROM public._workbooks"
                          " ORDER BY id").fetchall()
    assert got == [(w.name, w.project.name, w.owner.system_user.name, w.site.id)
                   for w in tableau_estate.workbooks]
    with psycopg.connect(tableau_repository.readonly_url) as con:
        got = con.execute("SELECT dbclass, server, port, dbname, username, password, has_extract"
                          " FROM public.data_connections ORDER BY id").fetchall()
    assert got == [(c.dbclass, c.server, c.port, c.dbname, c.username, c.embed_password,
                    c.has_extract) for _, c in sorted(tableau_estate.connections(),
                                                     key=lambda oc: oc[1].id)]


def test_hyper_builders(tableau_estate, tmp_path):
    """Extracts have the promised tables, types and NULLs; a legacy .tde is recognisable."""
    from tableauhyperapi import Connection, TableName

    from fakes.tableau import hyper

    e = tableau_estate
    with hyper.hyper_process() as hp:
        orders = hyper.build_hyper(tmp_path / "o.hyper", e.datasource("Orders").extract.tables, hp)
        ledger = hyper.build_hyper(tmp_path / "l.hyper", e.datasource("Ledger").extract.tables, hp)
        big = hyper.big_extract(tmp_path / "b.hyper", 1234, hp)
        with Connection(hp.endpoint, str(orders)) as c:
            table = c.catalog.get_table_definition(TableName("Extract", "Extract"))
            types = {col.type.tag.name for col in table.columns}
            nulls = c.execute_scalar_query('SELECT count(*) - count("region") FROM '
                                           '"Extract"."Extract"')
        with Connection(hp.endpoint, str(ledger)) as c:
            tables = sorted(str(t) for s in c.catalog.get_schema_names()
                            for t in c.catalog.get_table_names(s))
        with Connection(hp.endpoint, str(big)) as c:
            assert c.execute_scalar_query('SELECT count(*) FROM "Extract"."Extract"') == 1234
    assert {"BIG_INT", "TEXT", "INT", "SMALL_INT", "NUMERIC", "DOUBLE", "DATE", "TIMESTAMP",
            "TIMESTAMP_TZ", "BOOL", "TABGEOGRAPHY"} <= types
    assert nulls == 8  # every 5th of 40 rows
    assert tables == ['"Extract"."Ledger"', '"Reference"."Accounts"']
    budget = hyper.build_package(tmp_path / "Budget.tdsx", e.datasource("Legacy Budget"))
    with zipfile.ZipFile(budget) as z:
        assert z.read("Data/Extracts/Budget.tde")[:4] == bytes.fromhex("20020162")
