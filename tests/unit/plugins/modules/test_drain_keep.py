# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""drain_keep: the zero-reset drain's nftables tables as rendered, its arguments, and the filters that feed it.

test_drain_keep_kernel.py loads these tables into network namespaces and moves a live connection.
"""

from __future__ import annotations

import ipaddress

import pytest

from ansible_collections.anycast.fabric.plugins.filter import drain_keep as filters
from ansible_collections.anycast.fabric.plugins.modules import drain_keep as module
from ansible_collections.anycast.fabric.plugins.modules import vip_connections
from conftest import call_module

PEERS = [{"name": "n2", "ipv4": "10.90.1.12/24", "ipv6": "fd00:90:1::12/64"}, {"name": "n5.rack-1", "ipv4": "10.90.1.13", "ipv6": ""}]
VIPS = [ipaddress.ip_address(a) for a in ("198.51.100.80", "2001:db8::80", "198.51.100.81")]


def rendered(peers=None, vips=None, port=4787, timeout=2):
    return module.render(VIPS if vips is None else vips, module.normalise_peers(PEERS if peers is None else peers), port, timeout)


def table(text, family):
    start = text.index("table %s %s {" % (family, module.TABLE))
    return text[start:text.index("\n}\n", start) + 3]


def test_both_families_get_a_table_of_their_own_with_their_vips():
    text = rendered()
    v4, v6 = table(text, "ip"), table(text, "ip6")
    assert "elements = { 198.51.100.80, 198.51.100.81 }" in v4 and "2001:db8::80" not in v4
    assert "elements = { 2001:db8::80 }" in v6 and "198.51.100.80" not in v6
    # nft has no dup in inet tables: one table per family, and the prerouting hook after conntrack, before DNAT.
    assert v4.count("type filter hook prerouting priority mangle; policy accept;") == 1


def test_orphans_are_non_syn_packets_without_a_tracked_connection():
    v4 = table(rendered(), "ip")
    assert "ip daddr @vips tcp flags & syn == 0 ct state new jump orphan" in v4
    # FIN and RST of a connection conntrack never saw are invalid, not new: they go to the draining node too.
    assert "ip daddr @vips tcp flags & (fin | rst) != 0 ct state invalid jump orphan" in v4


def test_each_rack_mate_forwards_only_while_its_heartbeats_arrive():
    v4, v6 = table(rendered(), "ip"), table(rendered(), "ip6")
    assert "ip saddr 10.90.1.12 update @alive_n2 { meta pkttype timeout 2s } drop" in v4
    assert "meta pkttype @alive_n2 dup to 10.90.1.12 drop" in v4
    assert "ip6 saddr fd00:90:1::12 update @alive_n2 { meta pkttype timeout 2s } drop" in v6
    assert "meta pkttype @alive_n2 dup to fd00:90:1::12 drop" in v6
    # A name nft would not take is reduced; a peer without IPv6 is not in the IPv6 table.
    n5 = module.set_name({"name": "n5.rack-1"})
    assert n5.startswith("alive_n5_rack_1_") and "dup to 10.90.1.13 drop" in v4 and "@" + n5 in v4
    assert n5 not in v6
    # The copy goes to the address as next hop: no interface bound at load time.
    assert "device" not in v4 + v6


def test_peer_order_is_preference_order_and_the_port_and_timeout_are_rendered():
    text = table(rendered(port=5000, timeout=3), "ip")
    assert text.index("dup to 10.90.1.12") < text.index("dup to 10.90.1.13")
    assert "udp dport 5000 jump heartbeat" in text and "timeout 3s" in text


def test_no_peers_still_renders_the_tables_that_turn_conntrack_on():
    text = rendered(peers=[], vips=[])
    assert "ct state new" in table(text, "ip") and "ct state new" in table(text, "ip6")
    assert "dup to" not in text and "elements" not in text


def test_the_load_replaces_both_tables_in_one_transaction():
    script = module.load_script("X\n")
    assert script.splitlines()[:4] == [
        "table ip anycast_fabric_keep", "delete table ip anycast_fabric_keep",
        "table ip6 anycast_fabric_keep", "delete table ip6 anycast_fabric_keep"]
    assert script.endswith("X\n")


@pytest.mark.parametrize("peer, message", [
    ({"ipv4": "10.0.0.1"}, "needs a name"),
    ({"name": "n2", "ipv4": "fd00::1"}, "not an IPv4 address"),
    ({"name": "n2", "ipv6": "10.0.0.1"}, "not an IPv6 address"),
])
def test_bad_peers_are_named(peer, message):
    with pytest.raises(ValueError, match=message):
        module.normalise_peers([peer])


def test_the_module_refuses_a_timeout_the_heartbeat_cannot_keep(capsys):
    result = call_module(module.main, {"state": "ready", "timeout": 1, "interval": 0.5}, capsys)
    assert result["failed"] and "more than twice interval" in result["msg"]


def test_heartbeat_needs_a_shared_family(capsys):
    result = call_module(module.main, {"state": "heartbeat", "peers": [{"name": "n2", "ipv6": "fd00::2"}], "source": {"ipv4": "10.0.0.1"}}, capsys)
    assert result["failed"] and "share no address family" in result["msg"]


INTENTS = {
    "n1": {"role": "node", "site": "s", "rack": "r1", "ipv4": "10.90.1.11/24", "ipv6": None},
    "n2": {"role": "node", "site": "s", "rack": "r1", "ipv4": "10.90.1.12/24", "ipv6": "fd00:90:1::12/64"},
    "n5": {"role": "node", "site": "s", "rack": "r1", "ipv4": "10.90.1.13/24", "ipv6": None},
    "n3": {"role": "node", "site": "s", "rack": "r2", "ipv4": "10.90.2.11/24", "ipv6": None},
    "n4": {"role": "node", "site": "s", "rack": "r2", "ipv4": "10.90.2.12/24", "ipv6": None},
    "n6": {"role": "node", "site": "s", "rack": "r3", "ipv4": "10.90.3.11/24", "ipv6": None},
    "tor1": {"role": "tor", "site": "s", "rack": "r1", "ipv4": "10.90.1.2/24", "ipv6": None},
    "x1": {"role": "node", "site": "other", "rack": "r1", "ipv4": "10.91.1.11/24", "ipv6": None},
}


def test_rack_mates_are_the_nodes_of_the_same_site_and_rack():
    assert filters.drain_keep_peers(INTENTS, "n1") == [
        {"name": "n2", "ipv4": "10.90.1.12", "ipv6": "fd00:90:1::12"},
        {"name": "n5", "ipv4": "10.90.1.13", "ipv6": ""}]
    assert filters.drain_keep_peers(INTENTS, "n6") == []


def test_one_keep_drain_per_rack():
    assert filters.drain_keep_conflicts(INTENTS, {}, ["n1", "n3"]) == []
    both = filters.drain_keep_conflicts(INTENTS, {}, ["n1", "n2"])
    assert len(both) == 1 and "same rack" in both[0]
    busy = filters.drain_keep_conflicts(INTENTS, {"n2": {"state": "draining"}}, ["n1"])
    assert len(busy) == 1 and "n2 is draining" in busy[0]


def test_a_keep_drain_needs_a_rack_mate_in_service():
    lonely = filters.drain_keep_conflicts(INTENTS, {}, ["n6"])
    assert len(lonely) == 1 and "no rack-mate in service" in lonely[0]
    gone = filters.drain_keep_conflicts(INTENTS, {}, ["n1"], ["n2", "n5"])
    assert len(gone) == 1 and "no rack-mate in service" in gone[0]


def test_vip_connections_closes_ipv4_vips_also_as_mapped_addresses():
    vips = [ipaddress.ip_address("198.51.100.80"), ipaddress.ip_address("2001:db8::80")]
    assert vip_connections.ss_filter(vips, set()) == (
        "( src 198.51.100.80 or src [::ffff:198.51.100.80] or src [2001:db8::80] )")
    assert vip_connections.ss_filter(vips[:1], {7000}).endswith("and ( sport = :7000 )")


def test_set_names_stay_distinct_and_short_for_punctuation_twins_and_long_fqdns():
    names = ["n-1", "n_1", "n.1", "x" * 240 + ".a.example", "x" * 240 + ".b.example", "n2"]
    sets = [module.set_name({"name": n}) for n in names]
    assert len(set(sets)) == len(names) and all(len(s) <= 64 for s in sets)
    assert module.set_name({"name": "n2"}) == "alive_n2"
