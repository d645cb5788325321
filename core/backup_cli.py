"""`backup` and `restore` verbs for `python -m core` (SQLite label store; PostgreSQL: pg_dump)."""
from __future__ import annotations

import argparse
from typing import Any


def cmd_backup(args: argparse.Namespace) -> dict[str, Any]:
    from core.backup import backup

    return backup(args.to, force=args.force)


def cmd_restore(args: argparse.Namespace) -> dict[str, Any]:
    from core.backup import restore

    return restore(args.from_, force=args.force)


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register `backup --to FILE` and `restore --from FILE [--force]`."""
    sp = subparsers.add_parser("backup", help="consistent copy of the SQLite label store, safe while "
                                              "the app and jobs keep writing")
    sp.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    sp.add_argument("--to", required=True, metavar="FILE",
                    help="backup file to write (one self-contained SQLite file)")
    sp.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    sp.set_defaults(handler=cmd_backup)
    sp = subparsers.add_parser("restore", help="replace the SQLite label store with a backup")
    sp.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    sp.add_argument("--from", dest="from_", required=True, metavar="FILE", help="backup file to restore")
    sp.add_argument("--force", action="store_true",
                    help="replace an existing store (a copy of it is kept as <db>.replaced-<time>)")
    sp.set_defaults(handler=cmd_restore)
