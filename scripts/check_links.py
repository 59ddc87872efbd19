#!/usr/bin/env python3
"""check_links.py [ROOT]: every relative link and anchor in README.md and docs/*.md resolves.

A link is `[text](target)` or `src="target"` outside code; a target with a scheme (https:,
mailto:) is not followed. `path#anchor` must name an existing file and, for a Markdown file,
one of its headings as GitHub spells anchors (lower case, punctuation dropped, spaces as
hyphens, a repeated heading gets -1, -2, ...). Prints each broken link with its file and line
and exits 1 when there is one.
"""
import os
import re
import sys

LINK = re.compile(r'\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)|src="([^"]+)"')
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def prose(path):
    """Yields (line number, line) of a Markdown file outside fenced code blocks."""
    fenced = False
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.lstrip().startswith("```"):
                fenced = not fenced
                continue
            if not fenced:
                yield n, line


def anchors(path):
    """The anchors GitHub makes for a Markdown file's headings."""
    seen, out = {}, set()
    for _, line in prose(path):
        m = HEADING.match(line)
        if not m:
            continue
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", m.group(2))  # a link's text only
        slug = re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        out.add(slug if count == 0 else f"{slug}-{count}")
    return out


def broken(root, path, cache):
    """Yields 'file:line: target: why' for each link of `path` that does not resolve."""
    for n, line in prose(path):
        line = re.sub(r"`[^`]*`", "", line)  # inline code is not a link
        for m in LINK.finditer(line):
            target = m.group(1) or m.group(2)
            if SCHEME.match(target):
                continue
            file, _, anchor = target.partition("#")
            where = os.path.normpath(os.path.join(os.path.dirname(path), file)) if file else path
            rel = os.path.relpath(path, root)
            if not os.path.exists(where):
                yield f"{rel}:{n}: {target}: no such file"
            elif anchor and where.endswith(".md"):
                if where not in cache:
                    cache[where] = anchors(where)
                if anchor not in cache[where]:
                    yield f"{rel}:{n}: {target}: no heading makes the anchor #{anchor}"


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".")
    pages = [os.path.join(root, "README.md")]
    docs = os.path.join(root, "docs")
    if os.path.isdir(docs):
        pages += sorted(os.path.join(docs, p) for p in os.listdir(docs) if p.endswith(".md"))
    cache, errors = {}, []
    for page in pages:
        errors += broken(root, page, cache)
    for e in errors:
        print(e)
    print(f"{len(pages)} pages, {len(errors)} broken links")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
