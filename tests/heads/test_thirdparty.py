"""A head from a package outside Hydra attaches, fills its own table, and is queried.

The package is ``tests/support/thirdparty_head`` (a head class and ``tables/demo_things.sql``).
It is "installed" the way pip would leave it for ``importlib.metadata``: a ``*.dist-info`` folder
with an ``entry_points.txt`` naming it in the ``hydra.heads`` group, on ``sys.path``.
"""

from __future__ import annotations

import pytest

import hydra.heads.registry


@pytest.fixture
def installed(tmp_path, monkeypatch):
    info = tmp_path / "hydra_demo_head-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: hydra-demo-head\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[hydra.heads]\ndemo = support.thirdparty_head:DemoHead\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    hydra.heads.registry._entry_points.cache_clear()
    hydra.heads.registry.head_class.cache_clear()
    yield
    monkeypatch.undo()
    hydra.heads.registry._entry_points.cache_clear()
    hydra.heads.registry.head_class.cache_clear()


def test_a_third_party_head_attaches_with_its_own_table(installed, ws):
    assert "demo" in hydra.heads.registry.kinds()
    assert ws.execute("ATTACH 'demo://4' AS d (LABEL 'box')").message == "attached d: 1 element"
    assert ws.query("SELECT source, id FROM demo_things ORDER BY id") == [("d", i) for i in range(1, 5)]
    comment = ws.query("SELECT comment FROM duckdb_tables() WHERE table_name = 'demo_things'")
    assert comment == [("Things of attached demo sources (a third-party head's own table)",)]
    assert ws.execute("SELECT id, label FROM d.things.t WHERE id = 2").rows == [(2, "box 2")]
    assert ws.execute("SELECT count(*) FROM d.things.t WHERE id > 1").rows == [(3,)]


def test_its_options_are_checked_and_documented(installed, ws):
    from hydra.core.errors import HydraError

    with pytest.raises(HydraError, match="unknown option COLOUR for a demo source; accepted: LABEL, PASSPHRASE"):
        ws.execute("ATTACH 'demo://2' AS d (COLOUR 'red')")
    assert "TYPE demo (demo://)" in hydra.heads.registry.attach_help()
    assert "LABEL '…'" in hydra.heads.registry.attach_help()


def test_its_secret_option_is_never_stored_nor_shown(installed, ws):
    from hydra.core.errors import HydraError
    from hydra.core.secrets import mask_sql

    ws.execute("ATTACH 'demo://2' AS d (LABEL 'box', PASSPHRASE 'pp-4711')")
    assert ws.query("SELECT options::VARCHAR FROM sources") == [("{LABEL=box, TYPE=demo}",)]
    with pytest.raises(HydraError) as err:
        ws.execute("ATTACH 'demo://2' AS e (PASSPHRASE 'bad-4712')")
    assert "login refused" in str(err.value) and "bad-4712" not in str(err.value)
    assert "pp-4711" not in mask_sql("ATTACH 'demo://2' AS d (LABEL 'box', PASSPHRASE 'pp-4711')")
    assert "[secret: never stored]" in hydra.heads.registry.attach_help()
