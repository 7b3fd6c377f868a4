"""``cccd key new``: a desk key made the right way -- 32 random URL-safe characters from the
operating system's CSPRNG -- printed with the config line that stores only its digest."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("key", help="desk keys")
    commands = parser.add_subparsers(dest="key_command", metavar="ACTION")
    new = commands.add_parser("new", help="make a new random desk key")
    new.add_argument("--desk", default="desk-1", help="the desk's name in the config")
    new.set_defaults(func=new_key)
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])


def new_key(args: argparse.Namespace) -> int:
    from service.settings import generate_key, hash_key

    key = generate_key()
    print(f"key for {args.desk} (give it to the desk; it is shown only now): {key}")
    print("config file line (keeps only the digest):")
    print(f'[desks.{args.desk}]\nkeys = ["{hash_key(key)}"]')
    return 0
