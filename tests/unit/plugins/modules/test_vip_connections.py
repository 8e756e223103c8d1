# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""vip_connections: counts ESTABLISHED sockets on the VIPs from /proc/net/tcp{,6} (a fake proc dir here)."""

from __future__ import annotations

import socket

import pytest

from ansible_collections.anycast.fabric.plugins.modules import vip_connections as module
from conftest import call_module

HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
# 198.51.100.80 as /proc/net/tcp writes it (host order), ::ffff:198.51.100.80 and 2001:db8:ac::80 in tcp6's four words
VIP4 = "506433C6"
MAPPED = "0000000000000000FFFF0000506433C6"
VIP6 = "B80D0120" + "0000AC00" + "00000000" + "80000000"


def line(local, port, state, remote="0A5A640A:9C40"):
    return "   0: %s:%04X %s %s 00000000:00000000 00:00000000 00000000     0        0 1\n" % (local, port, remote, state)


@pytest.fixture
def proc(tmp_path):
    (tmp_path / "net").mkdir()
    tcp = [line(VIP4, 7000, "01"), line(VIP4, 80, "01"), line(VIP4, 7000, "0A"), line("0100007F", 7000, "01")]
    tcp6 = [line(MAPPED, 7000, "01", remote="0" * 32 + ":9C41"), line(VIP6, 80, "01", remote="0" * 32 + ":9C42")]
    (tmp_path / "net" / "tcp").write_text(HEADER + "".join(tcp))
    (tmp_path / "net" / "tcp6").write_text(HEADER + "".join(tcp6))
    return str(tmp_path)


def run(capsys, **args):
    return call_module(module.main, args, capsys)


def test_counts_established_on_the_vips_only(proc, capsys):
    out = run(capsys, vips=["198.51.100.80/32", "2001:db8:ac::80"], proc_dir=proc)
    # two IPv4 + one IPv4-mapped on 198.51.100.80; the listening socket (0A) and 127.0.0.1 are not counted
    assert out["per_vip"] == {"198.51.100.80": 3, "2001:db8:ac::80": 1}
    assert out["connections"] == 4 and out["initial"] == 4
    assert out["changed"] is False and out["timed_out"] is True and out["waited"] == 0.0


def test_port_filter(proc, capsys):
    out = run(capsys, vips=["198.51.100.80"], ports=[7000], proc_dir=proc)
    assert out["connections"] == 2


def test_waits_until_few_enough_remain(proc, capsys, monkeypatch):
    counts = iter([(5, {"198.51.100.80": 5}), (2, {"198.51.100.80": 2}), (1, {"198.51.100.80": 1})])
    monkeypatch.setattr(module, "count", lambda *_a: next(counts))
    monkeypatch.setattr(module.time, "sleep", lambda _s: None)
    out = run(capsys, vips=["198.51.100.80"], timeout=60, max_remaining=1, proc_dir=proc)
    assert out["initial"] == 5 and out["connections"] == 1 and out["timed_out"] is False


def test_bad_vip_fails_clearly(proc, capsys):
    out = run(capsys, vips=["not-an-address"], proc_dir=proc)
    assert out["failed"] and "vips" in out["msg"]


def test_address_decoding_matches_the_kernel_layout():
    assert str(module._address(VIP4)) == "198.51.100.80"
    assert str(module._address(MAPPED)) == "198.51.100.80"
    assert str(module._address(VIP6)) == "2001:db8:ac::80"
    # a real socket of this machine, read back from /proc
    assert socket.inet_aton("198.51.100.80")[::-1].hex().upper() == VIP4
