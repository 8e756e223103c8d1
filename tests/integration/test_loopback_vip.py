# -*- coding: utf-8 -*-
"""anycast.fabric.loopback_vip on a real kernel, in a private network namespace."""

from __future__ import annotations

import subprocess

import pytest

from conftest import netns_addresses, run_module

MODULE = "anycast.fabric.loopback_vip"
LOOPBACK = ["127.0.0.1/8", "::1/128"]


@pytest.fixture
def args(tmp_path):
    def make(**kwargs):
        kwargs.setdefault("state_dir", str(tmp_path / "state"))
        return kwargs

    return make


def test_adds_vips_then_changes_nothing_on_the_second_run(netns, args):
    first = run_module(MODULE, args(addresses=["198.51.100.10", "2001:db8:ac::10"]), netns=netns, diff=True)
    assert first["changed"] and first["added"] == ["198.51.100.10/32", "2001:db8:ac::10/128"]
    assert first["diff"]["after"] == "lo 198.51.100.10/32\nlo 2001:db8:ac::10/128\n"
    assert netns_addresses(netns) == sorted(LOOPBACK + ["198.51.100.10/32", "2001:db8:ac::10/128"])

    second = run_module(MODULE, args(addresses=["198.51.100.10", "2001:db8:ac::10"]), netns=netns)
    assert second["changed"] is False and second["added"] == [] and second["removed"] == []


def test_purge_removes_only_what_the_module_added(netns, args):
    # Someone else's host route on lo: not ours, must survive every purge.
    subprocess.run(["ip", "netns", "exec", netns, "ip", "addr", "add", "203.0.113.7/32", "dev", "lo"], check=True)
    run_module(MODULE, args(addresses=["198.51.100.10", "198.51.100.11"]), netns=netns)
    result = run_module(MODULE, args(addresses=["198.51.100.11"], purge=True), netns=netns)
    assert result["changed"] and result["removed"] == ["198.51.100.10/32"]
    assert result["vips"] == ["198.51.100.11/32"]
    assert netns_addresses(netns) == sorted(LOOPBACK + ["198.51.100.11/32", "203.0.113.7/32"])

    # Purging down to nothing still leaves loopback and foreign addresses alone.
    run_module(MODULE, args(addresses=[], purge=True), netns=netns)
    assert netns_addresses(netns) == sorted(LOOPBACK + ["203.0.113.7/32"])


def test_check_mode_reports_and_changes_nothing(netns, args, tmp_path):
    result = run_module(MODULE, args(addresses=["198.51.100.10"]), netns=netns, check=True, diff=True)
    assert result["changed"] and result["added"] == ["198.51.100.10/32"]
    assert result["diff"]["after"] == "lo 198.51.100.10/32\n"
    assert "198.51.100.10/32" not in netns_addresses(netns)
    assert not (tmp_path / "state").exists()


def test_absent_removes_listed_vips(netns, args):
    run_module(MODULE, args(addresses=["198.51.100.10", "198.51.100.11"]), netns=netns)
    result = run_module(MODULE, args(addresses=["198.51.100.10"], state="absent"), netns=netns)
    assert result["removed"] == ["198.51.100.10/32"] and result["vips"] == ["198.51.100.11/32"]
    assert "198.51.100.10/32" not in netns_addresses(netns)


def test_the_record_remembers_ownership_across_runs(netns, args, tmp_path):
    run_module(MODULE, args(addresses=["198.51.100.10"]), netns=netns)
    record = (tmp_path / "state" / "loopback_vip" / "lo.json").read_text()
    assert '"198.51.100.10/32"' in record and '"schema": 1' in record


def test_arp_sysctls_are_set_persisted_and_idempotent(netns, args, tmp_path):
    sysctl_file = str(tmp_path / "arp.conf")
    first = run_module(MODULE, args(addresses=[], arp_sysctls=True, sysctl_file=sysctl_file), netns=netns)
    assert first["changed"] and "net.ipv4.conf.all.arp_ignore=1" in first["sysctls_changed"]
    read = ["ip", "netns", "exec", netns, "sysctl", "-n", "net.ipv4.conf.all.arp_ignore", "net.ipv4.conf.all.arp_announce"]
    assert subprocess.run(read, capture_output=True, text=True, check=True).stdout.split() == ["1", "2"]
    assert "net.ipv4.conf.all.arp_announce = 2" in open(sysctl_file).read()
    second = run_module(MODULE, args(addresses=[], arp_sysctls=True, sysctl_file=sysctl_file), netns=netns)
    assert second["changed"] is False


def test_bad_input_fails_clearly_before_touching_anything(netns, args):
    result = run_module(MODULE, args(addresses=["198.51.100.10", "198.51.100.0/24"]), netns=netns)
    assert result.get("failed") and "is not a host address" in result["msg"]
    assert "198.51.100.10/32" not in netns_addresses(netns)


def test_missing_dummy_interface_is_created_or_the_failure_says_why(netns, args):
    # This machine's kernel has no dummy driver (a real Debian kernel has): the
    # module must either create the interface or say exactly what is missing.
    result = run_module(MODULE, args(interface="anycast0", addresses=["198.51.100.10"]), netns=netns)
    if result.get("failed"):
        assert "cannot create dummy interface anycast0" in result["msg"] and "dummy kernel module" in result["msg"]
    else:
        assert result["interface_created"] and netns_addresses(netns, "anycast0") == ["198.51.100.10/32"]


def test_refuses_to_create_lo_or_unknown_interfaces_when_told_not_to(netns, args):
    result = run_module(MODULE, args(interface="nosuch0", create_interface=False, addresses=["198.51.100.10"]), netns=netns)
    assert result.get("failed") and "interface nosuch0 does not exist" in result["msg"]
