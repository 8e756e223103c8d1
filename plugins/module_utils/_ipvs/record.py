# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ownership record: the service keys one owner manages, kept on the host."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible_collections.anycast.fabric.plugins.module_utils import _records as records
from ansible_collections.anycast.fabric.plugins.module_utils._ipvs.common import IpvsError
from ansible_collections.anycast.fabric.plugins.module_utils._ipvs.keys import parse_key, sorted_keys

RECORD_SCHEMA = 1
RECORD_SUBDIR = "ipvs"
OWNER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def check_owner(owner):
    if not OWNER_RE.match(str(owner)):
        raise IpvsError("owner %r must be letters, digits, '.', '_' or '-' (it names the record file)" % owner)
    return str(owner)


def record_path(state_dir, owner):
    return os.path.join(state_dir, RECORD_SUBDIR, "%s.json" % check_owner(owner))


def read_record(path):
    """Service keys recorded as this owner's, or [] when there is no record yet."""
    data = records.load(path, RECORD_SCHEMA, IpvsError, hint="move it away to start afresh (then adopt: true takes the services over)")
    keys = []
    for key in (data or {}).get("services", []):
        parse_key(key)  # refuses anything that is not a key
        keys.append(key)
    return sorted_keys(set(keys))


def write_record(path, owner, keys):
    records.store(path, {"schema": RECORD_SCHEMA, "owner": owner, "services": sorted_keys(set(keys))})
