# -*- coding: utf-8 -*-
"""One identity per daemon: the controller's DRIVERS and the hosts' DAEMONS are built from the same records and agree."""

from __future__ import annotations

import pytest

from ansible_collections.anycast.fabric.plugins.module_utils import _daemon_identity, _daemons
from ansible_collections.anycast.fabric.plugins.module_utils._daemon import Daemon
from ansible_collections.anycast.fabric.plugins.module_utils._daemon_identity import IDENTITIES, DaemonIdentity
from ansible_collections.anycast.fabric.plugins.plugin_utils import daemons
from ansible_collections.anycast.fabric.plugins.plugin_utils.daemons.base import CAPABILITIES, Driver

# What each side reads from the identity: a class that set one of these itself would spell it twice.
DRIVER_FIELDS = ("name", "config_file", "config_path", "packages", "service", "capabilities")
DAEMON_FIELDS = ("name", "default_dest", "owner", "group", "service")


def test_both_registries_list_the_same_daemons_in_the_same_order():
    # A router managed elsewhere (fabric_daemon: external) has a driver (its hand-off) and nothing on a host.
    on_hosts = [name for name, drv in daemons.DRIVERS.items() if drv.identity is not None]
    assert on_hosts == list(_daemons.DAEMONS) == list(IDENTITIES)
    assert [name for name in daemons.DRIVERS if name not in on_hosts] == ["external"]


@pytest.mark.parametrize("name", list(IDENTITIES))
def test_driver_and_daemon_are_built_from_the_same_identity(name):
    identity = IDENTITIES[name]
    drv, cls = daemons.DRIVERS[name], _daemons.DAEMONS[name]
    assert drv.identity is identity and cls.identity is identity
    assert drv.name == cls.name == identity.name == name
    assert drv.config_path == cls.default_dest == identity.config_path
    assert drv.service == cls.service == identity.service
    assert drv.packages == identity.packages and drv.capabilities == identity.capabilities
    assert (cls.owner, cls.group) == (identity.owner, identity.group)
    # Read from the record, never set in the class body (nor a parent's other than the base).
    for klass in type(drv).__mro__[:-2]:
        assert not set(DRIVER_FIELDS) & set(vars(klass)), "%s sets its own %s" % (klass.__name__, set(DRIVER_FIELDS) & set(vars(klass)))
    for klass in cls.__mro__:
        if klass not in (Daemon, object):
            assert not set(DAEMON_FIELDS) & set(vars(klass)), "%s sets its own %s" % (klass.__name__, set(DAEMON_FIELDS) & set(vars(klass)))


@pytest.mark.parametrize("identity", list(IDENTITIES.values()), ids=list(IDENTITIES))
def test_every_identity_is_complete(identity):
    assert isinstance(identity, DaemonIdentity)
    assert identity.config_path.startswith("/") and identity.config_file == identity.config_path.rsplit("/", 1)[1]
    assert identity.service and identity.packages and isinstance(identity.packages, tuple)
    assert identity.owner and identity.group
    assert isinstance(identity.capabilities, frozenset) and identity.capabilities <= _daemon_identity.CAPABILITIES


def test_the_capabilities_the_controller_explains_are_those_a_daemon_may_declare():
    assert set(CAPABILITIES) == _daemon_identity.CAPABILITIES


def test_identities_are_frozen():
    with pytest.raises(AttributeError):
        IDENTITIES["bird"].service = "bird2"


def test_a_class_without_an_identity_reads_the_defaults_and_may_set_its_own():
    class Plain(Driver):
        pass

    class Own(Driver):
        name = "own"
        capabilities = frozenset(["drain"])

    assert (Plain().name, Plain().config_path, Plain().packages, Plain().capabilities) == ("", "", (), frozenset())
    assert (Own().name, Own().capabilities, Own().service) == ("own", frozenset(["drain"]), "")
    assert (Daemon.name, Daemon.default_dest, Daemon.owner, Daemon.group) == ("", "", "root", "root")


def test_the_routing_role_reads_todays_values():
    """What lookup('anycast.fabric.fabric_data', 'daemon') hands the routing role, unchanged by the move."""
    facts = {name: drv.facts() for name, drv in daemons.DRIVERS.items() if drv.identity is not None}
    assert {name: (f["config_file"], f["config_path"], f["packages"], f["service"]) for name, f in facts.items()} == {
        "bird": ("bird.conf", "/etc/bird/bird.conf", ["bird2"], "bird"),
        "frr": ("frr.conf", "/etc/frr/frr.conf", ["frr", "frr-pythontools"], "frr"),
        "gobgp": ("gobgpd.conf", "/etc/gobgpd.conf", ["gobgpd"], "gobgpd"),
    }
    assert facts["gobgp"]["capabilities"] == sorted(CAPABILITIES.keys() - {"bfd"})
    assert facts["bird"]["capabilities"] == facts["frr"]["capabilities"] == sorted(CAPABILITIES)
