# -*- coding: utf-8 -*-
"""routing_config in check mode on a host whose daemon is not installed yet (a new rack in a plan)."""

from __future__ import annotations

import json

from ansible_collections.anycast.fabric.plugins.modules import routing_config as module
from conftest import call_module

CONTENT = 'router id 10.0.0.1;\nprotocol bgp t { password "s3cret"; }\n'


def run(capsys, check, dest):
    args = {"daemon": "bird", "content": CONTENT, "dest": str(dest), "bird_socket": str(dest) + ".ctl"}
    return call_module(module.main, args, capsys, check=check)


def test_check_mode_shows_the_whole_file_masked(tmp_path, capsys):
    dest = tmp_path / "etc-bird" / "bird.conf"
    result = run(capsys, True, dest)
    assert result["changed"] and result["validated"] is False
    assert result["diff"]["before"] == "" and "router id 10.0.0.1;" in result["diff"]["after"]
    assert "s3cret" not in json.dumps(result)
    assert "not installed yet" in json.dumps(result["warnings"])
    assert not dest.parent.exists()


def test_a_real_run_still_refuses(tmp_path, capsys):
    result = run(capsys, False, tmp_path / "etc-bird" / "bird.conf")
    assert result["failed"] and "is bird installed?" in result["msg"]


def test_without_a_key_the_diff_shows_the_file(tmp_path, capsys):
    # The content used to be one no_log value: a diff whose new side is the
    # whole file came back as VALUE_SPECIFIED_IN_NO_LOG_PARAMETER.
    plain = "router id 10.0.0.1;\nprotocol device {\n}\n"
    dest = tmp_path / "etc-bird" / "bird.conf"
    args = {"daemon": "bird", "content": plain, "dest": str(dest), "bird_socket": str(dest) + ".ctl"}
    result = call_module(module.main, args, capsys, check=True)
    assert result["diff"]["after"] == plain
    assert "NO_LOG" not in json.dumps(result)


def test_the_key_is_masked_everywhere_in_the_result(tmp_path, capsys):
    result = run(capsys, True, tmp_path / "etc-bird" / "bird.conf")
    text = json.dumps(result)
    assert "s3cret" not in text
    assert 'password \\"********\\"' in text and "router id 10.0.0.1;" in text
