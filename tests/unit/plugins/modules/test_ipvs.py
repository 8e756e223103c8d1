# -*- coding: utf-8 -*-
"""anycast.fabric.ipvs's main(), in-process, against a fake ipvsadm (no kernel).

What the molecule scenario cannot provoke on a healthy kernel is tested here:
the write-ahead record when ``ipvsadm -R`` fails half-way, the verification
that catches it, check mode without ip_vs loaded, and which commands ran.
"""

from __future__ import annotations

import json

import pytest
from ansible.module_utils import basic

from ansible_collections.anycast.fabric.plugins.module_utils._ipvs.keys import real_server_key, service_key
from ansible_collections.anycast.fabric.plugins.module_utils._ipvs.parse import _parse_real_server, _service_identity, parse_save
from ansible_collections.anycast.fabric.plugins.module_utils._ipvs.render import dump
from ansible_collections.anycast.fabric.plugins.modules import ipvs as module
from conftest import call_module

WEB = {"protocol": "tcp", "address": "198.51.100.80", "port": 80, "scheduler": "rr", "real_servers": [{"address": "10.10.0.2", "port": 8080}]}
KUBE = "-A -t 10.96.0.1:443 -s rr\n-a -t 10.96.0.1:443 -r 10.244.1.5:6443 -m -w 1\n"


class FakeIpvsadm(object):
    """Keeps a table as ``ipvsadm -S -n`` text and replays -R batches line by line, like ipvsadm 1.31."""

    def __init__(self, table="", loaded=True, refuse=()):
        self.services = parse_save(table)
        self.loaded = loaded
        self.refuse = refuse  # batch lines that "fail in the kernel"
        self.calls = []

    def run_command(self, args, data=None, binary_data=False, **_kwargs):
        self.calls.append(args[1:])
        if args[1:] == ["-S", "-n"]:
            return 0, dump(self.services), ""
        assert args[1:] == ["-R"] and binary_data and data.endswith("\n")
        rc, errors = 0, []
        for line in data.splitlines():
            if line in self.refuse:
                rc = 255
                errors.append("Scheduler or persistence engine not found")
                continue
            rc = 0  # like ipvsadm -R: only the last line's status counts
            self._apply(line)
        return rc, "", "\n".join(errors)

    def _apply(self, line):
        verb, rest = line.split(" ", 1)
        if verb in ("-A", "-E"):
            key, svc = next(iter(parse_save("-A " + rest + "\n").items()))
            if verb == "-E":
                svc["real_servers"] = self.services[key]["real_servers"]
            self.services[key] = svc
        elif verb == "-D":
            del self.services[service_key(_service_identity(rest.split(), line)[0])]
        else:
            ident, rs = _parse_real_server(rest.split(), line)
            servers = self.services[service_key(ident)]["real_servers"]
            if verb == "-d":
                del servers[real_server_key(rs)]
            else:
                servers[real_server_key(rs)] = rs


@pytest.fixture
def run(monkeypatch, tmp_path, capsys):
    """Run the module with args against a FakeIpvsadm; return its result dict."""

    def runner(fake, check=False, **args):
        args.setdefault("state_dir", str(tmp_path))
        monkeypatch.setattr(basic.AnsibleModule, "run_command", lambda self, cmd, **kw: fake.run_command(cmd, **kw))
        monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **kw: "/usr/sbin/" + name)
        real_exists = module.os.path.exists
        monkeypatch.setattr(module.os.path, "exists", lambda p: fake.loaded if p == module.IPVS_PROC else real_exists(p))
        return call_module(module.main, args, capsys, check=check)

    return runner


def record(tmp_path, owner="default"):
    path = tmp_path / "ipvs" / ("%s.json" % owner)
    return json.loads(path.read_text())["services"] if path.exists() else None


def test_create_then_nothing_to_do(run, tmp_path):
    fake = FakeIpvsadm(KUBE)
    first = run(fake, services=[WEB])
    assert first["changed"] and first["created"] == ["tcp 198.51.100.80:80"]
    assert fake.calls == [["-S", "-n"], ["-R"], ["-S", "-n"]]
    assert record(tmp_path) == ["tcp 198.51.100.80:80"]
    assert first["diff"]["before"] == "" and first["diff"]["after"].startswith("-A -t 198.51.100.80:80 -s rr\n")

    fake.calls = []
    second = run(fake, services=[WEB])
    assert not second["changed"] and second["commands"] == [] and fake.calls == [["-S", "-n"]]
    # kube-proxy's service was never part of any command or of the diff
    assert "10.96.0.1" not in json.dumps(first) + json.dumps(second)
    assert "tcp 10.96.0.1:443" in fake.services


def test_check_mode_changes_nothing_and_needs_no_ip_vs(run, tmp_path):
    fake = FakeIpvsadm(loaded=False)
    result = run(fake, check=True, services=[WEB])
    assert result["changed"] and result["commands"][0] == "-A -t 198.51.100.80:80 -s rr"
    assert fake.calls == [] and record(tmp_path) is None


def test_a_foreign_service_is_a_conflict(run, tmp_path):
    fake = FakeIpvsadm(KUBE)
    result = run(fake, services=[{"address": "10.96.0.1", "port": 443, "scheduler": "rr"}])
    assert result["failed"] and result["conflicts"] == ["tcp 10.96.0.1:443"]
    assert fake.calls == [["-S", "-n"]] and record(tmp_path) is None


def test_a_half_applied_batch_fails_and_stays_recorded(run, tmp_path):
    """ipvsadm -R exits 0 when only an earlier line failed: the re-read catches it."""
    other = dict(WEB, address="198.51.100.79", scheduler="nosuch", real_servers=[])
    fake = FakeIpvsadm(refuse=("-A -t 198.51.100.79:80 -s nosuch",))
    result = run(fake, services=[other, WEB])
    assert result["failed"] and result["problems"] == ["tcp 198.51.100.79:80 is missing"]
    assert "Scheduler or persistence engine not found" in result["msg"] and "(rc 0)" in result["msg"]
    # the write-ahead record lists both, so a purge can clean up what was made
    assert record(tmp_path) == ["tcp 198.51.100.79:80", "tcp 198.51.100.80:80"]
    purged = run(FakeIpvsadm(dump(fake.services)), services=[], purge=True)
    assert purged["removed"] == ["tcp 198.51.100.80:80"] and record(tmp_path) == []


def test_absent_warns_about_services_it_leaves_alone(run, tmp_path):
    fake = FakeIpvsadm(KUBE)
    result = run(fake, state="absent", services=[{"address": "10.96.0.1", "port": 443}])
    assert not result["changed"] and result["not_owned"] == ["tcp 10.96.0.1:443"]
    assert "left alone" in json.dumps(result["warnings"])  # 2.19 returns structured warnings


def test_invalid_input_fails_before_reading_the_table(run):
    fake = FakeIpvsadm()
    result = run(fake, services=[dict(WEB, forwarding="direct", real_servers=[{"address": "10.10.0.2", "port": 8080}])])
    assert result["failed"] and "only masquerade can change it" in result["msg"]
    assert fake.calls == []
