# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Convert the guides in docs/*.md into docs/docsite/rst/*.rst for the docs site.

The Markdown files are the source of truth (GitHub renders them, README links
them). antsibull-docs, which builds the collection's page on the Ansible docs
site, only takes extra documentation as reStructuredText under
docs/docsite/rst/, listed in docs/docsite/extra-docs.yml, with every RST label
starting with ansible_collections.anycast.fabric.docsite. This script writes
that RST:

  python scripts/docs-rst.py           (re)write docs/docsite/rst/ from docs/*.md
  python scripts/docs-rst.py --check   exit 1 when the RST is not in step with the
                                       Markdown, or extra-docs.yml does not list
                                       exactly the guides (make docs-lint runs it)

Each heading gets a label (the document's, then one per section with GitHub's
anchor), so links between guides, with or without an anchor, become :ref:
links; a link to a guide or anchor that does not exist is an error. Links to
other files of the repository become links to the repository on GitHub
(galaxy.yml's `repository`). Markdown is parsed by mistune (CommonMark with
GitHub tables); the RST writer is this file's.
"""

from __future__ import annotations

import argparse
import difflib
import pathlib
import posixpath
import re
import sys
import unicodedata

import mistune
import yaml

REPO = pathlib.Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
RST_DIR = DOCS / "docsite" / "rst"
EXTRA_DOCS = DOCS / "docsite" / "extra-docs.yml"
LABEL_PREFIX = "ansible_collections.anycast.fabric.docsite."
HEADING_CHARS = {1: "=", 2: "-", 3: "~", 4: "^", 5: '"', 6: "'"}
# Code block languages Pygments does not know are shown as plain text.
CODE_LANGUAGES = {"sh": "shell", "bash": "shell", "shell": "shell", "console": "console", "yaml": "yaml", "yml": "yaml",
                  "json": "json", "python": "python", "ini": "ini", "text": "text", "jinja": "jinja"}

# RST inline markup must follow whitespace or one of these, and be followed by
# whitespace or one of those; elsewhere an escaped space separates it.
START_OK = set(" \t\n-:/'\"<([{")
END_OK = set(" \t\n-.,:;!?\\/'\")]}>")
# Paragraph starts that RST would read as a list, a comment, a field...
BLOCK_START = re.compile(r"^([-+*•]\s|\d+[.)]\s|#\.\s|\.\.\s|:[^:`]+:(\s|$)|>|\|)")


class ConversionError(Exception):
    pass


def slugify(title):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes."""
    text = unicodedata.normalize("NFC", title).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def doc_label(doc):
    return LABEL_PREFIX + doc.replace("-", "_")


def plain_text(tokens):
    """The text of inline tokens, without markup."""
    out = []
    for tok in tokens:
        if "children" in tok:
            out.append(plain_text(tok["children"]))
        elif tok["type"] in ("softbreak", "linebreak"):
            out.append(" ")
        else:
            out.append(tok.get("raw", ""))
    return "".join(out)


def escape_text(text):
    text = text.replace("\\", "\\\\")
    text = re.sub(r"([*`|])", r"\\\1", text)
    # A trailing underscore makes a reference (word_), a leading one a target.
    return re.sub(r"_(?=\W|$)|(?<!\w)_", r"\\_", text)


def escape_role_text(text):
    return text.replace("\\", "\\\\").replace("`", "\\`").replace("<", "\\<")


class Document:
    """One Markdown guide: its name, tokens, and the anchors of its headings."""

    def __init__(self, path, parser):
        self.path = path
        self.name = path.stem
        self.tokens = parser(path.read_text(encoding="utf-8"))
        self.anchors = {}
        seen = {}
        for tok in self.tokens:
            if tok["type"] == "heading":
                slug = slugify(plain_text(tok["children"]))
                count = seen.get(slug, 0)
                seen[slug] = count + 1
                anchor = slug if count == 0 else "%s-%d" % (slug, count)
                self.anchors[id(tok)] = anchor

    def anchor_names(self):
        return set(self.anchors.values())


class Writer:
    """Renders one Document's tokens as RST."""

    def __init__(self, doc, docs, repository):
        self.doc = doc
        self.docs = docs
        self.repository = repository
        self.errors = []

    # ---------------------------------------------------------------- inline
    def inline(self, tokens):
        """Inline tokens to one line of RST, separating markup from adjacent text."""
        pieces = []  # (is_markup, text)
        for tok in tokens:
            kind = tok["type"]
            if kind == "text":
                pieces.append((False, escape_text(tok["raw"])))
            elif kind in ("softbreak", "linebreak"):
                pieces.append((False, " "))
            elif kind == "inline_html":
                pieces.append((False, escape_text(tok["raw"])))
            elif kind == "codespan":
                pieces.append((True, self.literal(tok["raw"])))
            elif kind in ("strong", "emphasis"):
                mark = "**" if kind == "strong" else "*"
                text = plain_text(tok["children"]).strip()
                pieces.append((True, mark + escape_text(text) + mark))
            elif kind == "link":
                pieces.append((True, self.link(tok)))
            elif kind == "image":
                pieces.append((False, escape_text(plain_text(tok.get("children", [])))))
            else:
                raise ConversionError("%s: unsupported inline element %r" % (self.doc.path.name, kind))
        out = ""
        for index, (markup, text) in enumerate(pieces):
            if markup:
                if out and out[-1] not in START_OK:
                    out += "\\ "
                out += text
                after = pieces[index + 1][1] if index + 1 < len(pieces) else ""
                if after and (pieces[index + 1][0] or after[0] not in END_OK):
                    out += "\\ "
            else:
                out += text
        return re.sub(r"\s+", " ", out).strip()

    @staticmethod
    def literal(code):
        if "``" in code or code != code.strip() or code.endswith("\\") or not code:
            return ":literal:`%s`" % escape_role_text(code)
        return "``%s``" % code

    def link(self, tok):
        url = tok["attrs"]["url"]
        text = plain_text(tok["children"]).strip() or url
        if re.match(r"^[a-z][a-z0-9+.-]*:", url):
            return "`%s <%s>`__" % (escape_role_text(text), url)
        path, anchor = (url.split("#", 1) + [""])[:2]
        if not path:
            target = self.doc
        elif path.endswith(".md") and "/" not in path:
            target = self.docs.get(path[:-3])
            if target is None:
                self.errors.append("%s: link to %s, which is not a guide in docs/" % (self.doc.path.name, url))
                return escape_text(text)
        else:
            # Any other file of the repository: its page on GitHub.
            repo_path = posixpath.normpath(posixpath.join("docs", path))
            if repo_path.startswith("../") or not (REPO / repo_path).exists():
                self.errors.append("%s: link to %s, which is not a file of the repository" % (self.doc.path.name, url))
                return escape_text(text)
            full = "%s/blob/main/%s" % (self.repository, repo_path) + ("#" + anchor if anchor else "")
            return "`%s <%s>`__" % (escape_role_text(text), full)
        if anchor:
            if anchor not in target.anchor_names():
                self.errors.append("%s: link to %s: %s.md has no heading with that anchor" % (self.doc.path.name, url, target.name))
                return escape_text(text)
            label = doc_label(target.name) + "." + anchor
        else:
            label = doc_label(target.name)
        if text in (url, path):
            # [data-model.md](data-model.md): the docs site shows the title.
            return ":ref:`%s`" % label
        return ":ref:`%s <%s>`" % (escape_role_text(text), label)

    # ---------------------------------------------------------------- blocks
    def blocks(self, tokens):
        """Block tokens to a list of RST blocks (each a list of lines)."""
        out = []
        for tok in tokens:
            kind = tok["type"]
            if kind == "blank_line":
                continue
            method = getattr(self, "block_" + kind, None)
            if method is None:
                raise ConversionError("%s: unsupported block element %r" % (self.doc.path.name, kind))
            out.extend(method(tok))
        return out

    def paragraph_lines(self, tokens):
        text = self.inline(tokens)
        if BLOCK_START.match(text):
            text = "\\" + text
        return [text]

    def block_paragraph(self, tok):
        return [self.paragraph_lines(tok["children"])]

    block_block_text = block_paragraph

    def block_heading(self, tok):
        level = tok["attrs"]["level"]
        title = self.inline(tok["children"])
        anchor = self.doc.anchors[id(tok)]
        label = doc_label(self.doc.name) if level == 1 else doc_label(self.doc.name) + "." + anchor
        lines = [".. _%s:" % label, ""]
        if level == 1:
            # The document's own label, and GitHub's anchor of its title too.
            lines = [".. _%s:" % label, ".. _%s.%s:" % (label, anchor), ""]
        lines += [title, HEADING_CHARS[level] * len(title)]
        return [lines]

    def block_block_code(self, tok):
        info = (tok.get("attrs") or {}).get("info") or ""
        language = CODE_LANGUAGES.get(info.split()[0].lower() if info else "", "text")
        code = tok["raw"].expandtabs(4).rstrip("\n").split("\n")
        return [[".. code-block:: " + language, ""] + [("   " + line).rstrip() for line in code]]

    def block_list(self, tok):
        ordered = tok["attrs"].get("ordered")
        start = tok["attrs"].get("start") or 1
        items = []
        for number, item in enumerate(tok["children"], start):
            marker = "%d. " % number if ordered else "- "
            body = self.blocks(item["children"])
            lines = []
            for index, block in enumerate(body):
                if index:
                    lines.append("")
                for line_no, line in enumerate(block):
                    if index == 0 and line_no == 0:
                        lines.append(marker + line)
                    else:
                        lines.append((" " * len(marker) + line) if line else "")
            if not lines:
                lines = [marker.rstrip()]
            items.append(lines)
        loose = any(len(item) > 1 for item in items)
        out = []
        for index, item in enumerate(items):
            if index and loose:
                out.append("")
            out.extend(item)
        return [out]

    def block_block_quote(self, tok):
        lines = []
        for index, block in enumerate(self.blocks(tok["children"])):
            if index:
                lines.append("")
            lines.extend(("   " + line) if line else "" for line in block)
        return [lines]

    def block_thematic_break(self, tok):
        return [["----"]]

    def block_block_html(self, tok):
        return [[".. code-block:: html", ""] + ["   " + line for line in tok["raw"].rstrip("\n").split("\n")]]

    def block_table(self, tok):
        head = [c for c in tok["children"] if c["type"] == "table_head"]
        body = [c for c in tok["children"] if c["type"] == "table_body"]
        rows = []
        for part in head:
            rows.append(part["children"])
        for part in body:
            rows.extend(row["children"] for row in part["children"])
        lines = [".. list-table::", "   :header-rows: %d" % len(head), ""]
        for row in rows:
            for index, cell in enumerate(row):
                children = [dict(c, raw=c["raw"].replace("\\|", "|")) if c["type"] == "codespan" else c for c in cell["children"]]
                text = self.paragraph_lines(children)[0] if children else ""
                prefix = "   * - " if index == 0 else "     - "
                lines.append((prefix + text).rstrip())
        return [lines]

    def render(self):
        source = self.doc.path.relative_to(REPO).as_posix()
        header = [
            ".. Generated from %s by scripts/docs-rst.py: edit the Markdown, then run" % source,
            "   `python scripts/docs-rst.py` (make docs-lint checks that this file is in step).",
        ]
        blocks = [header] + self.blocks(self.doc.tokens)
        return "\n\n".join("\n".join(block) for block in blocks) + "\n"


def guides():
    return sorted(DOCS.glob("*.md"))


def convert_all():
    parser = mistune.create_markdown(renderer=None, plugins=["table"])
    repository = yaml.safe_load((REPO / "galaxy.yml").read_text(encoding="utf-8"))["repository"].rstrip("/")
    docs = {}
    for path in guides():
        doc = Document(path, parser)
        docs[doc.name] = doc
    results, errors = {}, []
    for name, doc in docs.items():
        writer = Writer(doc, docs, repository)
        results[name + ".rst"] = writer.render()
        errors.extend(writer.errors)
    return results, errors


def listed_guides():
    index = yaml.safe_load(EXTRA_DOCS.read_text(encoding="utf-8")) or {}
    refs = []
    for section in index.get("sections") or []:
        for entry in section.get("toctree") or []:
            refs.append(entry if isinstance(entry, str) else entry.get("ref"))
    return refs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="only check that docs/docsite/rst is in step")
    args = parser.parse_args(argv)

    try:
        results, errors = convert_all()
    except ConversionError as exc:
        print("docs-rst: %s" % exc, file=sys.stderr)
        return 1
    existing = {p.name: p.read_text(encoding="utf-8") for p in RST_DIR.glob("*.rst")} if RST_DIR.is_dir() else {}
    listed = listed_guides()
    expected = sorted(name[:-4] for name in results)
    if sorted(listed) != expected:
        errors.append("docs/docsite/extra-docs.yml lists %s; the guides in docs/ are %s" % (sorted(listed), expected))

    if args.check:
        stale = []
        for name, text in sorted(results.items()):
            if existing.get(name) != text:
                stale.append(name)
                diff = difflib.unified_diff(existing.get(name, "").splitlines(), text.splitlines(),
                                            "docs/docsite/rst/" + name, "(from docs/%s.md)" % name[:-4], lineterm="", n=1)
                print("\n".join(list(diff)[:40]), file=sys.stderr)
        for name in sorted(set(existing) - set(results)):
            stale.append(name)
        for name in stale:
            errors.append("docs/docsite/rst/%s is not in step with docs/ (run: .venv/bin/python scripts/docs-rst.py)" % name)
    else:
        RST_DIR.mkdir(parents=True, exist_ok=True)
        for name, text in results.items():
            if existing.get(name) != text:
                (RST_DIR / name).write_text(text, encoding="utf-8")
                print("docs-rst: wrote docs/docsite/rst/%s" % name)
        for name in sorted(set(existing) - set(results)):
            (RST_DIR / name).unlink()
            print("docs-rst: removed docs/docsite/rst/%s (no docs/%s.md)" % (name, name[:-4]))

    for error in errors:
        print("docs-rst: ERROR: %s" % error, file=sys.stderr)
    if not errors:
        print("docs-rst: %d guides, docs/docsite/rst %s" % (len(results), "in step" if args.check else "written"))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
