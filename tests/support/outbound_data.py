"""Test data shared by the PROFILE/EXTRACT/RECONCILE tests."""

import duckdb


def make_client_folder(root, rows=200_000):
    """A client's folder: a 200,000-row CSV and a small one."""
    root.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(f"""COPY (SELECT i AS id, 'name_' || (i % 1000) AS name, round(i * 1.25, 2)::DECIMAL(18,2) AS amount,
                    DATE '2020-01-01' + (i % 700)::INTEGER AS day,
                    CASE WHEN i % 10 = 0 THEN NULL ELSE 'cat' || (i % 7) END AS cat
                    FROM range({rows}) t(i)) TO '{root / "big.csv"}' (HEADER)""")
    con.close()
    (root / "small.csv").write_text("id,name\n1,Ann\n2,\n3,Cy\n")
    return root
