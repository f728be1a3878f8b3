"""The table of field accuracy in the docs, from a saved fields report.

    python -m bench.fields_table REPORT.json [--doc docs/engine.md]

REPORT.json is what ``ocrd eval FIELDS_SET --report REPORT.json`` writes (``make eval-fields`` does
both steps). The table replaces what is between the marker comments of ``--doc``, under a line
saying which models measured it, when, and whether the set met its bars; so the engine runs once
and the figures in the docs are exactly the ones of the report.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.tables import between_markers
from ocrd.evaluation import fields_markdown

REPO = Path(__file__).resolve().parent.parent
START = "<!-- fields-table:start -->"
END = "<!-- fields-table:end -->"


def block(data: dict[str, Any], measured: datetime) -> str:
    engine = data.get("engine", {})
    counts = data["documents"]
    bars = data.get("bars")
    if bars is None:
        verdict = "no bars for this set"
    elif bars["failures"]:
        verdict = f"{len(bars['failures'])} bar(s) missed: " + "; ".join(bars["failures"])
    else:
        verdict = "all bars met"
    header = (
        f"Measured {measured:%Y-%m-%d %H:%M} UTC with `{engine.get('models', '?')}` "
        f"({engine.get('precision') or '?'}) on `{Path(data['set']).name}`: {counts['all']} documents, "
        f"{counts['clean']} clean and {counts['degraded']} degraded; {verdict}."
    )
    return header + "\n\n" + fields_markdown(data)


def replace_between_markers(document: str, text: str, where: Path) -> str:
    return between_markers(document, START, END, text, where)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, help="JSON written by ocrd eval --report on a fields set")
    parser.add_argument("--doc", type=Path, default=REPO / "docs" / "engine.md")
    args = parser.parse_args(argv)

    data = json.loads(args.report.read_text(encoding="utf-8"))
    if data.get("type") != "fields":
        raise SystemExit(f"{args.report}: not a fields report (ocrd eval on a set whose items carry fields)")
    text = block(data, datetime.now(UTC))
    document = args.doc.read_text(encoding="utf-8")
    args.doc.write_text(replace_between_markers(document, text, args.doc), encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
