# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ownership records: the JSON files in which modules remember what they created.

A purge may only remove what its module created, so the record must survive
reboots and module upgrades: it lives on persistent storage, carries a schema
version, and is replaced atomically (temporary file and rename).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import tempfile

from ansible_collections.anycast.fabric.plugins.module_utils._schema import abs_path_problem


def check_state_dir(module):
    """Fail MODULE unless its state_dir is an absolute, normalised path of safe characters.

    A relative state_dir would put the records under whatever directory the
    module happens to run in, and lose them on the next run.
    """
    reason = abs_path_problem(module.params["state_dir"])
    if reason:
        module.fail_json(msg="state_dir = %r: %s" % (module.params["state_dir"], reason))


def load(path, schema, error, hint="move it away to start afresh"):
    """The record's data, or None when there is no record yet.

    Refuses (raising `error`) a corrupt record, or one written by a newer
    release (schema above `schema`), rather than guessing what it meant.
    """
    try:
        with open(path) as handle:
            data = json.load(handle)
    except (IOError, OSError):
        return None
    except ValueError:
        raise error("ownership record %s is not valid JSON; %s" % (path, hint)) from None
    if not isinstance(data, dict):
        raise error("ownership record %s is not an anycast.fabric record" % path)
    if data.get("schema", 0) > schema:
        raise error("ownership record %s was written by a newer anycast.fabric (schema %r)" % (path, data.get("schema")))
    return data


def store(path, data):
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    body = json.dumps(data, indent=2, sort_keys=True) + "\n"
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".%s." % os.path.basename(path))
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(body)
        os.chmod(tmp, 0o644)
        os.rename(tmp, path)
    except Exception:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
