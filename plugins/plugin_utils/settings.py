# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fabric-wide settings: the BGP policy (`fabric_bgp`) and the node ASN scheme."""

from __future__ import annotations

from ansible_collections.anycast.fabric.plugins.plugin_utils.inputs import HIDDEN


# Safe defaults. Each one is documented in docs/data-model.md; keep them in step.
BGP_DEFAULTS = {
    # Data-center timers: a dead peer without BFD is dropped after 9 s, not
    # the 180-240 s of the daemons' own defaults.
    "keepalive_time": 3,
    "hold_time": 9,
    # BFD removes a silently dead node from ECMP in about 0.3 s; the same
    # explicit timers are rendered on both ends so detection is symmetric.
    "bfd": True,
    "bfd_interval_ms": 100,
    "bfd_multiplier": 3,
    # Off: a ToR acting as graceful-restart helper keeps a dead node's routes
    # as stale for the restart time, which defeats BFD.
    "graceful_restart": False,
    "password": None,
    # GTSM makes FRR run multihop BFD, which BIRD's single-hop BFD never
    # answers; the model refuses the combination with BFD.
    "ttl_security": False,
    "max_prefixes": 100,
    "ecmp_paths": 64,
    # BIRD only: after a session error, BIRD waits `error wait time` before it
    # reconnects (60-300 s by default); these bring a node back within seconds.
    "connect_retry_time": 2,
    "error_wait_time": [1, 30],
}

ASN_SCHEMES = ("per_rack", "per_node")
PRIVATE_ASN_BASE = 4200000000
RESERVED_ASNS = {0: "reserved (RFC 7607)", 23456: "AS_TRANS (RFC 6793)", 65535: "reserved (RFC 7300)", 4294967295: "reserved (RFC 7300)"}
MAX_ASN = 4294967295
PASSWORD_MAX = 80  # TCP-MD5 keys are at most 80 bytes (Linux TCP_MD5SIG_MAXKEYLEN)


def read_bgp(reader, value):
    """Validate `fabric_bgp` and merge it over the defaults."""
    path = "fabric_bgp"
    given = reader.dict_of(path, value, BGP_DEFAULTS, secret=True)
    if given is None:
        return dict(BGP_DEFAULTS)
    bgp = dict(BGP_DEFAULTS)
    for key, raw in given.items():
        if key not in BGP_DEFAULTS:
            continue
        sub = "%s.%s" % (path, key)
        if key in ("bfd", "graceful_restart", "ttl_security"):
            bgp[key] = reader.boolean(sub, raw)
        elif key == "keepalive_time":
            bgp[key] = reader.integer(sub, raw, 1, 21845, " seconds")
        elif key == "hold_time":
            bgp[key] = reader.integer(sub, raw, 3, 65535, " seconds")
        elif key == "bfd_interval_ms":
            bgp[key] = reader.integer(sub, raw, 10, 60000, " milliseconds")
        elif key == "bfd_multiplier":
            bgp[key] = reader.integer(sub, raw, 2, 255)
        elif key == "max_prefixes":
            bgp[key] = reader.integer(sub, raw, 1, 4294967295)
        elif key == "ecmp_paths":
            bgp[key] = reader.integer(sub, raw, 1, 256)
        elif key == "connect_retry_time":
            bgp[key] = reader.integer(sub, raw, 1, 65535, " seconds")
        elif key == "error_wait_time":
            bgp[key] = _error_wait(reader, sub, raw)
        elif key == "password":
            bgp[key] = _password(reader, sub, raw)
    _cross_check(reader, bgp)
    return bgp


def _error_wait(reader, path, raw):
    if not isinstance(raw, (list, tuple)) or len(raw) != 2:
        reader.fail(path, raw, "must be a list of two integers [min, max] in seconds")
        return None
    low = reader.integer(path + "[0]", raw[0], 1, 65535, " seconds")
    high = reader.integer(path + "[1]", raw[1], 1, 65535, " seconds")
    if low is not None and high is not None and low > high:
        reader.fail(path, raw, "the first value (min) must not exceed the second (max)")
        return None
    return [low, high]


def _password(reader, path, raw):
    if raw is None:
        return None
    # Both daemons take the key as one word; BIRD quotes it (and has no
    # escapes), so quotes and backslashes are refused. The kernel's limit is
    # in bytes: a key of 41 two-byte characters is 82 bytes, too long.
    bad = (
        not isinstance(raw, str)
        or not 1 <= len(raw.encode("utf-8", "surrogatepass")) <= PASSWORD_MAX
        or any(c.isspace() or c in "\"'\\" or not c.isprintable() for c in raw)
    )
    if bad:
        # Never echo a secret back, not even a wrong one.
        reader.fail(path, HIDDEN, "must be 1-%d bytes (UTF-8) of printable characters without spaces, quotes or backslashes" % PASSWORD_MAX)
        return None
    return raw


def _cross_check(reader, bgp):
    keepalive, hold = bgp["keepalive_time"], bgp["hold_time"]
    if keepalive is not None and hold is not None and keepalive >= hold:
        reader.fail("fabric_bgp.keepalive_time", keepalive, "must be lower than fabric_bgp.hold_time (%s)" % hold)
    if bgp["ttl_security"] and bgp["bfd"]:
        reader.fail(
            "fabric_bgp.ttl_security",
            True,
            "cannot be combined with fabric_bgp.bfd: with ttl-security FRR runs multihop BFD while BIRD runs single-hop BFD, "
            "so BFD never comes up; disable one of them",
        )


def read_asn_scheme(reader, scheme, base):
    scheme = reader.choice("fabric_node_asn_scheme", scheme, ASN_SCHEMES)
    base = reader.integer("fabric_node_asn_base", base, 1, MAX_ASN - 1)
    if base is not None and base in RESERVED_ASNS:
        reader.fail("fabric_node_asn_base", base, "is %s" % RESERVED_ASNS[base])
        base = None
    return scheme, base


def asn_problem(value):
    """Why an ASN cannot be used, or None."""
    if value in RESERVED_ASNS:
        return "is %s and cannot be used" % RESERVED_ASNS[value]
    return None
