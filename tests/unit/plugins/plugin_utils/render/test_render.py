# -*- coding: utf-8 -*-
"""Rendering: what the text must and must not contain, checked with the real parsers."""

from __future__ import annotations

import pytest

from ansible_collections.anycast.fabric.plugins.plugin_utils.model import model
from ansible_collections.anycast.fabric.plugins.plugin_utils.render import render
from conftest import parse_config
from fabric_factory import small_fabric

PASSWORD = "s3cret-md5"


def rendered(hosts_groups=None, **fabric):
    hosts, groups = hosts_groups or small_fabric(**fabric)
    intents, problems = model.build(hosts, groups)
    assert not problems, problems.messages()
    password = hosts["n1"]["fabric_bgp"].get("password")
    return {name: render.render(intent, password=password) for name, intent in intents.items()}


def check_parses(tmp_path, name, text, filename):
    path = tmp_path / name / filename
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    ok, output = parse_config(path)
    assert ok, "%s rejected by its parser:\n%s\n---\n%s" % (name, output, text)


def test_every_host_of_the_small_fabric_parses(tmp_path):
    hosts, groups = small_fabric()
    intents = model.build(hosts, groups)[0]
    for name, text in rendered((hosts, groups)).items():
        check_parses(tmp_path, name, text, render.config_filename(intents[name]))


def test_bird_node_imports_nothing_and_filters_exports():
    text = rendered()["n1"]
    assert text.count("import none;") == 1
    assert "export filter export_ipv4;" in text
    assert 'interface "lo";' in text
    assert "import where net ~ VIPS_IPV4;" in text
    assert "route 10.244.1.0/24 unreachable;" in text
    assert 'password "%s";' % PASSWORD in text
    assert "multiplier 3;" in text and "min rx interval 100 ms;" in text


def test_frr_tor_has_explicit_policy_both_ways_for_every_neighbor():
    text = rendered()["tor1"]
    for address in ("10.1.1.11", "10.1.1.12"):
        assert " neighbor %s route-map FROM-" % address in text
        assert " neighbor %s maximum-prefix 100" % address in text
    assert " neighbor NODES-V4 route-map DENY-ALL out" in text
    assert " neighbor SPINES-V4 route-map TO-SPINES-V4 out" in text
    assert " bgp bestpath as-path multipath-relax" in text
    assert "maximum-paths 64" in text


def test_frr_never_renders_lines_equal_to_frr_defaults():
    # timers 60/180, BFD 300 ms x 3 and 256 paths are what FRR does anyway:
    # running-config hides them, so rendering them would make frr-reload
    # replay them on every run.
    text = rendered(fabric_bgp={"keepalive_time": 60, "hold_time": 180, "bfd_interval_ms": 300, "ecmp_paths": 256})["tor1"]
    assert "timers bgp" not in text
    assert "receive-interval" not in text and "transmit-interval" not in text and "detect-multiplier" not in text
    assert "maximum-paths" not in text
    # ...while BIRD, whose defaults differ (rx 10 ms, multiplier 5), always gets explicit timers.
    bird = rendered(fabric_bgp={"bfd_interval_ms": 300})["n1"]
    assert "min rx interval 300 ms;" in bird and "multiplier 3;" in bird


def test_bfd_off_removes_every_bfd_line():
    texts = rendered(fabric_bgp={"bfd": False})
    assert "bfd" not in texts["tor1"]
    assert "bfd" not in texts["n1"]


def test_optional_features_render_and_parse(tmp_path):
    hosts, groups = small_fabric(fabric_bgp={"password": PASSWORD, "bfd": False, "ttl_security": True, "graceful_restart": True})
    intents = model.build(hosts, groups)[0]
    texts = rendered((hosts, groups))
    assert "ttl security on;" in texts["n1"] and "graceful restart on;" in texts["n1"]
    assert " neighbor TORS-V4 ttl-security hops 1" in texts["n2"] and " bgp graceful-restart" in texts["n2"]
    for name, text in texts.items():
        check_parses(tmp_path, name, text, render.config_filename(intents[name]))


def test_frr_node_announces_vips_only_while_configured_and_pods_always():
    text = rendered()["n2"]
    assert "redistribute connected route-map VIPS-V4" in text
    assert "ip prefix-list VIPS-V4 seq 10 permit 198.51.100.10/32" in text
    assert "set community 65000:80 additive" in text
    n4 = rendered()["n4"]
    assert "redistribute connected route-map VIPS-V6" in n4
    assert "no bgp network import-check" not in n4  # n4 has no pod CIDRs


def test_no_password_line_without_password():
    texts = rendered(fabric_bgp={})
    assert all("password" not in text for text in texts.values())


def test_render_refuses_to_drop_a_configured_password():
    hosts, groups = small_fabric()
    intents = model.build(hosts, groups)[0]
    with pytest.raises(render.RenderError, match="fabric_bgp.password"):
        render.render(intents["n1"])


def test_render_refuses_intents_of_another_schema():
    hosts, groups = small_fabric()
    intents = model.build(hosts, groups)[0]
    intent = dict(intents["n1"].to_dict(), schema=999)
    with pytest.raises(render.RenderError, match="schema"):
        render.render(intent, password=PASSWORD)


def test_rendering_is_deterministic():
    assert rendered() == rendered()
