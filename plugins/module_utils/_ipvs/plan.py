# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What one run does: the services created, modified and removed, its batch, the record after it, and the check."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.anycast.fabric.plugins.module_utils._ipvs.keys import real_server_key, sorted_keys
from ansible_collections.anycast.fabric.plugins.module_utils._ipvs.render import delete_line, dump, real_server_line, service_line, sorted_real_servers

# Service attributes (identity aside) whose change needs an edit (-E); real
# servers are compared as whole dicts.
SERVICE_ATTRS = ("scheduler", "flags", "persistence", "netmask", "pe", "ops")


def service_attrs(svc):
    return tuple(svc[name] for name in SERVICE_ATTRS)


def same_service(a, b):
    """Equal as far as this module manages them (unmodelled ``extra`` tokens aside)."""
    return service_attrs(a) == service_attrs(b) and a["real_servers"] == b["real_servers"]


class Plan(object):
    """What one run does: services created, modified, removed, the batch, the new record."""

    def __init__(self):
        self.created = []
        self.modified = []
        self.removed = []
        self.conflicts = []  # listed, existing, not ours (and adopt is off)
        self.not_owned = []  # state=absent: listed, existing, not ours (left alone)
        self.commands = []
        self.owned = []  # the record after the run
        self.expected = {}  # key -> service after the run, or None when it must be gone

    @property
    def changed(self):
        return bool(self.commands)

    def batch(self):
        return "".join(line + "\n" for line in self.commands)


def _update_service(want, have, commands):
    """Append the commands that turn ``have`` into ``want``; return whether any were needed."""
    before = len(commands)
    if service_attrs(want) != service_attrs(have):
        commands.append(service_line(want, "-E"))
    # Add and edit before deleting: a service whose backends are all replaced
    # never has an empty real-server list in between.
    for rs in sorted_real_servers(want):
        current = have["real_servers"].get(real_server_key(rs))
        if current is None:
            commands.append(real_server_line(want, rs, "-a"))
        elif current != rs:
            commands.append(real_server_line(want, rs, "-e"))
    for rs in sorted_real_servers(have):
        if real_server_key(rs) not in want["real_servers"]:
            commands.append(real_server_line(have, rs, "-d"))
    return len(commands) > before


def plan(desired, current, owned, state="present", purge=False, adopt=False):
    """Compute a Plan.

    desired: key -> service (normalize_services); current: key -> service
    (parse_save); owned: keys this owner's record lists. Only owned services
    (or, with ``adopt``, listed ones) are ever changed or removed.
    """
    result = Plan()
    owned = set(owned)
    removals = []
    if state == "present":
        if not adopt:
            result.conflicts = sorted_keys(k for k in desired if k in current and k not in owned)
            if result.conflicts:
                result.owned = sorted_keys(owned)
                return result
        for key in sorted_keys(desired):
            want, have = desired[key], current.get(key)
            result.expected[key] = want
            if have is None:
                result.created.append(key)
                result.commands.append(service_line(want, "-A"))
                result.commands.extend(real_server_line(want, rs, "-a") for rs in sorted_real_servers(want))
            elif _update_service(want, have, result.commands):
                result.modified.append(key)
        if purge:
            removals = [k for k in owned if k not in desired and k in current]
        new_owned = set(desired) if purge else owned | set(desired)
    else:
        for key in desired:
            if key not in current:
                continue
            if key in owned or adopt:
                removals.append(key)
            else:
                result.not_owned.append(key)
        result.not_owned = sorted_keys(result.not_owned)
        new_owned = owned - set(desired)
    for key in sorted_keys(removals):
        result.removed.append(key)
        result.commands.append(delete_line(current[key]))
        result.expected[key] = None
    result.owned = sorted_keys(new_owned)
    return result


def mismatches(expected, current):
    """Services whose state after the batch is not what the plan wanted: list of messages."""
    problems = []
    for key in sorted_keys(expected):
        want, have = expected[key], current.get(key)
        if want is None:
            if have is not None:
                problems.append("%s still exists" % key)
        elif have is None:
            problems.append("%s is missing" % key)
        elif not same_service(want, have):
            problems.append("%s is %r, wanted %r" % (key, dump({key: have}).strip(), dump({key: want}).strip()))
    return problems
