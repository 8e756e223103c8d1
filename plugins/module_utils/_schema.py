# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Declarative leaf schema: each input value declared once, as data.

A `Field` says what one inventory value may be (type, range, unit, choices,
character set, length, default, description, secret or not). From the same
declaration:

- `check(field, value)` validates a leaf value and returns the value (normalised:
  digit strings become integers) or the reasons it is refused, worded the way the
  fabric's error reports have always worded them;
- `markdown(table)` writes the documentation table of a `Table` of fields
  (scripts/data-model.py puts those tables into docs/data-model.md).

Standard library only, no Ansible import: it can run on managed hosts too.
Values that need more than a leaf check (IP addresses, prefixes, communities,
cross-field rules) declare their type here for the documentation and are read
by the controller's Reader (plugins/plugin_utils/model/inputs.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from typing import TYPE_CHECKING, Callable, Collection, Dict, Iterable, List, Optional, Sequence, Tuple

if TYPE_CHECKING:  # Python 3.10+: only the checker reads it, managed hosts may run 3.8
    from typing import TypeGuard

# Shown instead of the value of a secret field, valid or not.
HIDDEN = "<hidden>"

# A string of more digits than this is refused before int() runs: no
# digit string, however long, turns into an exception.
MAX_DIGITS = 20
_DIGITS_RE = re.compile(r"[0-9]+")  # str.isdigit() also accepts '²' and other non-ASCII digits

UNITS = {"s": "seconds", "ms": "milliseconds"}

# Leaf types that check() validates itself.
LEAF_TYPES = ("integer", "boolean", "string", "list")
# Types that are only declared here (documentation, dispatch); their reader lives elsewhere.
DECLARED_TYPES = ("name", "address", "interface", "prefix", "community", "mapping", "any")
TYPE_TEXT = {
    "integer": "integer",
    "boolean": "boolean",
    "string": "string",
    "list": "list",
    "name": "name",
    "address": "IP address",
    "interface": "IP address, optional `/len`",
    "prefix": "prefix",
    "community": "community",
    "mapping": "mapping",
    "any": "any",
}


def _word_char(char: str) -> bool:
    return char.isprintable() and not char.isspace() and char not in "\"'\\"


# Character sets a string field may name: a predicate per character and the
# text used in messages and docs.
CHARSETS: Dict[str, Tuple[Callable[[str], bool], str]] = {
    "word": (_word_char, "printable characters without spaces, quotes or backslashes"),
}


# An absolute, normalised POSIX path of safe characters: every component
# 1-255 of letters, digits, '_', '@', '+', '.', '-', never '.' or '..', no
# '//' and no trailing '/'. It may reach a systemd unit line or a module's
# arguments verbatim, so nothing in it can split a line or a word.
ABS_PATH_RE = re.compile(r"(?:/(?!\.\.?(?:/|\Z))[A-Za-z0-9_@+.-]{1,255}){1,32}")
ABS_PATH_RULE = (
    "an absolute, normalised path (no '.', '..', '//' or trailing '/') of letters, digits, '_', '@', '+', '.', '-' and '/'"
)
ABS_PATH_MAX = 1024


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


class _NoDefault:
    def __repr__(self) -> str:
        return "NO_DEFAULT"


REQUIRED = _Required()  # the value must be given
NO_DEFAULT = _NoDefault()  # optional; absent means "not set"


class Field:
    """One input value: a variable, or a key of a mapping.

    name          the variable or key name
    type          one of LEAF_TYPES or DECLARED_TYPES
    description   one line of Markdown for the docs table
    default       the value used when absent, REQUIRED, or NO_DEFAULT
    default_text  the docs' text for the default when it is not a plain value
    min, max      integer range (inclusive); unit: 's' or 'ms' (see UNITS)
    choices       allowed values (strings)
    pattern       a compiled regex the whole string must match (fullmatch)
    rule          the wording of pattern (or of the whole type) in messages and docs
    min_length, max_length, length_unit ('characters' or 'bytes', UTF-8)
    charset       a key of CHARSETS: every character must pass it
    nullable      None (null) is a valid value, kept as None
    secret        never echo the value: errors show HIDDEN
    items         a Field for the items of a list; length: exact list length
    message       the reason given when the value is refused (overrides the generated one)
    restrictions  extra docs text for the Restrictions column (cross-field rules...)
    roles         the roles a per-host variable applies to (docs)
    example       an example value for the docs (Markdown)
    doc_type      the docs' text for the type when the generated one says too little
    """

    __slots__ = (
        "name",
        "type",
        "description",
        "default",
        "default_text",
        "min",
        "max",
        "unit",
        "choices",
        "pattern",
        "rule",
        "min_length",
        "max_length",
        "length_unit",
        "charset",
        "nullable",
        "secret",
        "items",
        "length",
        "message",
        "restrictions",
        "roles",
        "example",
        "doc_type",
    )

    def __init__(
        self,
        name: str,
        type: str,
        description: str = "",
        default: object = NO_DEFAULT,
        default_text: Optional[str] = None,
        min: Optional[int] = None,
        max: Optional[int] = None,
        unit: Optional[str] = None,
        choices: Optional[Iterable[str]] = None,
        pattern: "Optional[re.Pattern[str]]" = None,
        rule: Optional[str] = None,
        min_length: Optional[int] = None,
        max_length: Optional[int] = None,
        length_unit: str = "characters",
        charset: Optional[str] = None,
        nullable: bool = False,
        secret: bool = False,
        items: "Optional[Field]" = None,
        length: Optional[int] = None,
        message: Optional[str] = None,
        restrictions: Optional[str] = None,
        roles: Optional[Iterable[str]] = None,
        example: Optional[str] = None,
        doc_type: Optional[str] = None,
    ) -> None:
        if type not in LEAF_TYPES + DECLARED_TYPES:
            raise ValueError("field %s: unknown type %r" % (name, type))
        if unit is not None and unit not in UNITS:
            raise ValueError("field %s: unknown unit %r" % (name, unit))
        if charset is not None and charset not in CHARSETS:
            raise ValueError("field %s: unknown charset %r" % (name, charset))
        if type == "integer" and (min is None or max is None):
            raise ValueError("field %s: an integer needs min and max" % name)
        self.name = name
        self.type = type
        self.description = description
        self.default = default
        self.default_text = default_text
        self.min = min
        self.max = max
        self.unit = unit
        self.choices = tuple(choices) if choices is not None else None
        self.pattern = pattern
        self.rule = rule
        self.min_length = min_length
        self.max_length = max_length
        self.length_unit = length_unit
        self.charset = charset
        self.nullable = nullable
        self.secret = secret
        self.items = items
        self.length = length
        self.message = message
        self.restrictions = restrictions
        self.roles = tuple(roles) if roles is not None else None
        self.example = example
        self.doc_type = doc_type

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def __repr__(self) -> str:
        return "Field(%r, %r)" % (self.name, self.type)


class Table:
    """A documented group of fields: the keys of one mapping, or a set of variables.

    name      the generator's marker name (docs: `BEGIN generated: NAME`)
    fields    the Field objects, in the order they are documented
    key       the header of the first column ("Variable", "Key")
    columns   which columns follow it, from COLUMNS
    """

    __slots__ = ("name", "fields", "key", "columns")

    def __init__(
        self, name: str, fields: Iterable[Field], key: str = "Key", columns: Iterable[str] = ("type", "default", "restrictions", "description")
    ) -> None:
        for column in columns:
            if column not in COLUMNS:
                raise ValueError("table %s: unknown column %r" % (name, column))
        self.name = name
        self.fields = tuple(fields)
        self.key = key
        self.columns = tuple(columns)

    def field(self, name: str) -> Field:
        for item in self.fields:
            if item.name == name:
                return item
        raise KeyError(name)

    def names(self) -> Tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def defaults(self) -> Dict[str, object]:
        """{name: default} of the fields that have a plain default."""
        return dict((f.name, default_value(f)) for f in self.fields if f.default is not REQUIRED and f.default is not NO_DEFAULT)


def default_value(field: Field) -> object:
    """The value FIELD takes when absent: a copy of its default, or None (REQUIRED, NO_DEFAULT)."""
    if field.default is REQUIRED or field.default is NO_DEFAULT:
        return None
    return list(field.default) if isinstance(field.default, list) else field.default


# Checking ---------------------------------------------------------------------

# What check() reports for one refused value: (suffix, shown value, reason).
Error = Tuple[str, object, str]
# check()'s result: the normalised value (None when refused) and the errors.
Checked = Tuple[object, List[Error]]


def bounds(field: Field) -> Tuple[int, int]:
    """(min, max) of an integer FIELD (Field() refuses an integer without them)."""
    if field.min is None or field.max is None:
        raise ValueError("field %s: an integer needs min and max" % field.name)
    return field.min, field.max


def is_leaf(field: Field) -> bool:
    """Whether check() validates FIELD by itself (lists: when their items are leaves too)."""
    if field.type == "list":
        return field.items is None or is_leaf(field.items)
    return field.type in LEAF_TYPES


def check(field: Field, value: object) -> Checked:
    """Validate VALUE against FIELD (a leaf type).

    Returns (value, errors): the normalised value (None when refused) and a
    list of (suffix, shown, reason), suffix being '' or a sub-path such as
    '[0]', shown the value to report (HIDDEN for a secret field).
    """
    if value is None and field.nullable:
        return None, []
    checker = _CHECKERS.get(field.type)
    if checker is None or not is_leaf(field):
        raise ValueError("field %s: type %s is read by its own reader, not by check()" % (field.name, field.type))
    return checker(field, value)


def _refuse(field: Field, value: object, reason: str, suffix: str = "") -> Checked:
    return None, [(suffix, HIDDEN if field.secret else value, field.message or reason)]


def integer_reason(field: Field) -> str:
    unit = " %s" % UNITS[field.unit] if field.unit else ""
    return "must be an integer from %d to %d%s" % (bounds(field) + (unit,))


def is_int(value: object) -> "TypeGuard[int]":
    # YAML booleans are ints in Python; "true" is never a valid number.
    return isinstance(value, int) and not isinstance(value, bool)


def as_integer(value: object, low: int, high: int) -> Optional[int]:
    """VALUE (an integer, or a string of at most MAX_DIGITS ASCII digits) if it is in [LOW, HIGH], else None."""
    # The length is checked before int() runs: no digit string, however
    # long, turns into an exception instead of a refusal.
    if isinstance(value, str) and len(value) <= MAX_DIGITS and _DIGITS_RE.fullmatch(value):
        value = int(value)
    if not is_int(value) or not low <= value <= high:
        return None
    return value


class Reader:
    """Reads plain values and records why one is refused, as (path, value, reason).

    The one problem reader of the collection: the controller's reader
    (plugins/plugin_utils/model/inputs.Reader: host variables, addresses, secrets)
    and the health agent's (module_utils/_health_spec.Reader) extend it and
    say where a problem goes by defining fail().
    """

    def fail(self, path: str, value: object, message: str) -> None:
        raise NotImplementedError

    def choice(self, path: str, value: object, choices: Sequence[str]) -> Optional[str]:
        # A string is the only thing equal to a string choice.
        if not isinstance(value, str) or value not in choices:
            self.fail(path, value, "must be one of: %s" % ", ".join(choices))
            return None
        return value

    def integer(self, path: str, value: object, low: int, high: int, unit: str = "") -> Optional[int]:
        number = as_integer(value, low, high)
        if number is None:
            self.fail(path, value, "must be an integer from %d to %d%s" % (low, high, unit))
        return number

    def boolean(self, path: str, value: object) -> Optional[bool]:
        if not isinstance(value, bool):
            self.fail(path, value, "must be true or false")
            return None
        return value

    def list_of(self, path: str, value: object) -> List[object]:
        if value is None:
            return []
        if not isinstance(value, (list, tuple)):
            self.fail(path, value, "must be a list")
            return []
        return list(value)

    def dict_of(self, path: str, value: object, allowed: Collection[str]) -> Optional[Dict[object, object]]:
        """A mapping with only known keys (each unknown one is a problem); None when VALUE is no mapping."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(path, value, "must be a mapping" + (" (got a string)" if isinstance(value, str) else ""))
            return None
        for key in value:
            if key not in allowed:
                self.fail("%s.%s" % (path, key), value[key], "is not a known option (known: %s)" % ", ".join(sorted(allowed)))
        return value


def _check_integer(field: Field, value: object) -> Checked:
    low, high = bounds(field)
    number = as_integer(value, low, high)
    if number is None:
        return _refuse(field, value, integer_reason(field))
    return number, []


def _check_boolean(field: Field, value: object) -> Checked:
    if not isinstance(value, bool):
        return _refuse(field, value, "must be true or false")
    return value, []


def string_reason(field: Field) -> str:
    if field.choices is not None:
        return "must be one of: %s" % ", ".join(field.choices)
    if field.rule:
        return "must be %s" % field.rule
    low = field.min_length if field.min_length is not None else 0
    size = "%d-%d" % (low, field.max_length) if field.max_length is not None else "at least %d" % low
    unit = "bytes (UTF-8)" if field.length_unit == "bytes" else "characters"
    chars = " of %s" % CHARSETS[field.charset][1] if field.charset else ""
    return "must be %s %s%s" % (size, unit, chars)


def _length(field: Field, value: str) -> int:
    if field.length_unit == "bytes":
        return len(value.encode("utf-8", "surrogatepass"))
    return len(value)


def _check_string(field: Field, value: object) -> Checked:
    if field.choices is not None:
        # Membership only: a list or mapping is never one of the choices.
        if not isinstance(value, str) or value not in field.choices:
            return _refuse(field, value, string_reason(field))
        return value, []
    if not isinstance(value, str) or not _string_fits(field, value):
        return _refuse(field, value, string_reason(field))
    return value, []


def _string_fits(field: Field, value: str) -> bool:
    """Whether VALUE has FIELD's length, pattern and character set (checked in that order)."""
    if field.min_length is not None and _length(field, value) < field.min_length:
        return False
    if field.max_length is not None and _length(field, value) > field.max_length:
        return False
    if field.pattern is not None and not field.pattern.fullmatch(value):
        return False
    if field.charset is not None:
        allowed = CHARSETS[field.charset][0]
        return all(allowed(c) for c in value)
    return True


def _check_list(field: Field, value: object) -> Checked:
    if not isinstance(value, (list, tuple)) or (field.length is not None and len(value) != field.length):
        return _refuse(field, value, "must be a list" + (" of %d items" % field.length if field.length is not None else ""))
    out: List[object] = []
    errors: List[Error] = []
    for index, item in enumerate(value):
        if field.items is None:
            out.append(item)
            continue
        checked, problems = check(field.items, item)
        errors.extend(("[%d]%s" % (index, suffix), shown, reason) for suffix, shown, reason in problems)
        out.append(checked)
    if errors:
        return None, errors
    return out, []


_CHECKERS: Dict[str, Callable[[Field, object], Checked]] = {"integer": _check_integer, "boolean": _check_boolean, "string": _check_string, "list": _check_list}


# Documentation ------------------------------------------------------------------

COLUMNS = {
    "type": "Type",
    "default": "Default",
    "restrictions": "Restrictions",
    "roles": "Roles",
    "example": "Example",
    "description": "Description",
}


def literal(value: object) -> str:
    """VALUE as YAML-ish inline code: `3`, `true`, `null`, `[1, 30]`, `per_rack`."""
    if value is None:
        return "`null`"
    if isinstance(value, bool):
        return "`%s`" % ("true" if value else "false")
    if isinstance(value, (list, tuple)):
        return "`[%s]`" % ", ".join(literal(v).strip("`") for v in value)
    return "`%s`" % (value,)


def type_text(field: Field) -> str:
    if field.doc_type is not None:
        return field.doc_type
    if field.type == "list" and field.items is not None:
        if field.items.doc_type is not None:
            return "list, items: %s" % field.items.doc_type
        what = _plural(type_text(field.items))
        return "list of %s" % ("%d %s" % (field.length, what) if field.length else what)
    if field.type == "string" and field.choices is not None:
        return " or ".join(literal(c) for c in field.choices) if len(field.choices) <= 2 else "one of " + ", ".join(literal(c) for c in field.choices)
    text = TYPE_TEXT[field.type]
    if field.nullable:
        text += " or `null`"
    return text


def _plural(noun: str) -> str:
    if noun.endswith(("x", "ss")):
        return noun + "es"
    if noun.endswith("y"):
        return noun[:-1] + "ies"
    return noun + "s"


def default_text(field: Field) -> str:
    if field.default_text is not None:
        return field.default_text
    if field.default is REQUIRED:
        return "**required**"
    if field.default is NO_DEFAULT:
        return "none"
    return literal(field.default)


def restrictions_text(field: Field) -> str:
    parts: List[str] = []
    inner = field.items if field.type == "list" and field.items is not None else field
    if inner.type == "integer":
        unit = " %s" % inner.unit if inner.unit else ""
        parts.append("%d-%d%s" % (bounds(inner) + (unit,)))
    if inner.type == "string" and inner.choices is None:
        if inner.rule:
            parts.append(inner.rule)
        elif inner.max_length is not None:
            low = inner.min_length if inner.min_length is not None else 0
            unit = "bytes (UTF-8)" if inner.length_unit == "bytes" else "characters"
            parts.append("%d-%d %s" % (low, inner.max_length, unit))
        if inner.charset and not inner.rule:
            parts.append(CHARSETS[inner.charset][1])
    if inner.type not in LEAF_TYPES and inner.rule:
        parts.append(inner.rule)
    if field.secret:
        parts.append("secret: its value is never shown in errors")
    if field.restrictions:
        parts.append(field.restrictions)
    return "; ".join(parts)


def _cell(text: object) -> str:
    text = "" if text is None else str(text)
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(table: Table) -> List[str]:
    """The Markdown lines of TABLE (a header, a rule, one row per field)."""
    headers = [table.key] + [COLUMNS[c] for c in table.columns]
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _h in headers) + "|"]
    for field in table.fields:
        cells = ["`%s`" % field.name]
        for column in table.columns:
            if column == "type":
                cells.append(type_text(field))
            elif column == "default":
                cells.append(default_text(field))
            elif column == "restrictions":
                cells.append(restrictions_text(field))
            elif column == "roles":
                cells.append(", ".join(field.roles) if field.roles else "all")
            elif column == "example":
                cells.append(field.example or "")
            else:
                cells.append(field.description)
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return lines


def abs_path_problem(value: object) -> Optional[str]:
    """None when VALUE is a path ABS_PATH_RE accepts (and at most ABS_PATH_MAX long), else the reason."""
    if not isinstance(value, str) or len(value) > ABS_PATH_MAX or not ABS_PATH_RE.fullmatch(value):
        return "must be %s, at most %d characters" % (ABS_PATH_RULE, ABS_PATH_MAX)
    return None
