# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The VIP interface, driven over netlink with pyroute2 (Debian's python3-pyroute2).

Announcing a VIP is adding its host route (/32, /128) to the interface;
withdrawing it is deleting it. One netlink socket, opened on first use, serves
every change and the once-a-second read of the interface (a few milliseconds;
no `ip` process per change).
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import os

LOG = logging.getLogger("anycast-healthd")

IFF_UP = 0x1
IFA_F_NODAD = 0x02


class IpError(RuntimeError):
    pass


def _strerror(exc):
    code = getattr(exc, "code", None)
    if isinstance(code, int) and code > 0:
        return os.strerror(code)
    return str(exc) or exc.__class__.__name__


class Interface:
    """The VIP interface (lo or a dummy interface)."""

    def __init__(self, name, ipr=None):
        self.name = name
        self._ipr = ipr

    @property
    def ipr(self):
        if self._ipr is None:
            # Imported here: --status and the unit tests' fakes need no netlink.
            from pyroute2 import IPRoute

            try:
                self._ipr = IPRoute()
            except OSError as exc:
                raise IpError("cannot open a netlink socket: %s" % _strerror(exc)) from None
        return self._ipr

    def close(self):
        if self._ipr is not None:
            self._ipr.close()
            self._ipr = None

    def _call(self, what, method, *args, **kwargs):
        try:
            return getattr(self.ipr, method)(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 (pyroute2's NetlinkError is no OSError)
            if _is_netlink_error(exc) or isinstance(exc, OSError):
                raise IpError("%s: %s" % (what, _strerror(exc))) from None
            raise

    def index(self):
        """The interface's index, or None when it does not exist."""
        found = self._call("link show dev %s" % self.name, "link_lookup", ifname=self.name)
        return found[0] if found else None

    def link(self):
        """(index, flags) of the interface, or None when it does not exist."""
        index = self.index()
        if index is None:
            return None
        links = self._call("link show dev %s" % self.name, "get_links", index)
        return (index, links[0]["flags"]) if links else None

    def ensure(self):
        """Create a missing dummy interface and bring the interface up."""
        link = self.link()
        if link is None:
            if self.name == "lo":
                raise IpError("interface lo does not exist")
            try:
                self._call("link add %s type dummy" % self.name, "link", "add", ifname=self.name, kind="dummy")
            except IpError as exc:
                raise IpError("cannot create dummy interface %s: %s" % (self.name, str(exc).rsplit(": ", 1)[-1])) from None
            LOG.info("created dummy interface %s", self.name)
            link = self.link()
            if link is None:
                raise IpError("cannot create dummy interface %s: it did not appear" % self.name)
        index, flags = link
        if not flags & IFF_UP:
            try:
                self._call("link set %s up" % self.name, "link", "set", index=index, state="up")
            except IpError as exc:
                raise IpError("cannot bring %s up: %s" % (self.name, str(exc).rsplit(": ", 1)[-1])) from None

    def _required_index(self):
        index = self.index()
        if index is None:
            raise IpError("cannot read the addresses of %s: %s" % (self.name, os.strerror(errno.ENODEV)))
        return index

    def addresses(self):
        """The host routes (/32, /128) on the interface, normalised like host_route()."""
        index = self._required_index()
        found = set()
        for msg in self._call("cannot read the addresses of %s" % self.name, "get_addr", index=index):
            local = msg.get_attr("IFA_LOCAL") or msg.get_attr("IFA_ADDRESS")
            if local is None:
                continue
            iface = ipaddress.ip_interface("%s/%s" % (local, msg["prefixlen"]))
            if iface.network.prefixlen == iface.max_prefixlen:
                found.add("%s/%d" % (iface.ip.compressed, iface.max_prefixlen))
        return found

    def _change(self, verb, prefix, benign):
        address, _sep, length = prefix.partition("/")
        what = "address %s %s dev %s" % (verb, prefix, self.name)
        kwargs = {"index": self._required_index(), "address": address, "prefixlen": int(length)}
        if verb == "add" and ":" in prefix and self.name != "lo":
            kwargs["flags"] = IFA_F_NODAD  # usable at once: no duplicate address detection on a dummy
        try:
            self.ipr.addr(verb, **kwargs)
        except Exception as exc:  # noqa: BLE001 (NetlinkError)
            if not (_is_netlink_error(exc) or isinstance(exc, OSError)):
                raise
            # Already there / already gone: the interface is as wanted.
            if getattr(exc, "code", None) != benign:
                raise IpError("%s: %s" % (what, _strerror(exc))) from None

    def add(self, prefix):
        self._change("add", prefix, errno.EEXIST)

    def delete(self, prefix):
        self._change("del", prefix, errno.EADDRNOTAVAIL)

    def withdraw(self, prefixes):
        """Remove every listed VIP that is present; returns the removed ones."""
        try:
            present = sorted(set(prefixes) & self.addresses())
        except IpError as exc:
            # Withdrawing matters more than knowing: delete blindly, one by one.
            LOG.error("%s; deleting every managed VIP blindly", exc)
            removed = []
            for prefix in prefixes:
                try:
                    self._change("del", prefix, None)
                except IpError:
                    continue
                removed.append(prefix)
            return removed
        errors = []
        for prefix in present:
            try:
                self.delete(prefix)
            except IpError as exc:
                errors.append(str(exc))
        if errors:
            left = sorted(set(present) & self.addresses())
            if left:
                raise IpError("could not remove %s from %s: %s" % (", ".join(left), self.name, "; ".join(errors)))
        return present


def _is_netlink_error(exc):
    return exc.__class__.__name__ == "NetlinkError"
