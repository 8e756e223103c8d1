# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The routing daemon of a host module (routing_config). Its choices are the
    # keys of module_utils/_daemons.py DAEMONS; a new daemon adds its name here
    # (and in INFO) and its own options in OPTIONS.
    DOCUMENTATION = r"""
options:
  daemon:
    description: The routing daemon the configuration is for.
    type: str
    choices: [bird, frr]
    required: true
"""

    # The routing daemon to read (bgp_info): the same choices and auto.
    INFO = r"""
options:
  daemon:
    description:
      - The routing daemon to read. V(auto) picks the first daemon present on the host, in the order of the other
        choices (BIRD when its control socket exists, else FRR).
    type: str
    choices: [auto, bird, frr]
    default: auto
"""

    # Each daemon's own options (module_utils/_<daemon>.py, the class attribute `options`).
    OPTIONS = r"""
options:
  bird_socket:
    description: BIRD's control socket.
    type: path
    default: /run/bird/bird.ctl
  frr_reload_path:
    description: Path of FRR's C(frr-reload.py) (Debian package C(frr-pythontools)).
    type: path
    default: /usr/lib/frr/frr-reload.py
"""
