"""Per-file mutation figures from ``mutmut results --all true`` on stdin.

A mutant is "covered" when tests ran against it (killed, survived, timeout); the score is
killed / covered. Survivors are listed for docs/quality.md."""

from __future__ import annotations

import re
import sys
from collections import Counter, defaultdict

LINE = re.compile(
    r"^\s*(?P<module>[\w.]+?)\.x(?:ǁ(?P<cls>\w+)ǁ)?_?(?P<fn>\w+?)__mutmut_(?P<n>\d+):"
    r" (?P<status>.+)$"
)
# The modules passive authentication spans besides verify/passive*.py.
_PASSIVE = ("verify.cms", "verify.dsc_chain", "verify.times")


def main() -> int:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    survivors: dict[str, list[str]] = defaultdict(list)
    for raw in sys.stdin:
        match = LINE.match(raw.rstrip("\n"))
        if match is None:
            continue
        module, status = match["module"], match["status"].strip()
        counts[module][status] += 1
        if status == "survived":
            survivors[module].append(raw.strip().split(":")[0])
    print(
        f"{'module':<22} {'killed':>7} {'survived':>9} {'timeout':>8} {'no tests':>9} {'score':>7}"
    )
    rows = dict(counts)
    pace = [m for m in counts if m.startswith("reader.protocol.pace")]
    if len(pace) > 1:  # the PACE modules together, as the quality target names them
        rows["reader.protocol.pace* (all)"] = sum((counts[m] for m in pace), Counter())
    passive = [m for m in counts if m in _PASSIVE or m.startswith("verify.passive")]
    if len(passive) > 1:  # passive authentication together, as it was one module before
        rows["passive auth (all)"] = sum((counts[m] for m in passive), Counter())
    for module in sorted(rows):
        c = rows[module]
        killed = c["killed"] + c["timeout"]
        covered = killed + c["survived"]
        score = f"{100 * killed / covered:.1f}%" if covered else "-"
        print(
            f"{module:<22} {c['killed']:>7} {c['survived']:>9} {c['timeout']:>8} "
            f"{c['no tests'] + c['not checked']:>9} {score:>7}"
        )
    for module in sorted(survivors):
        print(f"\nsurvivors in {module}:")
        for name in survivors[module]:
            print(f"  {name}")
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except BrokenPipeError:  # e.g. piped into head
        raise SystemExit(0) from None
