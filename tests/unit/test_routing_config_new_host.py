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
