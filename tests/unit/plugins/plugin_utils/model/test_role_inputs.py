# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The roles' file-bound variables (issue 22): plugin_utils/model/role_inputs.py and the action anycast.fabric.role_inputs.

For every declared string, list or mapping variable of every role, a newline,
a NUL, a quote, a 10,000-character value and a wrong type are refused with
the variable's path and a reason; the roles' own defaults pass; a number
where a version string is expected asks to quote it; a secret is never shown.
The action is run by a real ansible-playbook (no connection is made: it runs
on the controller) to see the message a user sees.
"""

from __future__ import annotations

import json

import pytest
import yaml

from ansible_collections.anycast.fabric.plugins.plugin_utils.model import role_inputs
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.role_inputs import Mapping, Special, check
from conftest import REPO, run_playbook

DECLARATIONS = [(role, d) for role, declarations in sorted(role_inputs.ROLES.items()) for d in declarations]
BY_NAME = {d.name: d for _role, d in DECLARATIONS}

# One good value per declared variable (roles' defaults are checked separately).
GOOD = {
    "kube_proxy_mode": "ipvs",
    "kube_proxy_kubernetes_version": "1.33.2",
    "kube_proxy_nftables_modules": ["nf_tables"],
    "kube_proxy_nftables_optional_modules": ["nft_ct"],
    "kube_proxy_ipvs_modules": ["ip_vs", "ip_vs_rr"],
    "kube_proxy_ipvs_optional_modules": ["ip_vs_mh"],
    "kube_proxy_iptables_modules": ["nf_conntrack"],
    "kube_proxy_iptables_optional_modules": [],
    "kube_proxy_nftables_packages": ["nftables"],
    "kube_proxy_ipvs_packages": ["ipvsadm", "ipset=7.17-1"],
    "kube_proxy_iptables_packages": ["iptables"],
    "kube_proxy_modules_load_file": "/etc/modules-load.d/kp.conf",
    "kube_proxy_sysctl_file": "/etc/sysctl.d/90-kp.conf",
    "kube_proxy_apt_cache_valid_time": 3600,
    "kube_proxy_ipvs_conn_reuse_mode": "0",
    "kube_proxy_extra_sysctls": {"net.core.somaxconn": 4096, "net.ipv4.tcp_rmem": "4096 131072 6291456", "net.ipv4.conf.eth0/100.rp_filter": "2"},
    "kube_proxy_config": "write",
    "kube_proxy_config_path": "/etc/anycast-fabric/kube-proxy.yaml",
    "kube_proxy_ipvs_scheduler": "mh",
    "kube_proxy_ipvs_exclude_cidrs": ["10.0.0.0/8", "2001:db8::/32"],
    "kube_proxy_node_port_addresses": ["primary", "10.1.1.0/24"],
    "kube_proxy_config_extra": {"ipvs": {"tcpTimeout": "900s"}, "comment": "a\nb"},
    "kube_proxy_vip_interface": "lo",
    "healthcheck_watchdog_sec": 5,
    "healthcheck_extra_capabilities": ["CAP_NET_RAW"],
    "healthcheck_read_write_paths": ["/var/lib/x", "/run/y"],
    "healthcheck_metrics_textfile": "/var/lib/node_exporter/anycast.prom",
    "healthcheck_metrics_listen": "[::1]:9474",
    "tor_resilient_ecmp_pools": ["198.51.100.0/24"],
    "tor_resilient_ecmp_buckets": 512,
    "tor_resilient_ecmp_idle_timer": 120,
    "tor_resilient_ecmp_unbalanced_timer": 0,
    "tor_resilient_ecmp_table": 200,
    "tor_resilient_ecmp_rule_priority": 1000,
    "tor_resilient_ecmp_watchdog_sec": 30,
    "tor_resilient_ecmp_stale_sec": 0,
    "routing_session_wait": 30,
    "routing_bgp_password": "s3cret-md5",
    "routing_drain_state": "drained",
}

HOSTILE = {"newline": "\nkernel.core_pattern = |/tmp/x", "nul": "\0", "quote": "'\"", "long": None}


def _string_kind(declaration):
    """'string', 'list', 'mapping' or None (numbers and free mappings: only the wrong-type case applies)."""
    if isinstance(declaration, Mapping):
        return "mapping"
    if isinstance(declaration, Special):
        return {"kube_proxy_config_extra": None, "healthcheck_metrics_listen": "string"}.get(declaration.name, "list")
    return declaration.type if declaration.type in ("string", "list") else None


def _hostile_text(good, how):
    if how == "long":
        return (good + "a" * 10000)[:10000] if not good.startswith("/") else "/a" * 5000
    return good + HOSTILE[how]


def hostile_values(declaration, how):
    """[(value, expected path suffix)] with the HOW injection in every string a file would receive."""
    kind = _string_kind(declaration)
    good = GOOD[declaration.name]
    if kind == "string":
        return [(_hostile_text(good, how), "")]
    if kind == "list":
        item = good[0] if good else "nf_conntrack"
        bad = _hostile_text(str(item), how)
        return [([item, bad] if good else [bad], "")]
    if kind == "mapping":
        key, value = next(iter(good.items()))
        if how == "quote":
            # A quote is literal in sysctl.d (no quoting syntax): refused in keys only (see
            # test_a_quote_in_a_sysctl_value_is_written_literally).
            return [({_hostile_text(key, how): "1"}, "[")]
        return [({key: _hostile_text(str(value), how)}, "[%r]" % key), ({_hostile_text(key, how): "1"}, "[")]
    raise AssertionError(declaration.name)


STRING_LIKE = [(role, d) for role, d in DECLARATIONS if _string_kind(d)]


def test_every_declared_variable_has_a_good_value_here():
    assert set(GOOD) == set(BY_NAME)


def test_every_role_of_the_collection_that_checks_inputs_is_declared():
    for role in role_inputs.ROLES:
        tasks = (REPO / "roles" / role / "tasks" / "main.yml").read_text()
        assert "anycast.fabric.role_inputs" in tasks and "role: %s" % role in tasks and "any_errors_fatal: true" in tasks


@pytest.mark.parametrize("role, declaration", DECLARATIONS, ids=[d.name for _r, d in DECLARATIONS])
def test_good_values_are_accepted(role, declaration):
    assert check(declaration, GOOD[declaration.name]) == []


@pytest.mark.parametrize("how", sorted(HOSTILE))
@pytest.mark.parametrize("role, declaration", STRING_LIKE, ids=[d.name for _r, d in STRING_LIKE])
def test_hostile_strings_are_refused_with_path_and_reason(role, declaration, how):
    for value, suffix in hostile_values(declaration, how):
        errors = check(declaration, value)
        assert errors, "%s = %r was accepted" % (declaration.name, value)
        for got_suffix, _shown, reason in errors:
            assert got_suffix.startswith(suffix), (got_suffix, suffix)
            assert isinstance(reason, str) and reason.strip(), errors
            assert "\n" not in reason and "\0" not in reason


def _wrong_type(declaration):
    kind = _string_kind(declaration) or ("mapping" if declaration.name == "kube_proxy_config_extra" else "integer")
    return {"string": ["x"], "list": "x", "mapping": ["x"], "integer": {"x": 1}}[kind]


@pytest.mark.parametrize("role, declaration", DECLARATIONS, ids=[d.name for _r, d in DECLARATIONS])
def test_a_wrong_type_is_refused(role, declaration):
    for value in (_wrong_type(declaration), True):
        errors = check(declaration, value)
        assert errors, "%s = %r was accepted" % (declaration.name, value)
        assert all(reason for _s, _v, reason in errors)


@pytest.mark.parametrize("role, declaration", [(r, d) for r, d in DECLARATIONS if getattr(d, "type", None) == "integer"], ids=lambda x: getattr(x, "name", x))
def test_integers_refuse_text_and_out_of_range(role, declaration):
    assert check(declaration, "5\n")
    assert check(declaration, "5 ")
    assert check(declaration, -1)
    assert check(declaration, 10**12)


@pytest.mark.parametrize("role", sorted(role_inputs.ROLES))
def test_the_roles_defaults_pass(role):
    defaults = yaml.safe_load((REPO / "roles" / role / "defaults" / "main.yml").read_text()) or {}
    checked = 0
    for declaration in role_inputs.ROLES[role]:
        if declaration.name not in defaults:
            continue
        value = defaults[declaration.name]
        if isinstance(value, str) and "{{" in value:
            continue  # templated: checked when the role runs
        assert check(declaration, value) == [], (declaration.name, value)
        checked += 1
    assert checked >= {"kube_proxy": 15, "healthcheck": 4, "tor": 6, "routing": 1}[role]


@pytest.mark.parametrize("value", [1.4, 1.35, 1, 2.0])
def test_a_version_given_as_a_number_asks_to_quote_it(value):
    ((suffix, shown, reason),) = check(BY_NAME["kube_proxy_kubernetes_version"], value)
    assert suffix == "" and shown == value
    assert "quote it" in reason and "1.40 is read as 1.4" in reason


def test_the_yaml_reading_of_an_unquoted_version_is_refused():
    value = yaml.safe_load("kube_proxy_kubernetes_version: 1.40")["kube_proxy_kubernetes_version"]
    assert value == 1.4
    assert "quote it" in check(BY_NAME["kube_proxy_kubernetes_version"], value)[0][2]


def test_a_number_in_a_list_of_words_asks_to_quote_it():
    ((suffix, _shown, reason),) = check(BY_NAME["kube_proxy_ipvs_packages"], ["ipset", 7.1])
    assert suffix == "[1]" and "quote it" in reason


@pytest.mark.parametrize(
    "key",
    [
        "net.ipv4.conf.eth0/100.rp_filter",
        "net.ipv4.conf.all.rp_filter",
        "net.ipv6.conf.br-lan.accept_ra",
        "net.ipv4.conf.vlan@eth0.arp_ignore",
        "kernel.pid_max",
    ],
)
def test_sysctl_keys_are_dotted_names_with_slashes_for_interface_dots(key):
    assert check(BY_NAME["kube_proxy_extra_sysctls"], {key: "1"}) == []


@pytest.mark.parametrize(
    "key",
    [
        "net",
        "Net.core.x",
        "net..core",
        "net.core.x y",
        "net.core.x=1",
        "net.core.x\nkernel.core_pattern",
        ".net.core",
        "net.core.x ",
        "net.core/x=|/tmp/x",
        5,
        "a" * 300,
    ],
)
def test_bad_sysctl_keys_are_refused_as_keys(key):
    errors = check(BY_NAME["kube_proxy_extra_sysctls"], {key: "1"})
    assert errors and errors[0][2].startswith("the key "), errors


@pytest.mark.parametrize("value", ["1\n", " 1", "1 ", "", "\t1", "1\x7f", "é", "x" * 257, True, None, [1], {"a": 1}, 1.5])
def test_bad_sysctl_values_are_refused(value):
    assert check(BY_NAME["kube_proxy_extra_sysctls"], {"net.core.somaxconn": value})


def test_a_quote_in_a_sysctl_value_is_written_literally():
    # sysctl.d has no quoting: a quote cannot end the value or start a line.
    assert check(BY_NAME["kube_proxy_extra_sysctls"], {"net.core.somaxconn": "1'\""}) == []


@pytest.mark.parametrize("value", [0, 1, -1, "4096 131072 6291456", "x" * 256, "|/bin/true"])
def test_sysctl_values_on_one_line_are_accepted(value):
    assert check(BY_NAME["kube_proxy_extra_sysctls"], {"net.core.somaxconn": value}) == []


@pytest.mark.parametrize(
    "path", ["/etc/sysctl.d/x", "etc/sysctl.d/x.conf", "/etc/sysctl.d/../x.conf", "/etc//x.conf", "/etc/sysctl.d/.conf", "/etc/x.conf/", "/etc/x y.conf"]
)
def test_conf_files_must_be_absolute_normalised_dot_conf(path):
    for name in ("kube_proxy_sysctl_file", "kube_proxy_modules_load_file"):
        assert check(BY_NAME[name], path), (name, path)


@pytest.mark.parametrize("path", ["", "relative/x", "/a/../b", "/a/./b", "/a//b", "/a/", "/", "/a\nb", "/a b", "/" + "a" * 256])
def test_paths_must_be_absolute_and_normalised(path):
    for name in ("kube_proxy_config_path", "healthcheck_metrics_textfile"):
        assert check(BY_NAME[name], path), (name, path)
    assert check(BY_NAME["healthcheck_read_write_paths"], [path])


def test_nullable_declarations_accept_null_and_the_others_do_not():
    for _role, declaration in DECLARATIONS:
        errors = check(declaration, None)
        if getattr(declaration, "nullable", False):
            assert errors == [], declaration.name
        else:
            assert errors, declaration.name


@pytest.mark.parametrize("value", ["pw\nline", "pw'quote", "pw word", "x" * 10000, ["listpw12"], True])
def test_a_bad_secret_is_refused_without_its_value_in_the_reason(value):
    errors = check(BY_NAME["routing_bgp_password"], value)
    assert errors
    for _suffix, _shown, reason in errors:
        assert str(value) not in reason or len(str(value)) < 3, reason


def test_the_secret_declaration_is_marked_secret():
    secrets = [d.name for _r, d in DECLARATIONS if getattr(d, "secret", False)]
    assert secrets == ["routing_bgp_password"]


# The action, as a play runs it --------------------------------------------------

SECRET = "S3cretKeyAms"


def run_action(tmp_path, plays):
    """Run anycast.fabric.role_inputs: one play per role of PLAYS ({role: {host: vars}}), one playbook run; {host: result}."""
    hosts = {name: variables for members in plays.values() for name, variables in members.items()}
    inventory = {"all": {"hosts": {name: dict(variables, ansible_connection="local") for name, variables in hosts.items()}}}
    (tmp_path / "inv.yml").write_text(json.dumps(inventory))
    out = tmp_path / "out"
    out.mkdir()
    playbook = [
        {
            "hosts": ":".join(members),
            "gather_facts": False,
            "tasks": [
                {"name": "checked", "anycast.fabric.role_inputs": {"role": role}, "register": "result", "ignore_errors": True},
                {
                    "name": "save",
                    "ansible.builtin.copy": {
                        "content": "{{ dict(ansible_play_hosts_all | zip(ansible_play_hosts_all | map('extract', hostvars, 'result'))) | to_json }}",
                        "dest": "%s/%s.json" % (out, role),
                        "mode": "0600",
                    },
                    "delegate_to": "localhost",
                    "run_once": True,
                },
            ],
        }
        for role, members in plays.items()
    ]
    (tmp_path / "play.json").write_text(json.dumps(playbook))
    proc = run_playbook(tmp_path / "play.json", tmp_path / "inv.yml", "--forks", "20")
    results = {host: result for p in out.glob("*.json") for host, result in json.loads(p.read_text()).items()}
    assert set(results) == set(hosts), proc.stdout + proc.stderr
    return results, proc.stdout + proc.stderr


SECRET_CASES = {
    "newline": SECRET + "\nx",
    "quote": SECRET + "'",
    "long": SECRET * 1000,
    "list": [SECRET],
    "mapping": {"pw": SECRET},
    "template-failing": "{{ '%s' | to_datetime }}" % SECRET,
    "template-undefined-key": "{{ {}['%s'] }}" % SECRET,
}


@pytest.fixture(scope="module")
def action_results(tmp_path_factory):
    """One playbook run for the action tests: kube_proxy hosts, routing hosts with bad secrets, an unknown role."""
    plays = {
        "kube_proxy": {
            "good": {"kube_proxy_extra_sysctls": {"net.core.somaxconn": 4096}, "kube_proxy_kubernetes_version": "1.35"},
            "bad": {
                "kube_proxy_extra_sysctls": {"net.core.somaxconn": "1\nkernel.core_pattern = |/tmp/x", "net.x y": 1},
                "kube_proxy_kubernetes_version": 1.4,
                "kube_proxy_ipvs_modules": ["ip_vs", "ip_vs\0"],
            },
            "templated": {"kube_proxy_sysctl_file": "{{ '/etc/sysctl.d/' ~ 'x\ny' ~ '.conf' }}"},
        },
        "routing": {"secret-" + name: {"routing_bgp_password": value} for name, value in SECRET_CASES.items()},
        "nope": {"unknown-role": {}},
    }
    return run_action(tmp_path_factory.mktemp("action"), plays)


def test_the_action_names_host_path_and_value_of_every_problem(action_results):
    results, _output = action_results
    assert not results["good"].get("failed") and results["good"]["checked"] == 2
    bad = results["bad"]
    assert bad["failed"] and len(bad["problems"]) == 4, bad
    assert bad["msg"].startswith("The kube_proxy role's variables have 4 problems; nothing was changed on bad:")
    text = "\n".join(bad["problems"])
    assert "bad: kube_proxy_extra_sysctls['net.core.somaxconn'] = '1\\nkernel.core_pattern = |/tmp/x': must be a sysctl value" in text
    assert "bad: kube_proxy_extra_sysctls['net.x y']" in text
    assert "bad: kube_proxy_kubernetes_version = 1.4: is a number, but must be a string: quote it" in text
    assert "bad: kube_proxy_ipvs_modules[1]" in text
    assert all("\n" not in line for line in bad["problems"])
    assert results["templated"]["failed"] and "kube_proxy_sysctl_file" in results["templated"]["msg"]


def test_the_action_refuses_an_unknown_role(action_results):
    results, _output = action_results
    assert results["unknown-role"]["failed"] and "role must be one of: healthcheck, kube_proxy, routing, tor" in results["unknown-role"]["msg"]


def test_the_action_never_shows_a_secret(action_results):
    results, output = action_results
    for name in SECRET_CASES:
        result = results["secret-" + name]
        assert result.get("failed"), (name, result)
        assert "routing_bgp_password" in result["msg"]
        assert "S3cretKey" not in json.dumps(result), (name, result["msg"])
    assert "S3cretKey" not in output


@pytest.mark.parametrize("value", [31415926535, 2718.2818])
def test_a_numeric_secret_is_not_shown_in_the_quote_it_hint(value):
    errors = check(BY_NAME["routing_bgp_password"], value)
    assert errors
    assert not any(str(value) in reason for _s, _v, reason in errors), errors


# The routing role as a play runs it (the argument spec is validated before role_inputs)


def run_routing_role(tmp_path, hosts):
    """The routing role in check mode on HOSTS ({name: vars}, connection local); no module can run (safety net). Its output."""
    inventory = {"all": {"hosts": {n: dict(v, ansible_connection="local", ansible_python_interpreter="/nonexistent/python3") for n, v in hosts.items()}}}
    (tmp_path / "inv.json").write_text(json.dumps(inventory))
    play = [{"hosts": "all", "gather_facts": False, "roles": ["anycast.fabric.routing"]}]
    (tmp_path / "play.json").write_text(json.dumps(play))
    proc = run_playbook(tmp_path / "play.json", tmp_path / "inv.json", "--check")
    assert proc.returncode != 0
    return proc.stdout + proc.stderr


def test_the_routing_role_refuses_a_bad_secret_without_showing_it(tmp_path):
    cases = {"list": [SECRET], "mapping": {"pw": SECRET}, "newline": SECRET + "\nx", "quote": SECRET + "'"}
    output = run_routing_role(tmp_path, {name: {"routing_bgp_password": value} for name, value in cases.items()})
    for name in cases:
        assert "fatal: [%s]" % name in output, output
    assert "routing_bgp_password" in output, output
    assert "S3cretKey" not in output, output


def test_the_routing_role_does_not_show_a_numeric_secret(tmp_path):
    output = run_routing_role(tmp_path, {"h": {"routing_bgp_password": 31415926535}})
    assert "routing_bgp_password" in output
    assert "31415926535" not in output, output


def test_the_routing_role_does_not_show_a_secret_whose_template_fails(tmp_path):
    hosts = {
        "default-from-fabric-bgp": {"vault_bgp_keys": ["ams=S3cretKeyAms"], "fabric_bgp": {"password": "{{ (vault_bgp_keys | items2dict)['ams'] }}"}},
        "set-directly": {"routing_bgp_password": "{{ 'S3cretKeyAms' | to_datetime }}"},
    }
    output = run_routing_role(tmp_path, hosts)
    assert "fatal: [default-from-fabric-bgp]" in output and "fatal: [set-directly]" in output, output
    assert "S3cretKey" not in output, output
