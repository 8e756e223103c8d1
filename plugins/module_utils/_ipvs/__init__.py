# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""IPVS virtual services as data, one module per job (pure logic: no kernel, no subprocess).

The module (plugins/modules/ipvs.py) only runs ipvsadm around it:

- ``common``: IpvsError and ipvsadm's vocabulary (protocols, forwarding methods, scheduler flags);
- ``addresses``: addresses, ports and integers as the user or ipvsadm writes them;
- ``keys``: a service's identity as a string, and the order of services and real servers;
- ``desired``: the module's ``services`` argument, validated and normalised;
- ``parse``: ``ipvsadm -S -n`` output read into the same form;
- ``render``: services as ``ipvsadm`` lines (the ``-R`` batch and the diff);
- ``plan``: what one run changes, its batch, and the check after it;
- ``record``: the ownership record (which services this owner manages).

Data model (plain dicts, JSON-serialisable, compared with ``==``):

service
    protocol (tcp, udp, sctp, fwmark), address (compressed IP or None),
    port (int or None), fwmark (int or None), family (ipv4, ipv6),
    scheduler, flags (bit mask of ``-b``), persistence (seconds, 0 = off),
    netmask (None = the default host mask), pe (persistence engine or None),
    ops (one-packet scheduling), real_servers (dict: real server key -> real
    server), extra (tokens of ``-S`` output this code does not model; never
    compared).
real server
    address, port, forwarding (direct, tunnel, masquerade), weight,
    tunnel_type (ipip, gue, gre; tunnel only), tunnel_port (gue only),
    tunnel_checksum (nocsum, csum, remcsum; gue and gre only).
"""
