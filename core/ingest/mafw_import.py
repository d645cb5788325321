"""MAFW (DATASETS.md section 7): `clips/<5-digit id>.mp4` labelled by `single_label.txt` (one of 11
emotions) or `multi_label.txt` (compound labels: a multi-label set over the 11); one clip sample per
labelled clip (core.ingest.clip_build), captions kept in the raw label, no subject ids (splits then
group by clip). Option `fold` (1-5) takes train/test from the authors' `*/single/no_caption/set_N/`."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from core.ingest.clip_build import build_clips, clip_rule
from core.ingest.context import ImportContext
from core.ingest.files import UnsafePathError, resolve_inside
from core.ingest.mafw_labels import LabelFileError, MafwRow, parse_line, read_lines
from core.ingest.records import PendingSample, RowError
from core.label_schema import LabelSchema, mafw_schema

LABEL_FILES = ("single_label.txt", "multi_label.txt")  # a folder: the first one found
FOLD_SPLITS = {"train.txt": "train", "test.txt": "test"}  # MAFW has no validation set


def find_label_file(path: Path) -> Path | None:
    """The label file an import of `path` reads: the file itself, else single_label.txt (then
    multi_label.txt) in the folder, its caption-label/ folder, or below."""
    if path.is_file():
        return path
    for name in LABEL_FILES:
        for where in (path / name, path / "caption-label" / name):
            if where.is_file():
                return where
        found = sorted(p for p in path.rglob(name) if p.is_file())
        if found:
            return found[0]
    return None


def is_multi(label_file: Path) -> bool:
    return label_file.name.lower().startswith("multi")


def mafw_schema_for(path: Path) -> LabelSchema:
    """The schema an import of `path` gives its dataset: multi-label for multi_label.txt."""
    label_file = find_label_file(path)
    return mafw_schema(multi=label_file is not None and is_multi(label_file))


def clips_folder(path: Path, label_file: Path) -> Path:
    """Where the clips are: clips/ in the imported folder, beside the label file or one folder up
    (caption-label/../clips), else the label file's own folder."""
    bases = ([path] if path.is_dir() else []) + [label_file.parent, label_file.parent.parent]
    return next((b / "clips" for b in bases if (b / "clips").is_dir()), label_file.parent)


def _rows(label_file: Path, schema: LabelSchema, ctx: ImportContext, file: str
          ) -> Iterator[MafwRow | RowError]:
    try:
        lines, note = read_lines(label_file)
    except (LabelFileError, OSError) as exc:
        yield RowError(file, None, None, str(exc))
        return
    if note:
        ctx.warnings.append(note)
    numbered = [(n, text) for n, text in enumerate(lines, 1) if text.strip()]
    if not numbered:
        yield RowError(file, None, None, "no labelled clip in the file (empty)")
        return
    ctx.total = len(numbered)
    for n, text in numbered:
        got = parse_line(text, n, schema, file)
        if isinstance(got, list):
            ctx.advance()
            yield from got
        else:
            yield got


def _fold(root: Path, fold: int, ctx: ImportContext) -> tuple[dict[str, str], list[RowError]]:
    """clip name -> train/test of fold N from `<root>/*/single/no_caption/set_N/{train,test}.txt`."""
    if not 1 <= fold <= 5:
        return {}, [RowError(str(root), None, "fold", f"fold {fold} is not 1-5 (MAFW has 5 folds)")]
    found = sorted(d for d in root.glob(f"*/single/no_caption/set_{fold}") if d.is_dir())
    if not found:
        return {}, [RowError(ctx.rel(root), None, "fold", f"no '*/single/no_caption/set_{fold}/' folder "
                             "(the 'Train & Test Set' folder of MAFW) under the import folder")]
    splits: dict[str, str] = {}
    where: dict[str, str] = {}
    errors = []
    for name, split in FOLD_SPLITS.items():
        file = found[0] / name
        rel = ctx.rel(file)
        try:
            lines, _ = read_lines(file)
        except FileNotFoundError:
            errors.append(RowError(rel, None, None, f"fold {fold} has no {name}"))
            continue
        except (LabelFileError, OSError) as exc:
            errors.append(RowError(rel, None, None, str(exc)))
            continue
        for n, text in enumerate(lines, 1):
            if not text.strip():
                continue
            clip = text.split()[0]
            if clip in where:
                errors.append(RowError(rel, n, "clip", f"clip {clip!r} is already in {where[clip]}"))
                continue
            splits[clip], where[clip] = split, f"{rel}:{n}"
    return splits, errors


def _video(clips: Path, row: MafwRow, ctx: ImportContext, file: str) -> Path | RowError:
    try:
        video = resolve_inside(clips, row.clip, cache=ctx.resolved_dirs)
    except UnsafePathError as exc:
        return RowError(file, row.line, "clip", str(exc))
    if not video.is_file():
        return RowError(file, row.line, "clip", f"clip file {ctx.rel(clips / row.clip)} does not exist")
    return video


def parse_mafw(path: Path, ctx: ImportContext) -> Iterator[PendingSample | RowError]:
    """Every labelled line -> one clip sample of its clip (all lines are checked before decoding)."""
    label_file = find_label_file(path)
    if label_file is None:
        yield RowError(str(path), None, None, f"no {' or '.join(LABEL_FILES)} found (MAFW: "
                                              "caption-label/single_label.txt beside clips/)")
        return
    clips = clips_folder(path, label_file)
    ctx.root = label_file.parent if clips == label_file.parent else clips.parent  # the MAFW root
    file = ctx.rel(label_file)
    schema = mafw_schema(multi=is_multi(label_file))
    if path.is_dir() and label_file.name == LABEL_FILES[0] and (label_file.parent / LABEL_FILES[1]).is_file():
        ctx.warnings.append(f"{LABEL_FILES[1]} was not imported: import that file into its own dataset "
                            "(compound labels are multi-label)")
    fold, splits = ctx.options.get("fold"), {}
    if fold is not None:
        if schema.emotion_mode == "multi":
            yield RowError(file, None, "fold", "MAFW's folds are read for single_label.txt only (the compound "
                                               "set's split files are not documented); use affectlab split")
            return
        splits, errors = _fold(ctx.root, int(fold), ctx)
        yield from errors
    good: list[tuple[MafwRow, Path]] = []
    seen: dict[str, int] = {}
    for row in _rows(label_file, schema, ctx, file):
        if isinstance(row, RowError):
            yield row
            continue
        video = _video(clips, row, ctx, file)
        if isinstance(video, RowError):
            ctx.advance()
            yield video
        elif str(video) in seen:
            ctx.advance()
            yield RowError(file, row.line, "clip", f"clip {row.clip!r} is already on line {seen[str(video)]}")
        else:
            seen[str(video)] = row.line
            good.append((row, video))
    if fold is not None and (unsplit := sum(1 for row, _ in good if row.clip not in splits)):
        ctx.warnings.append(f"{unsplit} clip(s) are in neither train.txt nor test.txt of fold {fold}: no split")
    yield from _build(good, ctx, file, splits)


def _build(good: list[tuple[MafwRow, Path]], ctx: ImportContext, file: str, splits: dict[str, str]
           ) -> Iterator[PendingSample | RowError]:
    rule = clip_rule(ctx)
    media: dict[str, str] = {}
    for row, video in good:
        ctx.advance()
        (item,) = build_clips(video, [(0.0, None)], ctx, rule=rule, labels=[row.labels], subject=None,
                              split=splits.get(row.clip), source=ctx.rel(video), media=media,
                              where=[(file, row.line)])
        if item is not None:
            yield item
