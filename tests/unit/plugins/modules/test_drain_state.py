# -*- coding: utf-8 -*-
"""anycast.fabric.drain_state's main(), in-process, on a real state directory."""

from __future__ import annotations

import json

import pytest

from ansible_collections.anycast.fabric.plugins.modules import drain_state as module
from conftest import call_module


@pytest.fixture
def run(tmp_path, capsys):
    def runner(check=False, **args):
        args.setdefault("state_dir", str(tmp_path))
        return call_module(module.main, args, capsys, check=check)

    return runner


def test_a_node_never_drained_is_in_service_and_reading_writes_nothing(run, tmp_path):
    result = run()
    assert result["state"] == "in_service" and not result["changed"] and result["since"] is None
    assert not (tmp_path / "drain.json").exists()


def test_check_mode_predicts_without_writing(run, tmp_path):
    result = run(check=True, state="draining")
    assert result["changed"] and result["state"] == "draining" and result["previous"] == "in_service"
    assert result["diff"] == {
        "before": "drain: in_service\n",
        "after": "drain: draining\n",
        "before_header": str(tmp_path / "drain.json"),
        "after_header": str(tmp_path / "drain.json"),
    }
    assert not (tmp_path / "drain.json").exists()


def test_state_is_kept_and_the_second_run_changes_nothing(run, tmp_path):
    first = run(state="drained", reason="CHG-1")
    assert first["changed"] and first["since"]
    again = run(state="drained", reason="CHG-1")
    assert not again["changed"] and again["since"] == first["since"]
    assert json.loads((tmp_path / "drain.json").read_text())["state"] == "drained"
    assert run()["state"] == "drained"
    back = run(state="in_service")
    assert back["changed"] and back["previous"] == "drained"


@pytest.mark.parametrize(
    "content, message", [("{not json", "not valid JSON"), ('{"state": "off"}', "holds state 'off'"), ('{"schema": 9}', "newer anycast.fabric")]
)
def test_a_bad_record_fails_clearly(run, tmp_path, content, message):
    (tmp_path / "drain.json").write_text(content)
    result = run(state="drained")
    assert result["failed"] and message in result["msg"]
