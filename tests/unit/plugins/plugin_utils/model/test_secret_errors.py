# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secrets in evaluation errors (issue 22): Ansible's own error text never carries a secret into the report.

fabric_read's pieces are tested one by one; then inventories written to a
temporary folder are read through Ansible's real inventory, variable and
templating code (cli._task_vars, as the render CLI does), with the BGP
password produced by every filter or lookup failure that quotes its input,
for random passwords (hypothesis): the report never contains the password.
"""

from __future__ import annotations

import json
import os
import string

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ansible_collections.anycast.fabric.plugins.plugin_utils import cli
from ansible_collections.anycast.fabric.plugins.plugin_utils.model import fabric_read
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.fabric_read import (
    EvaluationError,
    evaluation_problem,
    failure_kind,
    is_secret_path,
    known_secrets,
    plain,
    problems_message,
    read_host,
    redact,
)
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.problems import Problems
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.schema import secret_variables

PROFILE = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture], derandomize=bool(os.environ.get("CI")))
SECRET = "S3cretKeyAms"
HIDDEN_NOTE = "(Ansible's message is not shown: it may quote the secret)"
SECRETS = frozenset({"fabric_bgp"})


class Broken:
    """A lazily templated value whose evaluation fails with MESSAGE (what Ansible raises)."""

    def __init__(self, exc):
        self.exc = exc

    def __str__(self):
        raise self.exc


def plugin_error(plugin="ansible.builtin.items2dict", kind="filter", quoted=SECRET):
    return RuntimeError(
        "The %s plugin '%s' failed: items2dict requires a list of dictionaries, got ['ams=%s'] instead.\nmore: %s" % (kind, plugin, quoted, quoted)
    )


def named_error(name, message):
    return type(name, (Exception,), {})(message)


# plain ----------------------------------------------------------------------------


def test_plain_copies_into_plain_python_types():
    class Number(int):
        pass

    value = {"a": (1, 2.5, True, None, Number(7)), 3: ["x"]}
    got = plain(value)
    assert got == {"a": [1, 2.5, True, None, 7], "3": ["x"]}
    # Exact types: plain() turns subclasses (Ansible's tagged values) into plain ones.
    assert [type(got["a"]).__name__, type(got["a"][4]).__name__, type(got["a"][1]).__name__] == ["list", "int", "float"]


@pytest.mark.parametrize(
    "value, path",
    [
        (Broken(ValueError("x")), ""),
        ({"password": Broken(ValueError("x"))}, ".password"),
        ({"a": [1, {"b": Broken(ValueError("x"))}]}, ".a[1].b"),
        ([0, 1, Broken(ValueError("x"))], "[2]"),
    ],
)
def test_plain_names_the_path_of_the_value_that_failed(value, path):
    with pytest.raises(EvaluationError) as info:
        plain(value)
    assert info.value.path == path
    assert isinstance(info.value.cause, ValueError)


def test_plain_prefixes_the_path_it_is_given_and_keeps_the_innermost_path():
    with pytest.raises(EvaluationError) as info:
        plain({"k": [Broken(KeyError("z"))]}, "fabric_bgp")
    assert info.value.path == "fabric_bgp.k[0]"


# failure_kind ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "exc, kind",
    [
        (plugin_error(), "the filter ansible.builtin.items2dict failed"),
        (plugin_error("file", "lookup"), "the lookup file failed"),
        (plugin_error("ansible.builtin.version", "test"), "the test ansible.builtin.version failed"),
        (named_error("AnsibleUndefinedVariable", "'dict object' has no attribute '%s'" % SECRET), "it refers to an undefined variable or key"),
        (named_error("AnsibleTemplateSyntaxError", "Syntax error in template near %s" % SECRET), "its template has a syntax error"),
        (named_error("TemplateSyntaxError", "unexpected '%s'" % SECRET), "its template has a syntax error"),
        (ValueError("invalid literal for int() with base 10: '%s'" % SECRET), "templating failed (ValueError)"),
        (ValueError(""), "templating failed (ValueError)"),
    ],
    ids=["filter", "lookup", "test", "undefined", "ansible-syntax", "jinja-syntax", "other", "empty-message"],
)
def test_failure_kind_says_what_failed_without_quoting_anything(exc, kind):
    assert failure_kind(exc) == kind
    assert SECRET not in failure_kind(exc)


def test_failure_kind_does_not_take_a_plugin_name_from_a_later_line_or_odd_characters():
    assert failure_kind(ValueError("x\nThe filter plugin 'a.b' failed")) == "templating failed (ValueError)"
    assert failure_kind(ValueError("The filter plugin '%s x' failed: ..." % SECRET)) == "templating failed (ValueError)"


# is_secret_path -------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, secret",
    [
        ("fabric_bgp", True),
        ("fabric_bgp.password", True),
        ("fabric_bgp.anything[3]", True),
        ("fabric_upstreams[0].password", True),
        ("fabric_upstreams[1].md5_key", True),
        ("fabric_vips[0].health.auth_token", True),
        ("fabric_upstreams[0].Secret", True),
        ("fabric_asn", False),
        ("fabric_vips[0].address", False),
        ("fabric_upstreams[0].name", False),
    ],
)
def test_is_secret_path(path, secret):
    assert is_secret_path(path, SECRETS) is secret


def test_fabric_bgp_is_the_declared_secret_variable():
    assert "fabric_bgp" in secret_variables()
    assert not {"fabric_asn", "fabric_ipv4", "fabric_vips"} & secret_variables()


# evaluation_problem ---------------------------------------------------------------


def test_a_failure_in_a_secret_is_reported_by_path_and_kind_only():
    problems = Problems()
    evaluation_problem(problems, "n1", "fabric_bgp", EvaluationError(".password", plugin_error()), SECRETS)
    (line,) = problems.messages()
    assert line == "n1: fabric_bgp.password = '<template>': cannot be evaluated: the filter ansible.builtin.items2dict failed " + HIDDEN_NOTE
    assert SECRET not in line


def test_a_failure_under_a_secret_looking_key_of_any_variable_hides_the_message():
    problems = Problems()
    evaluation_problem(problems, "spine1", "fabric_upstreams", EvaluationError("[0].password", plugin_error()), SECRETS)
    (line,) = problems.messages()
    assert "fabric_upstreams[0].password" in line and HIDDEN_NOTE in line and SECRET not in line


def test_a_failure_in_a_plain_variable_shows_the_first_line_of_ansibles_message():
    problems = Problems()
    evaluation_problem(problems, "n1", "fabric_asn", plugin_error(quoted="visible"), SECRETS)
    (line,) = problems.messages()
    assert line.startswith("n1: fabric_asn = '<template>': cannot be evaluated: The filter plugin 'ansible.builtin.items2dict' failed")
    assert "visible" in line and "more:" not in line


def test_a_failure_without_a_message_is_named_by_its_type():
    problems = Problems()
    evaluation_problem(problems, "n1", "fabric_asn", KeyError(), SECRETS)
    assert problems.messages()[0].endswith("cannot be evaluated: KeyError")


# read_host ------------------------------------------------------------------------


class FakeHost(dict):
    """hostvars[name]: raises the planted exception when a variable is read."""

    def __getitem__(self, key):
        value = dict.__getitem__(self, key)
        if isinstance(value, Exception):
            raise value
        return value


def test_read_host_reports_every_broken_variable_and_keeps_the_others():
    host = FakeHost(
        fabric_asn=65000,
        fabric_bgp={"password": Broken(plugin_error())},
        fabric_ipv4=plugin_error(quoted="10.0.0.x"),
        fabric_site=named_error("AnsibleUndefinedVariable", "'vault_x' is undefined"),
        not_a_fabric_variable=plugin_error(),
    )
    problems = Problems()
    got = read_host({"n1": host}, "n1", problems)
    assert got == {"fabric_asn": 65000}
    lines = problems.messages()
    assert len(lines) == 3, lines
    bgp = [line for line in lines if "fabric_bgp" in line]
    assert bgp == ["n1: fabric_bgp.password = '<template>': cannot be evaluated: the filter ansible.builtin.items2dict failed " + HIDDEN_NOTE]
    # The secret failed on this host: no Ansible message at all on it (another
    # variable's failure may be the same one, quoting the same input).
    assert any("fabric_ipv4" in line and "10.0.0.x" not in line and HIDDEN_NOTE in line for line in lines)
    assert not any(SECRET in line for line in lines)


def test_read_host_reads_the_extra_variables_too():
    problems = Problems()
    got = read_host({"n1": FakeHost(fabric_asn=1, extra_var=[1])}, "n1", problems, extra=("extra_var", "absent_var"))
    assert got == {"fabric_asn": 1, "extra_var": [1]} and not problems


# known_secrets, redact, problems_message ------------------------------------------


def test_known_secrets_are_the_passwords_that_evaluated():
    hostvars = {
        "a": {"fabric_bgp": {"password": "pw-a-1234"}},
        "b": {"fabric_bgp": {"password": "pw-b-1234"}},
        "c": {"fabric_bgp": {"password": "ab"}},  # too short to search for
        "d": {"fabric_bgp": {"password": 12345678}},  # not a string
        "e": {"fabric_bgp": "pw-e-1234"},  # not a mapping
        "f": {},
        "g": {"fabric_bgp": {"password": "abc"}},
    }
    assert known_secrets(hostvars) == {"pw-a-1234", "pw-b-1234", "abc"}


def test_redact_replaces_every_occurrence_longest_first():
    assert redact("x=abcdefgh y=abcdef z=abcdefgh", {"abcdef", "abcdefgh"}) == "x=<hidden> y=<hidden> z=<hidden>"
    assert redact("nothing here", {"secret"}) == "nothing here"
    assert redact("abc", ()) == "abc"


def test_problems_message_counts_and_redacts():
    problems = Problems()
    problems.add("n1", "fabric_asn", "<template>", "cannot be evaluated: time data 'pw-1234' does not match")
    problems.add("n2", "fabric_asn", "<template>", "fine")
    text = problems_message(problems, secrets={"pw-1234"})
    assert text.startswith("The fabric inventory has 2 problems; nothing was rendered or applied:\n  - n1: fabric_asn")
    assert "pw-1234" not in text and "<hidden>" in text
    one = Problems()
    one.add("n1", "x", 1, "bad")
    assert problems_message(one, what="nothing was done").startswith("The fabric inventory has 1 problem; nothing was done:")


# Through Ansible's real templating -----------------------------------------------

KEY_VAR = "vault_bgp_key"  # holds the secret; fabric_bgp.password is a template over it

# Filters and lookups that fail AND quote their input in Ansible's message
# (checked by test_each_failure_really_quotes_its_input, so that the property
# below is not vacuous). {k} is the expression that yields the secret.
QUOTING = {
    "items2dict": "{{ (['ams=' ~ %(k)s] | items2dict)['ams'] }}",
    "human_to_bytes": "{{ %(k)s | human_to_bytes }}",
    "to_datetime": "{{ %(k)s | to_datetime }}",
    "strftime": "{{ '%%Y' | strftime(%(k)s) }}",
    "mandatory": "{{ vault_undefined_thing | mandatory(%(k)s) }}",
    "missing-key": "{{ {'ams': 1}[%(k)s] }}",
    "lookup-file": "{{ lookup('file', %(k)s) }}",
    "lookup-unvault": "{{ lookup('unvault', %(k)s) }}",
    "to_uuid": "{{ 'x' | to_uuid(namespace=%(k)s) }}",
    "hash": "{{ 'x' | hash(%(k)s) }}",
    "comment": "{{ 'x' | comment(%(k)s) }}",
    "urlsplit": "{{ 'http://a/' | urlsplit(%(k)s) }}",
    "subelements": "{{ [{'a': 1}] | subelements(%(k)s) }}",
}
# Failures whose first line does not quote the input today (Ansible's later
# lines may): a secret must not show through them either.
NOT_QUOTING = {
    "from_json": "{{ (%(k)s ~ '{') | from_json }}",
    "from_yaml": "{{ ('{' ~ %(k)s ~ ': [') | from_yaml }}",
    "regex_search": "{{ %(k)s | regex_search('(' ~ %(k)s) }}",
    "combine": "{{ %(k)s | combine({}) }}",
    "dict2items": "{{ [%(k)s] | dict2items }}",
    "split": "{{ %(k)s | ansible.builtin.split(1) }}",
    "int-strict": "{{ %(k)s | int(strict=true) }}",
    "undefined": "{{ %(k)s ~ vault_undefined_thing }}",
    "syntax": "{{ %(k)s ~ }}",
}
FAILURES = dict(QUOTING, **NOT_QUOTING)

# The secret's characters: printable ASCII without spaces, quotes or backslashes (a valid fabric_bgp.password).
SECRET_CHARS = "".join(c for c in string.printable if c not in string.whitespace + "'\"\\")
SECRET_TEXT = st.text(st.sampled_from(SECRET_CHARS), min_size=6, max_size=40)
SPINE = {"fabric_asn": 65000, "fabric_ipv4": "10.0.0.1/24"}
TOR = {"fabric_rack": "r1", "fabric_asn": 65101, "fabric_ipv4": "10.1.1.1/24", "fabric_uplink_ipv4": "10.0.0.11/24"}
NODE = {"fabric_rack": "r1", "fabric_ipv4": "10.1.1.11/24", "fabric_vips": ["198.51.100.10"]}


def write_inventory(folder, fabric, node=None, tor=None):
    """A three-host fabric (spine1, tor1, n1) as a JSON inventory; FABRIC in all:vars. Its path."""
    inventory = {
        "all": {
            "vars": dict({"fabric_anycast_pools": ["198.51.100.0/24"]}, **fabric),
            "children": {
                "fabric_spines": {"hosts": {"spine1": dict(SPINE)}},
                "fabric_tors": {"hosts": {"tor1": dict(TOR, **(tor or {}))}},
                "fabric_nodes": {"hosts": {"n1": dict(NODE, **(node or {}))}},
            },
        }
    }
    path = folder / "hosts.yml"
    path.write_text(json.dumps(inventory))
    return path


def report(folder, fabric, node=None, tor=None):
    """fabric_read.model's error message for the inventory, read the way the render CLI reads it."""
    return fabric_read.model(cli._task_vars([str(write_inventory(folder, fabric, node, tor))], None))[3]


def raw_failure(folder, template, secret):
    """Ansible's own message for TEMPLATE over SECRET (what the report must not show)."""
    path = write_inventory(folder, {KEY_VAR: secret, "probe": template % {"k": KEY_VAR}})
    host = cli._task_vars([str(path)], None)["hostvars"]["n1"]
    try:
        plain(host["probe"])
    except EvaluationError as exc:
        return str(exc.cause)
    except Exception as exc:  # noqa: BLE001 - whatever Ansible raises
        return str(exc)
    return None


def test_the_reproducer_of_the_issue_shows_no_key(tmp_path):
    fabric = {
        "vault_bgp_keys": ["ams=S3cretKeyAms", "fra=S3cretKeyFra"],
        "fabric_site": "ams",
        "fabric_bgp": {"password": "{{ (vault_bgp_keys | items2dict)[fabric_site] }}"},
    }
    text = report(tmp_path, fabric)
    assert "S3cretKey" not in text
    for host in ("n1", "tor1", "spine1"):
        assert "%s: fabric_bgp" % host in text
    assert "the filter ansible.builtin.items2dict failed " + HIDDEN_NOTE in text


@pytest.mark.parametrize("name", sorted(QUOTING))
def test_each_failure_really_quotes_its_input(tmp_path, name):
    """Ansible's message for each QUOTING template contains the secret (else the property proves nothing)."""
    message = raw_failure(tmp_path, QUOTING[name], SECRET)
    assert message is not None, "%s did not fail" % name
    assert SECRET in message, message


@pytest.mark.parametrize("name", sorted(FAILURES))
def test_each_failure_in_the_password_is_reported_without_the_secret(tmp_path, name):
    text = report(tmp_path, {KEY_VAR: SECRET, "fabric_bgp": {"password": FAILURES[name] % {"k": KEY_VAR}}})
    assert text and "fabric_bgp" in text and "cannot be evaluated" in text, text
    assert SECRET not in text, text


def _incidental(folder, template, secret):
    """Whether SECRET occurs in the same report made with a neutral secret (a host name, say): not a leak."""
    neutral = report(folder, {KEY_VAR: "Qq0Qq0Qq0", "fabric_bgp": {"password": template % {"k": KEY_VAR}}}) or ""
    return secret in neutral.replace("Qq0Qq0Qq0", "")


@settings(max_examples=30, **PROFILE)
@given(secret=SECRET_TEXT, name=st.sampled_from(sorted(FAILURES)))
def test_property_no_failure_of_the_password_template_shows_the_secret(tmp_path_factory, secret, name):
    folder = tmp_path_factory.mktemp("inv")
    assume(not _incidental(folder, FAILURES[name], secret))
    text = report(folder, {KEY_VAR: secret, "fabric_bgp": {"password": FAILURES[name] % {"k": KEY_VAR}}}) or ""
    assert secret not in text, text


# A non-secret variable whose error quotes a password that evaluated.
CROSS = {name: template % {"k": "fabric_bgp.password"} for name, template in QUOTING.items()}


@pytest.mark.parametrize("name", sorted(CROSS))
def test_another_variable_quoting_a_good_password_is_redacted(tmp_path, name):
    text = report(tmp_path, {"fabric_bgp": {"password": SECRET}}, node={"fabric_asn": CROSS[name]})
    assert text and "n1: fabric_asn" in text, text
    assert SECRET not in text, text
    assert "<hidden>" in text, text


@settings(max_examples=30, **PROFILE)
@given(secret=SECRET_TEXT, name=st.sampled_from(sorted(CROSS)), variable=st.sampled_from(["fabric_asn", "fabric_ipv4", "fabric_vips"]))
def test_property_another_variable_never_shows_a_password_that_evaluated(tmp_path_factory, secret, name, variable):
    folder = tmp_path_factory.mktemp("inv")
    neutral = report(folder, {"fabric_bgp": {"password": "Qq0Qq0Qq0"}}, node={variable: CROSS[name]}) or ""
    assume(secret not in neutral.replace("Qq0Qq0Qq0", ""))
    text = report(folder, {"fabric_bgp": {"password": secret}}, node={variable: CROSS[name]}) or ""
    assert secret not in text, text


# Found by these tests, then fixed -----------------------------------------------


def test_a_variable_reading_a_failing_password_does_not_show_the_vaulted_key(tmp_path):
    fabric = {
        "vault_bgp_keys": ["ams=S3cretKeyAms"],
        "fabric_bgp": {"password": "{{ (vault_bgp_keys | items2dict)['ams'] }}"},
        # e.g. a derived value: any fabric variable that reads the password
        "fabric_asn": "{{ 65000 + (fabric_bgp.password | length) }}",
    }
    text = report(tmp_path, fabric)
    assert "S3cretKeyAms" not in text, text


def test_a_cut_value_does_not_show_the_start_of_a_password(tmp_path):
    secret = "S3cretKeyAmsXYZW"
    text = report(tmp_path, {"fabric_bgp": {"password": secret}}, node={"fabric_ipv4": "{{ 'a' * 110 ~ fabric_bgp.password }}"})
    assert secret[:8] not in text, text


def _longest_shown_prefix(secret, text):
    size = 0
    while size < len(secret) and secret[: size + 1] in text:
        size += 1
    return size


@settings(max_examples=25, **PROFILE)
@given(
    secret=st.text(st.sampled_from(SECRET_CHARS), min_size=10, max_size=40),
    pad=st.integers(min_value=0, max_value=260),
    shape=st.sampled_from(["{{ 'a' * %d ~ fabric_bgp.password }}", "{{ ['a' * %d, fabric_bgp.password] }}", "{{ {'k': 'a' * %d ~ fabric_bgp.password} }}"]),
)
def test_property_a_value_cut_anywhere_shows_no_part_of_a_password(tmp_path_factory, secret, pad, shape):
    folder = tmp_path_factory.mktemp("inv")
    template = shape % pad
    neutral = report(folder, {"fabric_bgp": {"password": "Qq0Qq0Qq0Qq0"}}, node={"fabric_ipv4": template}) or ""
    assume(_longest_shown_prefix(secret, neutral.replace("Qq0Qq0Qq0Qq0", "")) < 6)
    text = report(folder, {"fabric_bgp": {"password": secret}}, node={"fabric_ipv4": template}) or ""
    assert _longest_shown_prefix(secret, text) < 6, text


@settings(max_examples=25, **PROFILE)
@given(secret=SECRET_TEXT, name=st.sampled_from(sorted(QUOTING)), variable=st.sampled_from(["fabric_asn", "fabric_ipv4", "fabric_site"]))
def test_property_a_variable_reading_a_password_that_failed_everywhere_shows_no_key(tmp_path_factory, secret, name, variable):
    folder = tmp_path_factory.mktemp("inv")
    fabric = {KEY_VAR: secret, "fabric_bgp": {"password": QUOTING[name] % {"k": KEY_VAR}}}
    node = {variable: "{{ fabric_bgp.password }}"}
    assume(not _incidental(folder, QUOTING[name], secret))
    text = report(folder, fabric, node=node) or ""
    assert secret not in text, text


# The issue's reproducer, end to end ------------------------------------------------


def test_the_render_playbook_shows_no_key_of_the_reproducer(tmp_path):
    """ansible-playbook anycast.fabric.render on the example inventory with the keys in a list of key=value strings."""
    import shutil

    from conftest import REPO, run_playbook

    inventory = tmp_path / "inventory"
    shutil.copytree(REPO / "inventories" / "example", inventory)
    fabric = inventory / "group_vars" / "all" / "fabric.yml"
    text = fabric.read_text()
    assert "password: example-md5-key" in text
    fabric.write_text(
        text.replace("password: example-md5-key", 'password: "{{ (vault_bgp_keys | items2dict)[fabric_site] }}"')
        + '\nvault_bgp_keys: ["ams=S3cretKeyAms", "fra=S3cretKeyFra"]\n'
    )
    proc = run_playbook("anycast.fabric.render", inventory, "-e", "fabric_render_dir=%s" % (tmp_path / "r"), cwd=tmp_path)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    assert "fabric_bgp" in output and "Ansible's message is not shown" in output, output
    assert "S3cretKey" not in output, output
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").iterdir())
