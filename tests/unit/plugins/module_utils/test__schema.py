# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The declarative leaf schema: checks and documentation tables from one Field."""

from __future__ import annotations

import re

import pytest

from ansible_collections.anycast.fabric.plugins.module_utils._schema import (
    HIDDEN,
    NO_DEFAULT,
    REQUIRED,
    Field,
    Table,
    check,
    default_value,
    markdown,
)

TIMER = Field("hold", "integer", "a timer", default=9, min=3, max=65535, unit="s")
KEY = Field("password", "string", "a key", default=None, nullable=True, secret=True, min_length=1, max_length=8, length_unit="bytes", charset="word")
MODE = Field("mode", "string", "a mode", default="a", choices=("a", "b"))
PAIR = Field("pair", "list", "two timers", default=[1, 30], items=Field("s", "integer", min=1, max=60, unit="s"), length=2)
LABEL = Field("label", "string", "a label", pattern=re.compile(r"[a-z]{1,4}"), rule="1-4 lowercase letters")


@pytest.mark.parametrize(
    "value, expected",
    [(3, 3), (65535, 65535), ("42", 42), ("0042", 42)],
)
def test_integer_accepts_numbers_and_digit_strings(value, expected):
    assert check(TIMER, value) == (expected, [])


@pytest.mark.parametrize("value", [2, 65536, True, False, None, 9.0, "-5", "9 ", "²", "9" * 21, [9]])
def test_integer_refusals_keep_the_reports_wording(value):
    assert check(TIMER, value) == (None, [("", value, "must be an integer from 3 to 65535 seconds")])


def test_a_long_digit_string_is_refused_before_int_runs():
    value = "9" * 5000  # int() of more than 4,300 digits raises
    assert check(TIMER, value)[1][0][2].startswith("must be an integer")


def test_boolean():
    flag = Field("bfd", "boolean", default=True)
    assert check(flag, False) == (False, [])
    assert check(flag, "on") == (None, [("", "on", "must be true or false")])
    assert check(flag, 1) == (None, [("", 1, "must be true or false")])


def test_choices_refuse_other_values_and_unhashable_ones():
    assert check(MODE, "b") == ("b", [])
    for value in ("c", None, ["a"], {"a": 1}):
        assert check(MODE, value) == (None, [("", value, "must be one of: a, b")])


def test_a_secret_is_never_echoed_and_counts_bytes():
    assert check(KEY, "s3cr3t") == ("s3cr3t", [])
    assert check(KEY, None) == (None, [])
    reason = "must be 1-8 bytes (UTF-8) of printable characters without spaces, quotes or backslashes"
    for value in ("", "has space", "quo'te", "back\\slash", "tab\t", "ééééé", "123456789", 12345):
        assert check(KEY, value) == (None, [("", HIDDEN, reason)]), value


def test_pattern_fullmatch_refuses_a_trailing_newline():
    assert check(LABEL, "abc") == ("abc", [])
    assert check(LABEL, "abc\n") == (None, [("", "abc\n", "must be 1-4 lowercase letters")])


def test_list_items_are_reported_with_their_index():
    assert check(PAIR, ["1", 30]) == ([1, 30], [])
    assert check(PAIR, [0, 61]) == (None, [("[0]", 0, "must be an integer from 1 to 60 seconds"), ("[1]", 61, "must be an integer from 1 to 60 seconds")])
    assert check(PAIR, [1]) == (None, [("", [1], "must be a list of 2 items")])
    custom = Field("pair", "list", items=PAIR.items, length=2, message="must be [min, max]")
    assert check(custom, "1,30") == (None, [("", "1,30", "must be [min, max]")])


def test_declarations_are_checked_when_made():
    with pytest.raises(ValueError):
        Field("x", "float")
    with pytest.raises(ValueError):
        Field("x", "integer", min=1)
    with pytest.raises(ValueError):
        Field("x", "integer", min=1, max=2, unit="hours")
    with pytest.raises(ValueError):
        Field("x", "string", charset="ascii")
    with pytest.raises(ValueError):
        Table("t", [TIMER], columns=("colour",))
    with pytest.raises(ValueError):
        check(Field("a", "address"), "10.0.0.1")  # read by the controller's Reader
    with pytest.raises(ValueError):
        check(Field("a", "list", items=Field("p", "prefix")), ["10.0.0.0/8"])


def test_defaults():
    table = Table("t", [TIMER, KEY, PAIR, Field("r", "integer", min=1, max=2, default=REQUIRED), Field("o", "name")])
    assert table.defaults() == {"hold": 9, "password": None, "pair": [1, 30]}
    assert table.defaults()["pair"] is not PAIR.default  # a copy: callers may change it
    assert default_value(table.field("r")) is None and table.field("r").required
    assert table.field("o").default is NO_DEFAULT


def test_markdown_table():
    table = Table("t", [TIMER, KEY, MODE, PAIR, Field("p", "string", "a | b", choices=("x", "y", "z"))])
    lines = markdown(table)
    assert lines[0] == "| Key | Type | Default | Restrictions | Description |"
    assert lines[1] == "|---|---|---|---|---|"
    assert lines[2] == "| `hold` | integer | `9` | 3-65535 s | a timer |"
    assert lines[3].startswith("| `password` | string or `null` | `null` | 1-8 bytes (UTF-8); printable characters without spaces")
    assert "secret" in lines[3]
    assert lines[4] == "| `mode` | `a` or `b` | `a` |  | a mode |"
    assert lines[5] == "| `pair` | list of 2 integers | `[1, 30]` | 1-60 s | two timers |"
    assert lines[6] == "| `p` | one of `x`, `y`, `z` | none |  | a \\| b |"
    assert len(lines) == 7
