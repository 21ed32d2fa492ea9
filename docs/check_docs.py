"""Run every command and code block of the docs, so the docs cannot rot.

    python docs/check_docs.py README.md docs/tutorial.md

The fenced blocks of all the files run in order in one scratch folder (so a
later block finds the checkpoint an earlier one trained): ```sh blocks with bash -e, and
```python blocks with this Python. A block must exit 0, unless an HTML comment
on the line just above it says otherwise:

    <!-- check: exit 1 -->                 the block must exit with status 1
    <!-- check: skip REASON -->            not run; REASON is printed

Other block languages (text, output) are shown to the reader, not run.
`.ci/run` calls this after the tests; it exits 1 if any block fails.
"""

import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FENCE = re.compile(r"^```(\w*)\s*$")
DIRECTIVE = re.compile(r"^<!-- check: (exit (\d+)|skip (.+)) -->$")
RUNNERS = {"sh": ["bash", "-e", "-c"], "python": [sys.executable, "-c"]}


def blocks(path):
    """Yield (line number, language, code, directive match or None) per block."""
    lines = Path(path).read_text().splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            index += 1
            continue

        start, language = index, opening.group(1)
        index += 1
        while index < len(lines) and not FENCE.match(lines[index]):
            index += 1
        code = "\n".join(lines[start + 1 : index])
        above = lines[start - 1].strip() if start > 0 else ""
        yield start + 1, language, code, DIRECTIVE.match(above)
        index += 1


def check_file(path, scratch):
    """Run one file's blocks in `scratch`; return the number that failed."""
    failures = 0
    for line, language, code, directive in blocks(path):
        if language not in RUNNERS:
            continue
        where = f"{path}:{line}"
        if directive and directive.group(3):
            print(f"skip  {where}  ({directive.group(3)})")
            continue

        expected = int(directive.group(2)) if directive else 0
        started = time.perf_counter()
        result = subprocess.run(RUNNERS[language] + [code], check=False, cwd=scratch)
        seconds = time.perf_counter() - started

        if result.returncode == expected:
            print(f"ok    {where}  ({language}, exit {expected}, {seconds:.1f} s)")
        else:
            failures += 1
            print(
                f"FAIL  {where}  ({language}): exit {result.returncode}, "
                f"expected {expected}"
            )
    return failures


def main(paths):
    failures = 0
    with tempfile.TemporaryDirectory(prefix="diffmem-docs-") as scratch:
        for path in paths:
            failures += check_file(Path(path).resolve(), scratch)
    print(f"{failures} failed" if failures else "every docs block ran as expected")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
