# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""scripts/docs-rst.py: Markdown guides to the docs site's RST.

The RST must parse without a single docutils warning (antsibull-docs and Sphinx
would reject or mangle it), say what the Markdown says, and the cross-guide
links must be checked, not silently dropped.
"""

from __future__ import annotations

import importlib.util
import pathlib

import docutils.core
import docutils.nodes
import mistune
import pytest
from docutils.parsers.rst import directives, roles
from docutils.parsers.rst.directives.body import CodeBlock

REPO = pathlib.Path(__file__).resolve().parents[3]
SPEC = importlib.util.spec_from_file_location("docs_rst", REPO / "scripts" / "docs-rst.py")
docs_rst = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(docs_rst)

PREFIX = "ansible_collections.anycast.fabric.docsite."


def _ref_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    # Sphinx's :ref:, reduced to what the test needs: the text it shows.
    return [docutils.nodes.reference(rawtext, text, refuri="#" + text)], []


roles.register_local_role("ref", _ref_role)
directives.register_directive("code-block", CodeBlock)


def convert(tmp_path, guides):
    parser = mistune.create_markdown(renderer=None, plugins=["table"])
    docs = {}
    for name, text in guides.items():
        path = tmp_path / (name + ".md")
        path.write_text(text, encoding="utf-8")
        docs[name] = docs_rst.Document(path, parser)
    out, errors = {}, []
    for name, doc in docs.items():
        writer = docs_rst.Writer(doc, docs, "https://github.com/anycast-fabric/anycast.fabric")
        doc.path = REPO / "docs" / doc.path.name  # the header names the repository path
        out[name] = writer.render()
        errors.extend(writer.errors)
    return out, errors


def parse(rst):
    """The docutils tree, and every message of level warning or above."""
    tree = docutils.core.publish_doctree(rst, settings_overrides={"report_level": 5, "halt_level": 5, "doctitle_xform": False})
    problems = [m.astext() for m in tree.findall(docutils.nodes.system_message) if m["level"] >= 2]
    return tree, problems


def test_tricky_inline_markup_parses_and_keeps_its_text(tmp_path):
    out, errors = convert(tmp_path, {"a": (
        "# Title\n\n"
        "The `fabric_vips`s list, **bold**text, *em*, a_ b _c, 2 * 3, |pipe|, back\\\\slash,"
        " `` a`b ``, `x\\` and `<hidden>`.\n"
    )})
    assert errors == []
    tree, problems = parse(out["a"])
    assert problems == []
    text = tree.astext()
    for expected in ("The fabric_vipss list", "boldtext", "a_ b _c", "2 * 3", "|pipe|", "back\\slash", "a`b", "x\\", "<hidden>"):
        assert expected in text, expected
    literals = [n.astext() for n in tree.findall(docutils.nodes.literal)]
    assert literals == ["fabric_vips", "a`b", "x\\", "<hidden>"]


def test_headings_get_labels_and_links_between_guides_become_refs(tmp_path):
    out, errors = convert(tmp_path, {
        "one": "# One\n\n## The `health` section\n\nSee [two](two.md), [its part](two.md#part-b) and [here](#the-health-section).\n",
        "two": "# Two\n\n## Part A\n\n### Part B\n\nBack to [one.md](one.md). [Out](https://example.org/x).\n",
    })
    assert errors == []
    assert ".. _%sone:" % PREFIX in out["one"]
    assert ".. _%sone.the-health-section:" % PREFIX in out["one"]
    assert ":ref:`two <%stwo>`" % PREFIX in out["one"]
    assert ":ref:`its part <%stwo.part-b>`" % PREFIX in out["one"]
    assert ":ref:`here <%sone.the-health-section>`" % PREFIX in out["one"]
    # A link whose text is the file name shows the target's title instead.
    assert ":ref:`%sone`" % PREFIX in out["two"]
    assert "`Out <https://example.org/x>`__" in out["two"]
    for rst in out.values():
        tree, problems = parse(rst)
        assert problems == []
    tree = parse(out["two"])[0]
    assert [n.astext() for n in tree.findall(docutils.nodes.title)] == ["Two", "Part A", "Part B"]


def test_broken_links_are_errors(tmp_path):
    errors = convert(tmp_path, {
        "one": "# One\n\n[gone](missing.md), [no anchor](two.md#nowhere), [no file](../no/such/file).\n",
        "two": "# Two\n",
    })[1]
    assert len(errors) == 3
    assert "missing.md" in errors[0] and "nowhere" in errors[1] and "no/such/file" in errors[2]


def test_repository_files_link_to_github(tmp_path):
    out, errors = convert(tmp_path, {"one": "# One\n\nThe [render playbook](../playbooks/render.yml).\n"})
    assert errors == []
    assert "`render playbook <https://github.com/anycast-fabric/anycast.fabric/blob/main/playbooks/render.yml>`__" in out["one"]


def test_lists_tables_and_code_blocks(tmp_path):
    out, errors = convert(tmp_path, {"one": (
        "# One\n\n"
        "1. first\n2. second, with:\n\n   - [nested](#one) `a`\n   - `code` first\n\n"
        "   ```yaml\n   key: value\n   ```\n\n"
        "| col | other |\n|---|---|\n| `x \\| y` | |\n| 3 | **z** |\n\n"
        "```mermaid\nflowchart LR\n```\n"
    )})
    assert errors == []
    tree, problems = parse(out["one"])
    assert problems == []
    items = list(tree.findall(docutils.nodes.enumerated_list))
    assert len(items) == 1 and len(items[0].children) == 2
    nested = list(tree.findall(docutils.nodes.bullet_list))
    # A role or a literal may start an item (no field list, no escaped backslash).
    assert [li.astext() for li in nested[0].children] == ["nested <%sone.one> a" % PREFIX, "code first"]
    code = list(tree.findall(docutils.nodes.literal_block))
    assert [c.astext() for c in code] == ["key: value", "flowchart LR"]
    assert ".. code-block:: text" in out["one"]  # no Pygments lexer for mermaid
    table = next(tree.findall(docutils.nodes.table))
    rows = [[entry.astext() for entry in row.children] for row in table.findall(docutils.nodes.row)]
    assert rows == [["col", "other"], ["x | y", ""], ["3", "z"]]


@pytest.mark.parametrize("title", ["The `health` section", "Prefix filters (RFC 7454)", "1. Prepare the hosts", "Default-valued lines (FRR)"])
def test_slugs_are_githubs_anchors(title):
    expected = {
        "The `health` section": "the-health-section",
        "Prefix filters (RFC 7454)": "prefix-filters-rfc-7454",
        "1. Prepare the hosts": "1-prepare-the-hosts",
        "Default-valued lines (FRR)": "default-valued-lines-frr",
    }[title]
    assert docs_rst.slugify(title.replace("`", "")) == expected
