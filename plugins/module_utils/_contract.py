# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The intent contract: names and values the model, the renderer, the plan and the host modules share.

This is the one place that defines them; everything else imports them from
here. Defaults that host modules need live here too (module_utils cannot
import plugin_utils); the model's tables (plugin_utils/model/schema.py,
settings.py) import them, and tests/unit/test_defaults.py checks the places
that cannot import (doc fragments, role defaults and argument specs, docs). It is a module_utils file so that modules running on hosts (drain_state)
and controller-side plugins read the same definitions.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Version of the intent records the model computes and the renderer reads.
INTENT_SCHEMA = 1

# Where a node keeps its drain state and its VIP and IPVS records
# (fabric_state_dir; the state_dir of drain_state, loopback_vip and ipvs).
DEFAULT_STATE_DIR = "/var/lib/anycast-fabric"

# The interface that holds a node's VIPs (fabric_vip_interface; loopback_vip's interface).
DEFAULT_VIP_INTERFACE = "lo"

# IP versions and the family names intents use for them.
FAMILIES = ((4, "ipv4"), (6, "ipv6"))
FAMILY_TAG = {"ipv4": "V4", "ipv6": "V6"}

# A node's drain state (module drain_state keeps it on the node): in_service
# announces VIPs normally, draining tags them with GSHUT, drained withdraws
# them. Pod CIDRs are announced in every state: no other node has them.
IN_SERVICE = "in_service"
DRAINING = "draining"
DRAINED = "drained"
DRAIN_STATES = (IN_SERVICE, DRAINING, DRAINED)

# RFC 8326 graceful shutdown: a draining node tags its VIPs with it, and every
# FRR router lowers such paths to local-preference 0, taking them out of ECMP.
GSHUT = "65535:0"
GSHUT_LIST = "GSHUT"

# Peer roles and the FRR peer-group tag of each (NODES-V4, UPSTREAMS-V6, ...).
PEER_ROLES = ("node", "tor", "spine", "upstream")
GROUP_TAG = {"node": "NODES", "tor": "TORS", "spine": "SPINES", "upstream": "UPSTREAMS"}


# The tag of the peer-group of unnumbered links (one session for both families: SPINES-LINKS, TORS-LINKS).
LINKS_TAG = "LINKS"


def peer_group(role, family):
    """The FRR peer-group name of peers of ROLE in FAMILY ('ipv4'/'ipv6'; None: unnumbered links, both families)."""
    return "%s-%s" % (GROUP_TAG[role], FAMILY_TAG[family] if family is not None else LINKS_TAG)
