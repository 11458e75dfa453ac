"""Combine bench reports of two builds: best req/s per scenario and side, its p99, the ratios.

python scripts/bench/ab_report.py A-run1.txt A-run2.txt -- B-run1.txt B-run2.txt
"""

import sys

COLUMNS = ("rps", "p50", "p95", "p99", "errors", "rss", "load")


def best_rows(paths: list[str]) -> dict[str, dict[str, float]]:
    """Per scenario, the row with the highest req/s over all the given reports."""
    best: dict[str, dict[str, float]] = {}
    for path in paths:
        with open(path) as report:
            for line in report:
                parts = line.split()
                if len(parts) != 8 or parts[0] == "scenario":
                    continue
                try:
                    row = dict(zip(COLUMNS, map(float, parts[1:]), strict=True))
                except ValueError:
                    continue
                if parts[0] not in best or row["rps"] > best[parts[0]]["rps"]:
                    best[parts[0]] = row
    return best


LINE = "{:<22} {:>9} {:>9} {:>7} {:>8} {:>8} {:>8} {:>11}"


def ratio(new: float | None, old: float | None) -> str:
    return f"{new / old:.2f}x" if new and old else "-"


def main(argv: list[str]) -> None:
    split = argv.index("--")
    a, b = best_rows(argv[:split]), best_rows(argv[split + 1 :])
    header = ("scenario", "A req/s", "B req/s", "B/A", "A p99", "B p99", "B/A p99", "errors A/B")
    print(LINE.format(*header))
    for name in list(a) + [name for name in b if name not in a]:
        old, new = a.get(name, {}), b.get(name, {})
        print(
            LINE.format(
                name,
                f"{old['rps']:.0f}" if old else "-",
                f"{new['rps']:.0f}" if new else "-",
                ratio(new.get("rps"), old.get("rps")),
                f"{old['p99']:.1f}" if old else "-",
                f"{new['p99']:.1f}" if new else "-",
                ratio(new.get("p99"), old.get("p99")),
                f"{old.get('errors', 0):.0f}/{new.get('errors', 0):.0f}",
            )
        )


if __name__ == "__main__":
    main(sys.argv[1:])
