"""``cccd erase --id-number N`` (docs/operations.md "Decree 13 duties"): a person's request to
erase their data -- every stored read and insurance answer of that ID number is deleted and
the database file scrubbed; the erasure itself is audited (with the hashed subject). A running
service also drops its in-memory scans at its next purge, within the retention period; the
admin API (``DELETE /api/v1/citizens/{id}``) drops them at once.
"""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("erase", help="erase one person's stored reads on request")
    parser.add_argument("--id-number", required=True, help="the person's 12-digit ID number")
    parser.add_argument("--config", help="TOML config file (or CCCD_CONFIG)")
    parser.set_defaults(func=erase)


def erase(args: argparse.Namespace) -> int:
    from service.settings import Settings, SettingsError
    from service.storage.audit_key import AuditKeyError
    from service.storage.store import open_store

    number = args.id_number.strip()
    if not (len(number) == 12 and number.isascii() and number.isdigit()):
        print("cccd erase: --id-number must be the 12 digits of the ID number", file=sys.stderr)
        return 2
    try:
        settings = Settings.load(config_file=args.config)
        store = open_store(settings, create_key=False)
        store.migrate()
    except (SettingsError, AuditKeyError, ValueError) as exc:
        print(f"cccd erase: {exc}", file=sys.stderr)
        return 2
    try:
        counts = store.erase(number)
        from service.integrations.his.outbox import (
            erase as erase_outbox,  # the HIS webhook's entries
        )

        counts["webhook"] = erase_outbox(store.engine, number)
        store.audit(
            desk="cli",
            role="admin",
            action="erase",
            outcome=f"{counts['reads']} reads, {counts['insurance']} insurance",
            id_number=number,
        )
    finally:
        store.close()
    print(
        f"erased {counts['reads']} reads, {counts['insurance']} insurance answers "
        f"and {counts['webhook']} webhook entries"
    )
    return 0
