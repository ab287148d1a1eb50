"""The table renderer (and line mode): NULLs, long values, tall and wide results."""

from __future__ import annotations

from decimal import Decimal

from hydra.shell.output import render
from hydra.core.statement import Result


def table(columns, rows, **kwargs):
    return render(Result(columns=columns, rows=rows), "table", **kwargs)


def test_nulls_numbers_and_the_row_count():
    text = table(["id", "name", "price"], [(1, "Ann", Decimal("9.50")), (20, None, None)])
    assert text == (
        "+----+------+-------+\n"
        "| id | name | price |\n"
        "+----+------+-------+\n"
        "|  1 | Ann  |  9.50 |\n"   # numbers align right
        "| 20 | NULL |  NULL |\n"
        "+----+------+-------+\n"
        "2 rows\n")


def test_long_values_are_truncated_and_newlines_escaped():
    text = table(["note"], [("x" * 100,), ("two\nlines",)], max_width=10)
    assert "| xxxxxxxxx… |" in text
    assert "| two\\nlines |" in text
    assert "x" * 11 not in text


def test_tall_results_show_first_and_last_rows_and_say_how_many_were_hidden():
    rows = [(i,) for i in range(1000)]
    text = table(["n"], rows, max_rows=6)
    lines = text.splitlines()
    body = [line for line in lines if line.startswith("|")][1:]  # without the header
    assert body == ["|   0 |", "|   1 |", "|   2 |", "|  …  |", "| 997 |", "| 998 |", "| 999 |"]
    assert lines[-1] == "1,000 rows (6 shown; .maxrows N to see more)"
    assert table(["n"], rows[:6], max_rows=6).splitlines()[-1] == "6 rows"


def test_wide_results_hide_middle_columns_to_fit_the_screen_and_say_which():
    columns = [f"column_{i:02}" for i in range(20)]
    text = table(columns, [tuple(range(20))], screen_width=80)
    lines = text.splitlines()
    assert all(len(line) <= 80 for line in lines[:-1])  # the footer may wrap
    header = lines[1]
    assert header.startswith("| column_00 | column_01 |") and header.endswith("| column_19 |")
    assert "| … |" in header
    shown = header.count("column_")
    assert lines[-1] == (f"1 row ({20 - shown} columns of 20 hidden: column_03, column_04, column_05, "
                         f"column_06, column_07, …; .mode line shows all)")
    # without a screen width (a file, a pipe) nothing is hidden
    assert table(columns, [tuple(range(20))]).count("column_") == 20


def test_a_result_that_fits_is_left_alone():
    text = table(["a", "b"], [(1, 2)], screen_width=80, max_rows=10)
    assert text.splitlines()[-1] == "1 row"
    assert "…" not in text


def test_empty_result():
    assert table(["a"], []) == "+---+\n| a |\n+---+\n+---+\n0 rows\n"


def test_line_mode_shows_every_column_of_every_row():
    text = render(Result(columns=["id", "long_name"], rows=[(1, None), (2, "x")]), "line")
    assert text == "       id = 1\nlong_name = NULL\n\n       id = 2\nlong_name = x\n"


def test_wide_characters_keep_the_columns_aligned():
    text = table(["city", "n"], [("東京", 1), ("Zürich", 2)])
    lines = text.splitlines()[:5]
    assert lines[3] == "| 東京   | 1 |"  # two columns per CJK character
    assert lines[4] == "| Zürich | 2 |"
    clipped = table(["c"], [("日本語テキスト",)], max_width=6)
    assert "| 日本… |" in clipped  # clipped by screen columns, not characters


def test_a_huge_result_in_table_mode_keeps_only_the_rows_it_shows(ws):
    """Table mode streams: 2M rows cost the rows shown, not 2M Python tuples."""
    import io
    import tracemalloc

    from hydra.shell.output import write_result
    from hydra.core.statement import split_statements

    (stmt,) = split_statements("SELECT range AS i, 'row ' || range AS s FROM range(2000000)")
    result = ws.run(stmt, stream=True)
    out = io.StringIO()
    tracemalloc.start()
    try:
        write_result(result, out, "table", max_rows=10)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    text = out.getvalue()
    assert "| row 0 " in text and "| row 1999999 " in text and "row 5 " not in text
    assert text.endswith("2,000,000 rows (10 shown; .maxrows N to see more)\n")
    assert peak < 64 << 20, f"peak {peak >> 20} MiB"
