# -*- coding: utf-8 -*-
"""VIP planning and the ownership record (no netlink)."""

from __future__ import annotations

import json

import pytest

from ansible_collections.anycast.fabric.plugins.module_utils import _vips as vips

A, B, C = "198.51.100.1/32", "198.51.100.2/32", "2001:db8:ac::3/128"


@pytest.mark.parametrize(
    "raw, normal",
    [("198.51.100.1", A), ("198.51.100.1/32", A), ("2001:DB8:AC:0::3", C), (" 2001:db8:ac::3/128 ", C)],
)
def test_normalize(raw, normal):
    assert vips.normalize(raw) == normal


@pytest.mark.parametrize("raw", ["198.51.100.0/24", "127.0.0.1", "::1", "fe80::1", "0.0.0.0", "224.0.0.1", "nonsense"])
def test_normalize_refuses_non_vips(raw):
    with pytest.raises(vips.VipError):
        vips.normalize(raw)


def test_present_adds_missing_and_adopts_existing():
    assert vips.plan([A, B], current=[B], owned=[], state="present", purge=False) == ([A], [], [A, B])


def test_without_purge_nothing_is_removed_and_the_record_keeps_old_vips():
    assert vips.plan([A], current=[A, B], owned=[A, B], state="present", purge=False) == ([], [], [A, B])


def test_purge_removes_only_owned_addresses():
    # B is ours and unlisted: removed. C is on the interface but not ours: kept.
    assert vips.plan([A], current=[A, B, C], owned=[A, B], state="present", purge=True) == ([], [B], [A])


def test_purge_forgets_owned_addresses_that_are_already_gone():
    assert vips.plan([A], current=[A], owned=[A, B], state="present", purge=True) == ([], [], [A])


def test_absent_removes_listed_present_addresses_and_forgets_them():
    assert vips.plan([A, C], current=[A, B], owned=[A, B], state="absent", purge=False) == ([], [A], [B])


def test_protected_addresses_are_never_removed_even_if_recorded():
    assert vips.plan([], current=["127.0.0.2/32"], owned=["127.0.0.2/32"], state="present", purge=True)[1] == []


def test_record_round_trip_and_missing_record(tmp_path):
    path = vips.record_path(str(tmp_path), "lo")
    assert vips.read_record(path) == []
    vips.write_record(path, "lo", [A, C])
    assert vips.read_record(path) == [A, C]
    assert json.loads(open(path).read())["schema"] == vips.RECORD_SCHEMA


def test_record_from_a_newer_release_is_refused(tmp_path):
    path = tmp_path / "lo.json"
    path.write_text(json.dumps({"schema": vips.RECORD_SCHEMA + 1, "addresses": [A]}))
    with pytest.raises(vips.VipError, match="newer"):
        vips.read_record(str(path))


def test_corrupt_record_is_refused_not_ignored(tmp_path):
    path = tmp_path / "lo.json"
    path.write_text("{not json")
    with pytest.raises(vips.VipError, match="not valid JSON"):
        vips.read_record(str(path))


def test_excluded_vips_are_neither_added_removed_nor_kept_in_the_record():
    # A belongs to the health agent now: the agent may have removed it (sick)
    # or hold it (healthy); either way this module must not touch it.
    assert vips.plan([A, B], current=[A, B], owned=[A, B], state="present", purge=True, exclude=[A]) == ([], [], [B])
    assert vips.plan([B], current=[B], owned=[A, B], state="present", purge=True, exclude=[A]) == ([], [], [B])
    assert vips.plan([A], current=[], owned=[], state="present", purge=False, exclude=[A]) == ([], [], [])
