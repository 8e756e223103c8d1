# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write the input tables of docs/*.md from the declarative schema.

Every table of inputs (fabric_bgp keys, per-host variables, upstream keys,
fabric-wide variables, VIP keys...) is declared once, as data, next to the
code that reads it (plugins/module_utils/_schema.py is the format,
plugins/plugin_utils/model/schema.py the registry). In the Markdown, a generated
table sits between two marker lines, link-reference definitions that neither
GitHub nor the docs site shows:

    [//]: # "BEGIN generated: fabric_bgp"
    ...
    [//]: # "END generated: fabric_bgp"

  python scripts/data-model.py          rewrite every generated table
  python scripts/data-model.py --check  exit 1, with a diff, when a table is stale,
                                        a marker names no table, or a table has no marker

Afterwards run scripts/docs-rst.py: the docs site's RST is made from the Markdown.
"""

from __future__ import annotations

import argparse
import difflib
import os
import pathlib
import re
import shutil
import sys
import tempfile

REPO = pathlib.Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
MARKER = re.compile(r'^\[//\]: # "(BEGIN|END) generated: ([A-Za-z0-9_.-]+)"$')


def load_tables():
    """{name: Markdown lines} of every registered schema table, imported from this work tree."""
    # ansible_collections is a namespace package: a folder holding
    # ansible_collections/anycast/fabric -> this work tree, first on sys.path,
    # makes the import read this tree and not an installed copy.
    root = pathlib.Path(tempfile.mkdtemp(prefix="data-model-"))
    (root / "ansible_collections" / "anycast").mkdir(parents=True)
    os.symlink(REPO, root / "ansible_collections" / "anycast" / "fabric")
    sys.path.insert(0, str(root))
    try:
        from ansible_collections.anycast.fabric.plugins.module_utils import _schema
        from ansible_collections.anycast.fabric.plugins.plugin_utils.model import schema

        return {name: _schema.markdown(table) for name, table in schema.tables().items()}
    finally:
        shutil.rmtree(root)


def regenerate(text, tables, where, errors, used):
    """TEXT with every generated block rewritten; problems appended to ERRORS."""
    out, open_name = [], None
    for number, line in enumerate(text.split("\n"), 1):
        match = MARKER.match(line)
        if match is None:
            if open_name is None:
                out.append(line)
            continue
        kind, name = match.groups()
        if kind == "BEGIN":
            if open_name is not None:
                errors.append("%s:%d: BEGIN %s inside the block of %s" % (where, number, name, open_name))
                continue
            if name not in tables:
                errors.append("%s:%d: no schema table is named %s (known: %s)" % (where, number, name, ", ".join(sorted(tables))))
                out.append(line)
                continue
            out.extend([line, ""] + tables[name] + [""])
            open_name = name
            used.add(name)
        else:
            if name != open_name:
                errors.append("%s:%d: END %s does not close %s" % (where, number, name, open_name or "any block"))
                out.append(line)
                continue
            out.append(line)
            open_name = None
    if open_name is not None:
        errors.append("%s: the block of %s is never closed (END generated: %s)" % (where, open_name, open_name))
    return "\n".join(out)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Write the input tables of docs/*.md from the declarative schema.")
    parser.add_argument("--check", action="store_true", help="do not write; exit 1 when a generated table is stale")
    args = parser.parse_args(argv)
    tables = load_tables()
    errors, used, stale = [], set(), []
    for path in sorted(DOCS.glob("*.md")):
        old = path.read_text(encoding="utf-8")
        new = regenerate(old, tables, path.relative_to(REPO), errors, used)
        if new == old:
            continue
        stale.append(path)
        if args.check:
            diff = difflib.unified_diff(old.splitlines(True), new.splitlines(True), "a/%s" % path.relative_to(REPO), "b/%s" % path.relative_to(REPO))
            sys.stdout.writelines(diff)
        else:
            path.write_text(new, encoding="utf-8")
            print("wrote %s" % path.relative_to(REPO))
    for name in sorted(set(tables) - used):
        errors.append("schema table %s is documented nowhere: add its markers to a page of docs/" % name)
    for error in errors:
        print("error: %s" % error, file=sys.stderr)
    if args.check and stale:
        print(
            "stale generated tables in %s: run python scripts/data-model.py (then scripts/docs-rst.py)" % ", ".join(str(p.relative_to(REPO)) for p in stale),
            file=sys.stderr,
        )
        return 1
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
