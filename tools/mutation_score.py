"""``make mutation``'s score: reads ``mutmut results --all true`` on stdin, prints killed / total per package and
every mutant that was not killed (``mutmut show <name>`` in .mutation/ prints its diff).

A mutant counts as killed when a test failed on it (mutmut's "killed"; a timeout or a crash is listed apart and
not counted as killed). "no tests" means no test of the selection ran the mutated function at all. Mutants left
"not checked" (outside ``MUTANTS=``) are only counted, never scored.
"""

from __future__ import annotations

import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable

PACKAGES = ("croupier.signing", "croupier.ledger")
LINE = re.compile(r"^\s*(?P<name>[\w.ǁ]+__mutmut_\d+): (?P<status>.+?)\s*$")


def package_of(name: str) -> str:
    return next((p for p in PACKAGES if name.startswith(p + ".")), name.rsplit(".", 2)[0])


def score(lines: Iterable[str]) -> tuple[dict[str, Counter[str]], dict[str, list[tuple[str, str]]]]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    not_killed: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for line in lines:
        match = LINE.match(line)
        if match is None:
            continue
        name, status = match["name"], match["status"]
        package = package_of(name)
        counts[package][status] += 1
        if status not in ("killed", "not checked"):
            not_killed[package].append((name, status))
    return counts, not_killed


def main() -> int:
    counts, not_killed = score(sys.stdin)
    if not counts:
        print("no mutant results: run `make mutation` first", file=sys.stderr)
        return 1
    for package in sorted(not_killed):
        print(f"\n{package}: not killed")
        for name, status in sorted(not_killed[package]):
            print(f"  {status:10}  {name}")
    print("\nmutation score (killed / total)")
    every: Counter[str] = Counter()
    for package in sorted(counts):
        every.update(counts[package])
        print(f"  {package:18} {summary(counts[package])}")
    print(f"  {'all':18} {summary(every)}")
    return 0


def summary(counts: Counter[str]) -> str:
    unchecked = counts.pop("not checked", 0)
    total = sum(counts.values())
    killed = counts["killed"]
    others = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()) if status != "killed")
    score = f"{killed}/{total} = {100 * killed / total:.1f} %" if total else "nothing checked"
    return score + (f"  ({others})" if others else "") + (f"  [{unchecked} not checked]" if unchecked else "")


if __name__ == "__main__":
    sys.exit(main())
