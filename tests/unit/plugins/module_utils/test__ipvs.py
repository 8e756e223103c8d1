# -*- coding: utf-8 -*-
"""anycast.fabric.ipvs pure logic: validation, `ipvsadm -S -n` parsing, planning, the batch, the record.

No kernel needed: the `ipvsadm -S -n` text below was captured from ipvsadm 1.31
on Debian 12's 6.1 cloud kernel (the lab VM), so the parser is tested against
what the real tool prints.
"""

from __future__ import annotations

import ipaddress
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.anycast.fabric.plugins.module_utils._ipvs.addresses import normalize_netmask
from ansible_collections.anycast.fabric.plugins.module_utils._ipvs.common import IpvsError
from ansible_collections.anycast.fabric.plugins.module_utils._ipvs.desired import normalize_services
from ansible_collections.anycast.fabric.plugins.module_utils._ipvs.keys import parse_key, real_server_key, service_key
from ansible_collections.anycast.fabric.plugins.module_utils._ipvs.parse import _parse_real_server, _service_identity, parse_save
from ansible_collections.anycast.fabric.plugins.module_utils._ipvs.plan import mismatches, plan, same_service
from ansible_collections.anycast.fabric.plugins.module_utils._ipvs.record import read_record, record_path, write_record
from ansible_collections.anycast.fabric.plugins.module_utils._ipvs.render import dump

# Real output (ipvsadm 1.31, Linux 6.1): every protocol, both families,
# fwmark, persistence with netmasks, pe, one-packet, scheduler flags under
# their generic and sh/mh names, all forwarding methods and tunnel types.
# ipvsadm prints service options in the order -s, -p, -M, --pe, -o, -b.
SAVED = """\
-A -t 192.0.2.1:80 -s rr -b flag-1,flag-3
-a -t 192.0.2.1:80 -r [2001:db8::5]:80 -i -w 1 --tun-type ipip
-A -t 192.0.2.2:80 -s rr -p 10
-a -t 192.0.2.2:80 -r 10.9.0.1:80 -m -w 1
-a -t 192.0.2.2:80 -r 10.9.0.2:80 -i -w 1 --tun-type gue --tun-port 5555 --tun-nocsum
-a -t 192.0.2.2:80 -r 10.9.0.3:80 -i -w 1 --tun-type gue --tun-port 5556 --tun-remcsum
-a -t 192.0.2.2:80 -r 10.9.0.4:80 -g -w 1
-A -t 198.51.100.10:80 -s wrr -p 300 -M 255.255.255.0
-a -t 198.51.100.10:80 -r 10.1.0.2:8080 -m -w 3
-a -t 198.51.100.10:80 -r 10.1.0.3:80 -g -w 0
-A -u 192.0.2.3:53 -s rr --pe sip -o
-A -u 198.51.100.14:53 -s rr -o
-A --sctp-service 198.51.100.11:3868 -s wlc
-a --sctp-service 198.51.100.11:3868 -r 10.1.0.5:3868 -i -w 1 --tun-type gue --tun-port 6080 --tun-nocsum
-a --sctp-service 198.51.100.11:3868 -r 10.1.0.6:3868 -i -w 1 --tun-type gre --tun-nocsum
-A -t [2001:db8::1]:80 -s rr -p 360
-A -t [2001:db8::11]:80 -s rr -p 100 -M 64
-A -u [2001:db8::10]:53 -s sh -b sh-fallback,sh-port
-a -u [2001:db8::10]:53 -r [2001:db8:1::2]:53 -i -w 2 --tun-type ipip
-A -f 7 -s mh -b mh-port
-a -f 7 -r 10.1.0.4:0 -g -w 1
-A -f 8 -6 -s lc
-a -f 8 -6 -r [2001:db8:1::3]:0 -g -w 1
-A -f 9 -s mh -b mh-port
-a -f 9 -r 10.1.1.1:80 -g -w 1
-a -f 9 -r 10.1.1.3:0 -m -w 1
-A -f 10 -6 -s rr -p 30 -M 64
-A -u 192.0.2.50:53 -s sh -p 30 --pe sip -o -b sh-port
-A -u [2001:db8::51]:53 -s sh -p 30 -M 64 -b sh-port
-A -f 100 -s mh -p 300 -M 255.255.255.0 -b mh-port
-a -f 100 -r 10.200.1.2:0 -g -w 1
"""

WEB = {
    "protocol": "tcp",
    "address": "198.51.100.80",
    "port": 80,
    "scheduler": "wrr",
    "real_servers": [{"address": "10.10.0.2", "port": 8080, "weight": 2}, {"address": "10.10.0.3", "port": 8080}],
}
KEY = "tcp 198.51.100.80:80"


def svc(**overrides):
    spec = json.loads(json.dumps(WEB))
    spec.update(overrides)
    return spec


def desired(*specs):
    return normalize_services(list(specs))


def table(text):
    return parse_save(text)


# ---------------------------------------------------------------- parsing


def test_parse_reads_every_service_and_real_server():
    services = table(SAVED)
    assert len(services) == 16
    assert sum(len(s["real_servers"]) for s in services.values()) == 15
    web = services["tcp 198.51.100.10:80"]
    assert (web["scheduler"], web["persistence"], web["netmask"]) == ("wrr", 300, "255.255.255.0")
    assert web["real_servers"]["10.1.0.2:8080"] == {
        "address": "10.1.0.2",
        "port": 8080,
        "forwarding": "masquerade",
        "weight": 3,
        "tunnel_type": None,
        "tunnel_port": None,
        "tunnel_checksum": None,
    }
    assert web["real_servers"]["10.1.0.3:80"]["weight"] == 0
    assert services["udp 192.0.2.3:53"]["pe"] == "sip" and services["udp 192.0.2.3:53"]["ops"] is True
    assert services["udp [2001:db8::10]:53"]["flags"] == 3
    assert services["tcp 192.0.2.1:80"]["flags"] == 5
    assert services["fwmark 8 ipv6"]["real_servers"]["[2001:db8:1::3]:0"]["forwarding"] == "direct"
    assert services["fwmark 10 ipv6"]["netmask"] == "64"
    gue = services["tcp 192.0.2.2:80"]["real_servers"]["10.9.0.3:80"]
    assert (gue["tunnel_type"], gue["tunnel_port"], gue["tunnel_checksum"]) == ("gue", 5556, "remcsum")
    assert services["sctp 198.51.100.11:3868"]["real_servers"]["10.1.0.6:3868"]["tunnel_type"] == "gre"


def test_dump_prints_what_ipvsadm_prints():
    """Rendering uses ipvsadm's own option order: a parsed table dumps back to the same lines."""
    assert sorted(dump(table(SAVED)).splitlines()) == sorted(SAVED.splitlines())


def test_parse_of_an_empty_table():
    assert table("") == {} and table("\n") == {}


@pytest.mark.parametrize(
    "text, message",
    [
        ("-a -t 10.0.0.1:80 -r 10.0.0.2:80 -m -w 1\n", "not listed before"),
        ("-X -t 10.0.0.1:80\n", "not a service"),
        ("-A -s rr\n", "no service"),
        ("-A -t 10.0.0.1 -s rr\n", "address:port"),
        ("-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -m\n", "without -r"),
    ],
)
def test_parse_refuses_what_it_does_not_understand(text, message):
    with pytest.raises(IpvsError, match=message):
        table(text)


def test_unknown_service_options_are_kept_aside_and_not_compared():
    services = table("-A -t 10.0.0.1:80 -s rr --future-option 3\n")
    assert services["tcp 10.0.0.1:80"]["extra"] == ["--future-option", "3"]
    assert plan(desired(svc(address="10.0.0.1", scheduler="rr", real_servers=[])), services, [KEY.replace("198.51.100.80", "10.0.0.1")]).commands == []


# ---------------------------------------------------------------- validation


def test_normalize_defaults():
    service = desired({"address": "2001:DB8::0:80", "port": 443, "real_servers": [{"address": "2001:db8:1::2"}]})["tcp [2001:db8::80]:443"]
    assert service["scheduler"] == "wlc" and service["family"] == "ipv6"
    assert service["real_servers"] == {
        "[2001:db8:1::2]:443": {
            "address": "2001:db8:1::2",
            "port": 443,
            "forwarding": "masquerade",
            "weight": 1,
            "tunnel_type": None,
            "tunnel_port": None,
            "tunnel_checksum": None,
        }
    }


def test_direct_and_tunnel_real_servers_take_the_service_port():
    service = desired(svc(forwarding="direct", real_servers=[{"address": "10.10.0.2"}, {"address": "10.10.0.3", "port": 80}]))[KEY]
    assert sorted(service["real_servers"]) == ["10.10.0.2:80", "10.10.0.3:80"]
    with pytest.raises(IpvsError, match="only masquerade can change it"):
        desired(svc(forwarding="direct", real_servers=[{"address": "10.10.0.2", "port": 8080}]))


def test_fwmark_real_servers_default_to_port_zero():
    service = desired({"protocol": "fwmark", "fwmark": 7, "scheduler": "rr", "real_servers": [{"address": "10.1.0.4", "forwarding": "direct"}]})["fwmark 7"]
    assert list(service["real_servers"]) == ["10.1.0.4:0"]
    assert dump({"fwmark 7": service}) == "-A -f 7 -s rr\n-a -f 7 -r 10.1.0.4:0 -g -w 1\n"


@pytest.mark.parametrize(
    "raw, family, mask",
    [("255.255.255.0", "ipv4", "255.255.255.0"), ("24", "ipv4", "255.255.255.0"), ("/16", "ipv4", "255.255.0.0"),
     ("32", "ipv4", None), ("255.255.255.255", "ipv4", None), ("64", "ipv6", "64"), ("128", "ipv6", None), (None, "ipv4", None)],
)
def test_netmask(raw, family, mask):
    assert normalize_netmask(raw, family) == mask


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"protocol": "icmp", "address": "10.0.0.1", "port": 1}, "protocol"),
        ({"address": "10.0.0.1"}, "needs port"),
        ({"port": 80}, "needs address"),
        ({"address": "nonsense", "port": 80}, "not an IP address"),
        ({"address": "0.0.0.0", "port": 80}, "unspecified"),
        ({"address": "10.0.0.1", "port": 70000}, "between"),
        ({"address": "10.0.0.1", "port": 0}, "port 0"),
        ({"address": "10.0.0.1", "port": 80, "family": "ipv6"}, "is ipv4"),
        ({"address": "10.0.0.1", "port": 80, "fwmark": 3}, "only for protocol fwmark"),
        ({"protocol": "fwmark"}, "needs fwmark"),
        ({"protocol": "fwmark", "fwmark": 3, "address": "10.0.0.1"}, "no address or port"),
        ({"protocol": "fwmark", "fwmark": 0}, "between"),
        ({"address": "10.0.0.1", "port": 80, "scheduler": "Round Robin"}, "not a scheduler"),
        ({"address": "10.0.0.1", "port": 80, "scheduler": "rr", "scheduler_flags": ["sh-port"]}, "for the sh scheduler"),
        ({"address": "10.0.0.1", "port": 80, "scheduler_flags": ["fast"]}, "unknown scheduler flag"),
        ({"address": "10.0.0.1", "port": 80, "persistence_netmask": "24"}, "needs persistence_timeout"),
        ({"address": "10.0.0.1", "port": 80, "persistence_timeout": 60, "persistence_netmask": "255.0.255.0"}, "not an IPv4 netmask"),
        ({"address": "10.0.0.1", "port": 80, "one_packet": True}, "only for UDP"),
        ({"address": "10.0.0.1", "port": 80, "real_servers": [{"port": 80}]}, "needs address"),
        ({"address": "10.0.0.1", "port": 80, "real_servers": [{"address": "10.0.0.2"}, {"address": "10.0.0.2"}]}, "listed twice"),
        ({"address": "10.0.0.1", "port": 80, "real_servers": [{"address": "2001:db8::2"}]}, "only through a tunnel"),
        ({"address": "10.0.0.1", "port": 80, "real_servers": [{"address": "10.0.0.2", "weight": -1}]}, "weight"),
        ({"address": "10.0.0.1", "port": 80, "real_servers": [{"address": "10.0.0.2", "weight": 65536}]}, "weight"),
        ({"address": "10.0.0.1", "port": 80, "real_servers": [{"address": "10.0.0.2", "forwarding": "nat"}]}, "forwarding"),
        ({"address": "10.0.0.1", "port": 80, "real_servers": [{"address": "10.0.0.2", "tunnel_type": "gre"}]}, "need forwarding: tunnel"),
        ({"address": "10.0.0.1", "port": 80, "forwarding": "tunnel", "real_servers": [{"address": "10.0.0.2", "tunnel_type": "gue"}]}, "needs tunnel_port"),
        ({"address": "10.0.0.1", "port": 80, "forwarding": "tunnel", "real_servers": [{"address": "10.0.0.2", "tunnel_port": 6080}]}, "only for gue"),
        (
            {"address": "10.0.0.1", "port": 80, "forwarding": "tunnel", "real_servers": [{"address": "10.0.0.2", "tunnel_checksum": "csum"}]},
            "only for gue and gre",
        ),
    ],
)
def test_invalid_services_are_refused_with_a_reason(spec, message):
    with pytest.raises(IpvsError, match=message):
        desired(spec)


def test_duplicate_services_are_refused():
    with pytest.raises(IpvsError, match="listed twice"):
        desired(svc(), svc(address="198.51.100.080".replace("080", "80")))


def test_mixed_family_is_allowed_through_a_tunnel():
    service = desired(svc(forwarding="tunnel", real_servers=[{"address": "2001:db8::5"}]))[KEY]
    assert service["real_servers"]["[2001:db8::5]:80"]["tunnel_type"] == "ipip"


# ---------------------------------------------------------------- planning


def test_create_on_an_empty_table():
    the_plan = plan(desired(svc()), {}, [])
    assert the_plan.created == [KEY] and the_plan.owned == [KEY]
    assert the_plan.commands == [
        "-A -t 198.51.100.80:80 -s wrr",
        "-a -t 198.51.100.80:80 -r 10.10.0.2:8080 -m -w 2",
        "-a -t 198.51.100.80:80 -r 10.10.0.3:8080 -m -w 1",
    ]
    assert the_plan.batch() == "".join(line + "\n" for line in the_plan.commands)


def test_second_run_is_a_no_op():
    wanted = desired(svc())
    applied = table(dump(wanted))
    the_plan = plan(wanted, applied, [KEY])
    assert not the_plan.changed and the_plan.created == the_plan.modified == the_plan.removed == []
    assert mismatches(the_plan.expected, applied) == []


def test_weight_change_is_one_edit():
    wanted = desired(svc(real_servers=[{"address": "10.10.0.2", "port": 8080, "weight": 2}, {"address": "10.10.0.3", "port": 8080, "weight": 0}]))
    the_plan = plan(wanted, table(dump(desired(svc()))), [KEY])
    assert the_plan.modified == [KEY]
    assert the_plan.commands == ["-e -t 198.51.100.80:80 -r 10.10.0.3:8080 -m -w 0"]


def test_scheduler_change_edits_the_service_in_place():
    the_plan = plan(desired(svc(scheduler="mh", scheduler_flags=["mh-port"])), table(dump(desired(svc()))), [KEY])
    assert the_plan.commands == ["-E -t 198.51.100.80:80 -s mh -b mh-port"]


def test_replacing_backends_adds_before_it_deletes():
    wanted = desired(svc(real_servers=[{"address": "10.10.0.4", "port": 8080}]))
    the_plan = plan(wanted, table(dump(desired(svc()))), [KEY])
    assert the_plan.commands == [
        "-a -t 198.51.100.80:80 -r 10.10.0.4:8080 -m -w 1",
        "-d -t 198.51.100.80:80 -r 10.10.0.2:8080",
        "-d -t 198.51.100.80:80 -r 10.10.0.3:8080",
    ]


def test_real_servers_added_by_hand_to_an_owned_service_are_removed():
    current = table(dump(desired(svc())) + "-a -t 198.51.100.80:80 -r 10.10.0.9:8080 -m -w 1\n")
    assert plan(desired(svc()), current, [KEY]).commands == ["-d -t 198.51.100.80:80 -r 10.10.0.9:8080"]


def test_purge_removes_owned_services_only():
    current = table(SAVED + dump(desired(svc())))
    # 198.51.100.10:80 exists (kube-proxy's, say) and is not ours: never touched.
    the_plan = plan({}, current, [KEY, "udp [2001:db8::99]:53"], purge=True)
    assert the_plan.removed == [KEY] and the_plan.commands == ["-D -t 198.51.100.80:80"]
    assert the_plan.owned == []


def test_without_purge_unlisted_owned_services_stay_and_stay_owned():
    the_plan = plan({}, table(dump(desired(svc()))), [KEY])
    assert the_plan.commands == [] and the_plan.owned == [KEY]


def test_an_existing_foreign_service_is_a_conflict_unless_adopted():
    current = table(SAVED)
    foreign = svc(address="198.51.100.10", real_servers=[])
    the_plan = plan(desired(foreign), current, [])
    assert the_plan.conflicts == ["tcp 198.51.100.10:80"] and the_plan.commands == []
    adopted = plan(desired(foreign), current, [], adopt=True)
    assert adopted.conflicts == [] and adopted.owned == ["tcp 198.51.100.10:80"]
    assert adopted.commands == [
        "-E -t 198.51.100.10:80 -s wrr",
        "-d -t 198.51.100.10:80 -r 10.1.0.2:8080",
        "-d -t 198.51.100.10:80 -r 10.1.0.3:80",
    ]


def test_an_identical_service_is_adopted_without_commands():
    wanted = desired(svc())
    the_plan = plan(wanted, table(dump(wanted)), [], adopt=True)
    assert the_plan.commands == [] and the_plan.owned == [KEY]


def test_absent_removes_owned_and_skips_foreign():
    current = table(SAVED + dump(desired(svc())))
    wanted = desired(svc(), svc(address="198.51.100.10"), svc(address="198.51.100.99"))
    the_plan = plan(wanted, current, [KEY], state="absent")
    assert the_plan.removed == [KEY] and the_plan.not_owned == ["tcp 198.51.100.10:80"]
    assert the_plan.commands == ["-D -t 198.51.100.80:80"] and the_plan.owned == []
    assert plan(wanted, current, [KEY], state="absent", adopt=True).removed == ["tcp 198.51.100.10:80", KEY]


def test_services_missing_from_the_kernel_are_recreated():
    """After a reboot the record lists services the kernel lost: they come back."""
    the_plan = plan(desired(svc()), {}, [KEY])
    assert the_plan.created == [KEY] and the_plan.owned == [KEY]


def test_fwmark_and_ipv6_services_plan_and_delete():
    fw = {"protocol": "fwmark", "fwmark": 8, "family": "ipv6", "scheduler": "lc", "forwarding": "direct", "real_servers": [{"address": "2001:db8:1::3"}]}
    current = table(SAVED)
    assert plan(desired(fw), current, ["fwmark 8 ipv6"]).commands == []
    assert plan({}, current, ["fwmark 8 ipv6"], purge=True).commands == ["-D -f 8 -6"]


def test_mismatches_name_what_the_batch_did_not_do():
    wanted = desired(svc())
    the_plan = plan(wanted, {}, [])
    assert mismatches(the_plan.expected, {}) == [KEY + " is missing"]
    half = table("-A -t 198.51.100.80:80 -s wrr\n")
    assert mismatches(the_plan.expected, half)[0].startswith(KEY + " is ")
    gone = plan({}, table(dump(wanted)), [KEY], purge=True)
    assert mismatches(gone.expected, table(dump(wanted))) == [KEY + " still exists"]
    assert mismatches(gone.expected, {}) == []


def test_batch_order_is_stable_across_runs():
    many = [svc(address="198.51.100.%d" % i) for i in (30, 4, 200, 17)]
    a = plan(desired(*many), {}, []).commands
    b = plan(desired(*reversed(many)), {}, []).commands
    assert a == b and a[0] == "-A -t 198.51.100.4:80 -s wrr"


# ---------------------------------------------------------------- keys and record


@pytest.mark.parametrize("key", ["tcp 198.51.100.80:80", "udp [2001:db8::53]:53", "sctp 10.0.0.1:3868", "fwmark 7", "fwmark 7 ipv6"])
def test_keys_round_trip(key):
    ident = parse_key(key)
    assert service_key(ident) == key


@pytest.mark.parametrize("key", ["tcp 1.2.3.4", "fwmark x", "fwmark 7 ipv5", "icmp 1.2.3.4:1", ""])
def test_bad_keys(key):
    with pytest.raises(IpvsError):
        parse_key(key)


def test_record_round_trip(tmp_path):
    path = record_path(str(tmp_path), "web")
    assert path == str(tmp_path / "ipvs" / "web.json")
    assert read_record(path) == []
    write_record(path, "web", ["fwmark 7", KEY, KEY])
    data = json.loads((tmp_path / "ipvs" / "web.json").read_text())
    assert data == {"schema": 1, "owner": "web", "services": [KEY, "fwmark 7"]}
    assert read_record(path) == [KEY, "fwmark 7"]
    assert [p.name for p in (tmp_path / "ipvs").iterdir()] == ["web.json"]  # no temp files left


@pytest.mark.parametrize(
    "body, message",
    [("{", "not valid JSON"), ("[]", "not an anycast.fabric record"), ('{"schema": 99}', "newer"), ('{"schema": 1, "services": ["x"]}', "not a service key")],
)
def test_record_refuses_what_it_cannot_trust(tmp_path, body, message):
    path = tmp_path / "r.json"
    path.write_text(body)
    with pytest.raises(IpvsError, match=message):
        read_record(str(path))


@pytest.mark.parametrize("owner", ["", "../etc", "a b", "x/y", ".hidden"])
def test_owner_names_cannot_escape_the_state_dir(owner):
    with pytest.raises(IpvsError):
        record_path("/var/lib/anycast-fabric", owner)


# ---------------------------------------------------------------- properties

addresses4 = st.integers(min_value=0x0A000001, max_value=0x0AFFFFFE).map(lambda n: str(ipaddress.IPv4Address(n)))
addresses6 = st.integers(min_value=1, max_value=2**64).map(lambda n: str(ipaddress.IPv6Address((0x20010DB8 << 96) + n)))


@st.composite
def service_specs(draw):
    v6 = draw(st.booleans())
    address = addresses6 if v6 else addresses4
    protocol = draw(st.sampled_from(["tcp", "udp", "sctp", "fwmark"]))
    scheduler = draw(st.sampled_from(["rr", "wrr", "lc", "wlc", "sh", "mh", "sed"]))
    flags = draw(st.sampled_from([[], ["flag-1"], ["flag-2", "flag-3"]] + ([["%s-port" % scheduler]] if scheduler in ("sh", "mh") else [])))
    persistence = draw(st.sampled_from([0, 60, 360]))
    spec = {"protocol": protocol, "scheduler": scheduler, "scheduler_flags": flags, "persistence_timeout": persistence}
    if persistence and draw(st.booleans()):
        spec["persistence_netmask"] = draw(st.sampled_from(["48", "64"] if v6 else ["24", "255.255.0.0"]))
    if protocol == "fwmark":
        spec.update(fwmark=draw(st.integers(min_value=1, max_value=2**32 - 1)), family="ipv6" if v6 else "ipv4")
    else:
        spec.update(address=draw(address), port=draw(st.integers(min_value=1, max_value=65535)))
    if protocol == "udp":
        spec["one_packet"] = draw(st.booleans())
    servers = draw(st.lists(address, max_size=4, unique=True))
    spec["real_servers"] = []
    for server in servers:
        rs = {"address": server, "weight": draw(st.integers(min_value=0, max_value=100))}
        rs["forwarding"] = draw(st.sampled_from(["direct", "tunnel", "masquerade"]))
        if rs["forwarding"] == "masquerade":
            rs["port"] = draw(st.integers(min_value=1, max_value=65535))
        if rs["forwarding"] == "tunnel":
            rs["tunnel_type"] = draw(st.sampled_from(["ipip", "gre", "gue"]))
            if rs["tunnel_type"] == "gue":
                rs["tunnel_port"] = draw(st.integers(min_value=1, max_value=65535))
        spec["real_servers"].append(rs)
    return spec


@settings(max_examples=200, deadline=None)
@given(st.lists(service_specs(), max_size=5))
def test_dump_then_parse_is_identity_and_replans_to_nothing(specs):
    try:
        wanted = desired(*specs)
    except IpvsError:
        return  # duplicates drawn: refused, as tested above
    parsed = table(dump(wanted))
    assert {k: same_service(wanted[k], parsed[k]) for k in wanted} == {k: True for k in wanted}
    assert plan(wanted, parsed, list(wanted)).commands == []


@settings(max_examples=100, deadline=None)
@given(st.lists(service_specs(), max_size=4), st.lists(service_specs(), max_size=4))
def test_applying_the_batch_reaches_the_desired_state(before_specs, after_specs):
    """Simulate the kernel: replay the batch on the parsed table; the result equals the desired state."""
    try:
        before, after = desired(*before_specs), desired(*after_specs)
    except IpvsError:
        return
    current = table(dump(before))
    the_plan = plan(after, current, list(before), purge=True, adopt=True)
    simulated = _apply(current, the_plan.commands)
    assert mismatches(the_plan.expected, simulated) == []
    assert set(simulated) == set(after)


def _apply(services, commands):
    """A minimal model of what the kernel does with each batch line (enough to check the plan's order)."""
    state = json.loads(json.dumps(services))
    for line in commands:
        verb, rest = line.split(" ", 1)
        if verb in ("-A", "-E"):
            parsed = table("-A " + rest + "\n")
            key, service = next(iter(parsed.items()))
            assert (key in state) == (verb == "-E"), line
            if verb == "-E":
                service["real_servers"] = state[key]["real_servers"]
            state[key] = service
        elif verb == "-D":
            key = service_key(_service_identity(rest.split(), line)[0])
            assert key in state, line
            del state[key]
        else:
            ident, rs = _parse_real_server(rest.split(), line)
            key, rs_key = service_key(ident), real_server_key(rs)
            servers = state[key]["real_servers"]
            assert (rs_key in servers) == (verb != "-a"), line
            if verb == "-d":
                del servers[rs_key]
            else:
                servers[rs_key] = rs
    return state
