"""A head that lives outside Hydra, as a fork's or a vendor's would: its own package, its own table
DDL (``tables/demo_things.sql``), registered only through an entry point (see
``tests/heads/test_thirdparty.py``). It serves ``demo://<n>``: one element ``things.t`` of n rows,
and a head table ``demo_things`` listing them."""

from __future__ import annotations

from hydra.heads.base import Column, Element, Head, Option, Qual


class DemoHead(Head):
    kind = "demo"
    schemes = ("demo",)
    tables = ("demo_things",)
    attach_options = (Option("LABEL", str, help="the text of every row's label"),
                      Option("PASSPHRASE", str, secret=True, help="what the demo source is opened with"))

    def open(self):
        passphrase = self.option("PASSPHRASE")
        if passphrase and passphrase.startswith("bad"):  # a careless driver, echoing what it was given
            raise RuntimeError(f"login refused for passphrase {passphrase}")

    def _rows(self) -> int:
        return int(self.uri.split("://", 1)[1] or 3)

    def enumerate(self):
        return [Element(("things", "t"), "table", columns=[Column("id", "BIGINT"), Column("label", "VARCHAR")],
                        row_count=self._rows(), row_count_exact=True)]

    def head_tables(self):
        import pyarrow as pa

        return {"demo_things": pa.table({"id": list(range(1, self._rows() + 1))})}

    def can_filter(self, element: Element, qual: Qual) -> bool:
        return qual.op == "=" and qual.column == "id"

    def read(self, element, columns=None, quals=None, limit=None):
        import pyarrow as pa

        from hydra.core.quals import to_arrow

        label = self.option("LABEL", "thing")
        table = pa.table({"id": pa.array(range(1, self._rows() + 1), pa.int64()),
                          "label": [f"{label} {i}" for i in range(1, self._rows() + 1)]})
        if quals:
            table = table.filter(to_arrow(quals, table.schema))
        return table.select(columns if columns is not None else table.column_names).to_reader()
