# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""anycast-healthd: announce each anycast VIP only while its service is healthy.

A VIP is announced by the node's BGP speaker exactly while its address is on
the VIP interface (BIRD `protocol direct` / FRR `redistribute connected` are
restricted to that interface and the VIP set). This agent is the only thing
that adds or removes the addresses of the VIPs it manages:

* each VIP has one or more checks (tcp, http, https, exec, ipvs, kubernetes), each with
  its own interval, timeout, rise and fall; the VIP is healthy while all of
  its checks are up, and VIPs are independent of each other;
* a VIP whose health keeps falling is held down by RFC 2439-style damping;
* fail-closed: on start every managed VIP is withdrawn and only announced
  after `rise` successes; on stop the agent withdraws them, and systemd's
  `ExecStopPost=anycast-healthd --withdraw-all` does it again after any exit,
  SIGKILL included; the systemd watchdog turns a hung agent into a dead one;
* the agent re-asserts its view every second, so an address removed or added
  behind its back (by hand, by another tool) is put back the way health says.

The package (roles/programs/files/anycast_healthd, deployed as a zipapp by the
role anycast.fabric.healthcheck):

* _health_spec, _schema, _net_rules: the controller's own health spec, leaf
  schema and address/interface rules (plugins/module_utils of the collection),
  copied here by scripts/build-node-programs.py: do not edit them here;
* config: the agent's configuration file; checks: the checks; state: rise/fall,
  damping and the VIPs; announcer: the VIP interface; metrics: Prometheus;
  notify: systemd; agent: the main loop; cli: the command line.

Debian 12's python3.11 (written for 3.9+). Configuration: the JSON file the
healthcheck role writes (see docs/health.md).
"""

VERSION = "1.0.0"
