# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every file of the fabric's documentation, from its intents: {file name: text}."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ansible_collections.anycast.fabric.plugins.plugin_utils.document import tables, topology
from ansible_collections.anycast.fabric.plugins.plugin_utils.document.markdown import fabric_md
from ansible_collections.anycast.fabric.plugins.plugin_utils.document.topology import Layout, Limits, TopologyError
from ansible_collections.anycast.fabric.plugins.plugin_utils.model.intent import Intent

# The files a documentation folder holds, in the order they are listed.
FILES = ("fabric.md", "hosts.csv", "sessions.csv", "vips.csv", "topology.dot", "topology.svg")
# The ones that depend on the machine (Graphviz's version, fonts): never compared as goldens.
MACHINE_DEPENDENT = ("topology.svg",)


@dataclass
class Documents:
    files: dict[str, str]
    layout: Layout
    warnings: list[str] = field(default_factory=list)

    @property
    def skipped(self) -> list[str]:
        """The files that could not be made (listed in FILES, absent from files)."""
        return [name for name in FILES if name not in self.files]


def generate(intents: Mapping[str, Intent], limits: Limits | None = None, picture: bool = True) -> Documents:
    """The documentation of INTENTS; without PICTURE (or without Graphviz) no topology.svg, with a warning for the latter."""
    found = tables.sessions(intents)
    layout = topology.plan(intents, limits, found)
    files = {
        "fabric.md": fabric_md(intents, layout),
        "hosts.csv": tables.csv_text(tables.HOST_COLUMNS, tables.host_rows(intents)),
        "sessions.csv": tables.csv_text(tables.SESSION_COLUMNS, tables.session_rows(found)),
        "vips.csv": tables.csv_text(tables.VIP_COLUMNS, tables.vip_rows(tables.vips(intents))),
    }
    documents = Documents(files=files, layout=layout)
    try:
        source = topology.source(layout)
        files["topology.dot"] = source
        if picture:
            files["topology.svg"] = topology.svg(source)
    except TopologyError as exc:
        documents.warnings.append("topology.svg was not drawn (the other files were written): %s" % exc)
    return documents
