"""ATTACH options as heads declare them (hydra/core/options.py): the core reads each value as its
declared type and refuses a bad one in one line, before any head is made."""

from __future__ import annotations

import pytest

from hydra.core.options import Option, OptionError, check

DECLARED = (
    Option("WORKERS", int, minimum=1, help="at once"),
    Option("SKIP", int, help="lines skipped"),
    Option("API", str, choices=("das", "rest")),
    Option("STRICT", bool),
)


@pytest.mark.parametrize("name, text, value", [
    ("WORKERS", "3", 3), ("WORKERS", " 1 ", 1), ("SKIP", "-2", -2), ("SKIP", 0, 0),
    ("API", "REST", "REST"), ("STRICT", "yes", True), ("STRICT", "off", False),
])
def test_values_are_read_as_their_type(name, text, value):
    option = {o.name: o for o in DECLARED}[name]
    assert option.parse(text) == value and type(option.parse(text)) is type(value)


@pytest.mark.parametrize("options, message", [
    ({"WORKERS": "0"}, "WORKERS must be at least 1, not 0"),
    ({"WORKERS": "-3"}, "WORKERS must be at least 1, not -3"),
    ({"WORKERS": "many"}, "WORKERS must be a whole number, not 'many'"),
    ({"WORKERS": "2.5"}, "WORKERS must be a whole number, not '2.5'"),
    ({"API": "soap"}, "API must be das or rest, not 'soap'"),
    ({"STRICT": "maybe"}, "STRICT must be true or false, not 'maybe'"),
    ({"COLOUR": "red"}, "unknown option COLOUR for a notes source; accepted: API, SKIP, STRICT, "
                        "WORKERS"),
])
def test_a_bad_value_is_one_line(options, message):
    with pytest.raises(OptionError) as err:
        check(options, DECLARED, "notes")
    assert str(err.value) == message


def test_usage_shows_the_type():
    assert [o.usage() for o in DECLARED] == ["WORKERS n", "SKIP n", "API 'das|rest'",
                                             "STRICT true|false"]
