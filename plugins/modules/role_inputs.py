#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: role_inputs
short_description: Check the variables a role writes into files on a node before the role touches it
version_added: 0.3.0
description:
  - The first task of the roles C(anycast.fabric.kube_proxy), C(anycast.fabric.healthcheck), C(anycast.fabric.tor)
    and C(anycast.fabric.routing). Runs on the controller only and never contacts the host.
  - Every role variable that reaches a file the role writes (C(sysctl.d) and C(modules-load.d) files, systemd
    units, the C(KubeProxyConfiguration), the agents' configurations) has a declared type and a character set that
    the file's syntax cannot be broken by, for example a sysctl key is a dotted name and its value one printable
    line, a kernel module a word, a path absolute and normalised, a version a quoted string.
  - All problems are reported at once, one line each with the host, the variable path and the value (never the
    value of a secret), and the task fails; the roles run it with C(any_errors_fatal), so no host of the play is
    changed when any host's variables are wrong.
  - A variable that is not set is not checked here (the role's default applies).
options:
  role:
    description: The role whose variables are checked.
    type: str
    required: true
    choices: [kube_proxy, healthcheck, tor, routing]
author:
  - anycast.fabric contributors (@anycast-fabric)
extends_documentation_fragment:
  - anycast.fabric.attributes.CONTROLLER
attributes:
  bypass_host_loop:
    support: none
    description: Runs for each host, with that host's variables.
  check_mode:
    support: full
    description: Changes nothing anywhere; runs the same in check mode.
  diff_mode:
    support: none
    description: Produces no diff.
"""

EXAMPLES = r"""
- name: Check the kube_proxy role's variables
  anycast.fabric.role_inputs:
    role: kube_proxy
  any_errors_fatal: true
"""

RETURN = r"""
checked:
  description: Number of variables that were set and checked.
  returned: success
  type: int
  sample: 4
problems:
  description: "One line per problem: C(host: variable path = value: reason)."
  returned: failure
  type: list
  elements: str
  sample: ["n1: kube_proxy_extra_sysctls['net.core.somaxconn'] = '1\\nkernel.core_pattern = |/tmp/x': must be a sysctl value..."]
"""
