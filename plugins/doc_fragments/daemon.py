# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The routing daemon of a host module (routing_config). Its choices are the
    # keys of module_utils/_daemons.py DAEMONS; a new daemon adds its name here
    # and in INFO, a requirement and a note on how it applies (reads) a
    # configuration in each, and its own options in OPTIONS.
    DOCUMENTATION = r"""
options:
  daemon:
    description: The routing daemon the configuration is for.
    type: str
    choices: [bird, frr, gobgp]
    required: true
requirements:
  - BIRD 2 (C(bird), C(birdc)) on the host for O(daemon=bird)
  - FRR 8 (C(vtysh), C(frr-reload.py) from C(frr-pythontools), C(service integrated-vtysh-config)) on the host for
    O(daemon=frr)
  - GoBGP 3 (C(gobgpd), C(gobgp), Debian package C(gobgpd)) on the host for O(daemon=gobgp); Python 3.11 (C(tomllib))
notes:
  - B(BIRD) is reconfigured from the validated candidate with C(birdc configure "CANDIDATE" timeout N). The module
    then waits for the sessions that were Established to be Established again (and for no protocol that was up to
    be down), and only then confirms with C(birdc configure confirm) and puts the candidate in place of the file.
    If the post-check fails it runs C(birdc configure undo) and fails, naming the sessions that broke; the file
    was never changed. If the module itself dies before confirming, BIRD undoes the change on its own after
    O(confirm_timeout) seconds and the file still holds the previous configuration, so the next run applies the
    change again. BIRD cannot preview a change
    (RV(commands) stays empty).
  - B(FRR) is changed with C(frr-reload.py) (C(--test) gives the delta returned as RV(commands), C(--reload)
    applies it without restarting daemons). The running configuration is snapshotted first, C(frr-reload.py) applies
    the validated candidate, and only then is the candidate put in place of the file; if the reload or the
    post-check fails, the snapshot is reloaded and the previous file is restored. If the module dies during the
    reload, the file does not hold the candidate, so the next run applies the change again. C(frr-reload.py) needs
    C(service integrated-vtysh-config) in C(/etc/frr/vtysh.conf).
  - B(GoBGP) is checked with C(gobgpd -f FILE -d) and for dangling policy and prefix-set names, then made to re-read
    its file with SIGHUP (a restart when the C([global]) section changed). The global RIB is then made to hold
    exactly the prefixes of the C(ORIGINATE-V4)/C(ORIGINATE-V6) prefix-sets (RV(commands) lists the C(gobgp global
    rib) commands run), and a soft reset out sends the new export policy. If the post-check fails the previous file is
    put back and applied the same way.
"""

    # The routing daemon to read (bgp_info): the same choices and auto.
    INFO = r"""
options:
  daemon:
    description:
      - The routing daemon to read. V(auto) picks the first daemon present on the host, in the order of the other
        choices (BIRD when its control socket exists, else FRR).
    type: str
    choices: [auto, bird, frr, gobgp]
    default: auto
requirements:
  - BIRD 2 (C(birdc)) on the host for O(daemon=bird)
  - FRR 8 (C(vtysh)) on the host for O(daemon=frr)
  - GoBGP 3 (C(gobgp)) on the host for O(daemon=gobgp)
notes:
  - B(BIRD) is read with C(birdc show protocols all), C(show bfd sessions) and C(show route export). BIRD nodes
    import nothing, so O(prefixes) (installed next hops) cannot be read from them.
  - B(FRR) is read with C(show bgp vrf default summary json), C(show bfd peers json), C(advertised-routes) and
    C(show ip route PREFIX json).
  - B(GoBGP) is read with C(gobgp neighbor -j) and C(gobgp neighbor ADDRESS adj-out -a FAMILY -j) (its gRPC API on
    localhost). GoBGP has no BFD (RV(sessions[].bfd) is V(null)) and nodes import nothing, so O(prefixes) cannot be
    read from them.
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
