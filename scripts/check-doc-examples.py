#!/usr/bin/env python3
"""Checks that the code of each DocC article's worked example is the code a test compiles.

A test file marks the example with `// BEGIN <Article>.md` and `// END <Article>.md`; the
article in Sources/Backprop/Backprop.docc (or, for a name with a `/` such as
`docs/ARCHITECTURE.md`, that file of the package) must hold exactly those lines as one
```swift block.
Exit status 1 (with the first differing line) when an article's block and its test differ.
"""
import glob
import re
import sys


def marked_examples(root):
    for path in sorted(glob.glob(f"{root}/Tests/**/*.swift", recursive=True)):
        text = open(path).read()
        for match in re.finditer(r"^// BEGIN (\S+\.md)\n(.*?)^// END \1$", text, re.M | re.S):
            yield path, match.group(1), match.group(2)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    failures = 0
    found = 0
    for test, article, code in marked_examples(root):
        found += 1
        path = f"{root}/{article}" if "/" in article else f"{root}/Sources/Backprop/Backprop.docc/{article}"
        blocks = re.findall(r"^```swift\n(.*?)^```$", open(path).read(), re.M | re.S)
        if code in blocks:
            continue
        failures += 1
        closest = max(blocks, key=lambda b: len(set(b.splitlines()) & set(code.splitlines())), default="")
        for line_number, (want, have) in enumerate(zip(code.splitlines() + [""], closest.splitlines() + [""]), 1):
            if want != have:
                print(f"{path}: the example differs from {test} at line {line_number} of the block:\n"
                      f"  test:    {want}\n  article: {have}", file=sys.stderr)
                break
    if found == 0:
        print("check-doc-examples: no marked example found under Tests/", file=sys.stderr)
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
