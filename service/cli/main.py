"""``cccd``: the command-line entry point. Each ``service/cli/cmd_*.py`` module registers its
sub-commands, so a feature brings its command without touching this file.

Every error ends as one plain line on stderr and an exit code, never a traceback: 2 for
input the command cannot use (arguments, files, card errors), 1 for anything else
(``-v`` logs the traceback too, for a bug report). 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import pkgutil
import sys
from collections.abc import Sequence
from typing import NoReturn

import reader
import service.cli as cli_package


class Parser(argparse.ArgumentParser):
    """argparse, with a usage error told in one line (the usage itself is ``--help``)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="cccd",
        description="Read, verify and serve the Vietnamese chip ID card (CCCD / the can cuoc).",
    )
    parser.add_argument("--version", action="version", version=f"cccd {reader.__version__}")
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="more log output (-vv for protocol detail; never personal data)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for module_info in sorted(pkgutil.iter_modules(cli_package.__path__), key=lambda m: m.name):
        if module_info.name.startswith("cmd_"):
            module = importlib.import_module(f"service.cli.{module_info.name}")
            module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader of our output went away (`cccd ... | head`): not an error of ours.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - Python's documented idiom
        return 1
    except reader.CardError as exc:
        print(f"cccd: {one_line(exc)}", file=sys.stderr)
        return 2
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        print(f"cccd: {exc.strerror or one_line(exc)}{where}", file=sys.stderr)
        return 2
    except (ValueError, KeyError, LookupError) as exc:
        print(f"cccd: {one_line(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:
        logging.getLogger("cccd").debug("unexpected error", exc_info=True)
        print(
            f"cccd: unexpected error ({type(exc).__name__}): {one_line(exc)}; "
            "run again with -v and report it",
            file=sys.stderr,
        )
        return 1


def one_line(exc: BaseException) -> str:
    """An exception's message on one line (a KeyError's without its quotes)."""
    text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    text = " ".join(text.split())
    return text[:500] or type(exc).__name__


if __name__ == "__main__":
    sys.exit(main())
