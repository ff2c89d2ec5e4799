#!/usr/bin/env python3
"""Lists every public or open symbol of the Backprop module that has no doc comment of its own.

Reads the symbol graphs that `swift package generate-documentation` extracts (the files are
given on the command line) and reports each symbol that is declared in Backprop's sources and
whose documentation is missing, starts with a callout such as `- Parameters:` (no summary
sentence), or comes from another module (a `description` that would show the standard
library's "A textual representation of this instance."). A symbol that inherits
its comment from a Backprop protocol requirement (say `Dense.forward`, documented on
`Layer.forward`) counts as documented: DocC shows that comment on its page. Compiler-synthesized
members (`!=`, `hashValue`, `init(rawValue:)`) have no source location and are skipped.

With `--topics FILE` (the catalog's Backprop.md), also lists every top-level symbol (type or
free function) that FILE's Topics do not link, so no public symbol lands in DocC's
automatic "Classes"/"Structures" catch-all groups.

Exit status 1 when any symbol is undocumented or ungrouped (one line each), else 0.
"""
import json
import re
import sys


def has_abstract(comment):
    """A comment of this module whose first line is a sentence, not a `- Parameters:` callout
    (DocC shows no summary for a comment that starts with one)."""
    if not comment or comment.get("module", "Backprop") != "Backprop":
        return False
    lines = [line["text"].strip() for line in comment.get("lines", []) if line["text"].strip()]
    return bool(lines) and not lines[0].startswith("- ")


def undocumented(paths):
    found = {}
    for path in paths:
        with open(path) as handle:
            graph = json.load(handle)
        for symbol in graph["symbols"]:
            if symbol.get("accessLevel") not in ("public", "open"):
                continue
            location = symbol.get("location")
            if not location or "/Sources/Backprop/" not in location["uri"]:
                continue
            if has_abstract(symbol.get("docComment")):
                continue
            file = location["uri"].split("/Sources/Backprop/", 1)[1]
            line = location["position"]["line"] + 1
            found[(file, line, "/".join(symbol["pathComponents"]))] = True
    return sorted(found)


def ungrouped(paths, topics_path):
    """Top-level symbols that no ``Link`` in the topics file names."""
    topics = open(topics_path).read()
    linked = {re.split(r"[(/-]", link)[0] for link in re.findall(r"``([^`]+)``", topics)}
    names = set()
    for path in paths:
        with open(path) as handle:
            for symbol in json.load(handle)["symbols"]:
                if len(symbol["pathComponents"]) == 1 and symbol.get("accessLevel") in ("public", "open"):
                    names.add(re.split(r"[(]", symbol["pathComponents"][0])[0])
    return sorted(names - linked)


def main():
    arguments = sys.argv[1:]
    topics = None
    if len(arguments) >= 2 and arguments[0] == "--topics":
        topics, arguments = arguments[1], arguments[2:]
    if not arguments:
        print("usage: check-doc-comments.py [--topics Backprop.md] SYMBOL_GRAPH.json...", file=sys.stderr)
        return 2
    missing = undocumented(arguments)
    for file, line, name in missing:
        print(f"Sources/Backprop/{file}:{line}: {name} has no doc comment with a summary line")
    if missing:
        print(f"{len(missing)} public symbols have no doc comment (add a /// line above each)", file=sys.stderr)
    loose = ungrouped(arguments, topics) if topics else []
    for name in loose:
        print(f"{topics}: {name} is in no topic group (add ``{name}`` under a ### heading)")
    return 1 if missing or loose else 0


if __name__ == "__main__":
    sys.exit(main())
