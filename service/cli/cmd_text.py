"""``cccd text repair STRING``: show how Vietnamese text was mangled and the repair."""

from __future__ import annotations

import argparse
import json

from verify import vntext


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    text = subparsers.add_parser("text", help="Vietnamese text tools (repair, fold)")
    sub = text.add_subparsers(dest="text_command", metavar="ACTION", required=True)
    rep = sub.add_parser(
        "repair",
        help="repair legacy-encoded or mojibake text and name its source",
        description="Recognise TCVN3, VNI, VISCII, UTF-8-as-CP1252, Big5/Shift-JIS mojibake, "
        "NFD and lossy text; print the repaired NFC text and what it came from.",
    )
    rep.add_argument("string", metavar="STRING")
    rep.add_argument("--json", action="store_true", help="print JSON")
    rep.set_defaults(func=run_repair)


def run_repair(args: argparse.Namespace) -> int:
    result = vntext.repair(args.string)
    normalized = vntext.normalize(args.string)
    data = {
        "input": args.string,
        "text": result.text,
        "source_encoding": result.source_encoding,
        "changed": result.changed,
        "case_guessed": result.case_guessed,
        "suspect": result.suspect,
        "alternatives": [{"source_encoding": s, "text": t} for s, t in result.alternatives],
        "normalized": normalized,
        "title_case": vntext.title_case(args.string),
        "fold": vntext.fold(args.string),
        "search_key": vntext.search_key(args.string),
    }
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print(f"text:       {result.text}")
        print(f"source:     {result.source_encoding}" + (" (changed)" if result.changed else ""))
        if result.case_guessed:
            print("note:       TCVN3 does not record the case of toned capitals: case guessed")
        for source, text in result.alternatives:
            print(f"also fits:  {text} ({source})")
        if result.source_encoding == "lossy":
            print("note:       letters were replaced by '?' or U+FFFD; they cannot be recovered")
        print(f"normalized: {normalized}")
        print(f"title case: {data['title_case']}")
        print(f"search key: {data['search_key']}")
    return 0
