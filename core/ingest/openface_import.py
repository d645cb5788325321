"""OpenFace FeatureExtraction output: <name>.csv + <name>_aligned/frame_det_FF_NNNNNN.bmp per video."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from core.ingest.context import ImportContext
from core.ingest.csv_import import read_crop_file
from core.ingest.files import files_under
from core.ingest.records import PendingSample, RowError
from core.ingest.tables import TableError, open_table, parse_float
from core.taxonomy import LabelError

REQUIRED = ["frame", "face_id", "confidence", "success"]
GROUPS = {  # feature kind -> column name test
    "openface_au": lambda c: c.startswith("AU") and c.endswith(("_r", "_c")),
    "openface_gaze": lambda c: c.startswith("gaze_"),
    "openface_pose": lambda c: c.startswith("pose_"),
    "openface_landmarks2d": lambda c: c[:2] in ("x_", "y_") and c[2:].isdigit(),
}


def _emotion_for(csv_path: Path, ctx: ImportContext) -> str | None:
    """The emotion named by the nearest enclosing folder (inside the root, or the root itself)."""
    folders = [csv_path.parent, *csv_path.parent.parents]
    for folder in folders:
        try:
            return ctx.taxonomy.parse(folder.name)
        except LabelError:
            if folder == ctx.root:
                return None
    return None


def parse_openface(path: Path, ctx: ImportContext) -> Iterator[PendingSample | RowError]:
    ctx.root = path if path.is_dir() else path.parent
    csvs, refused = files_under(path, {".csv"})
    for link, reason in refused:
        yield RowError(ctx.rel(link), None, None, reason)
    if not csvs and not refused:
        yield RowError(str(path), None, None, "no OpenFace CSV files found")
        return
    min_conf = float(ctx.options.get("min_confidence", 0.8))
    for csv_path in csvs:
        rel_csv = ctx.rel(csv_path)
        try:
            header, rows = open_table(csv_path, required=REQUIRED)
        except TableError as exc:
            yield RowError(rel_csv, None, None, str(exc))
            continue
        emotion = _emotion_for(csv_path, ctx)
        groups = {k: [c for c in header if test(c)] for k, test in GROUPS.items()}
        aligned = f"{csv_path.stem}_aligned"
        for line, row in rows:
            ctx.advance()
            if "__error__" in row:
                yield RowError(rel_csv, line, None, row["__error__"])
                continue
            try:
                success = int(parse_float(row["success"], "success"))
                if success != 1:  # OpenFace failed to track this frame: kept out, whatever its
                    ctx.skip("OpenFace success=0")  # other cells hold (NaN features are usual)
                    continue
                frame = int(parse_float(row["frame"], "frame"))
                face = int(parse_float(row["face_id"], "face_id"))
                conf = parse_float(row["confidence"], "confidence")
                # each group's values named by its own columns: stored aligned to the kind's names
                feats = {k: (cols, [parse_float(row[c], c) for c in cols])
                         for k, cols in groups.items() if cols}
                ts = parse_float(row["timestamp"], "timestamp") if "timestamp" in row else None
            except LabelError as exc:
                yield RowError(rel_csv, line, str(exc).split(" ")[0], str(exc))
                continue
            crop = (csv_path.parent / aligned / f"frame_det_{face:02d}_{frame:06d}.bmp")
            stored = read_crop_file(ctx, ctx.rel(crop), rel_csv, line)
            if isinstance(stored, RowError):
                yield stored
                continue
            yield PendingSample(
                crop_sha256=stored[0], crop_path=stored[1], source_path=ctx.rel(crop),
                emotion=emotion, raw={"emotion": "folder"} if emotion else None,
                subject=csv_path.stem, frame_index=frame, timestamp=ts, features=feats,
                flag=f"low OpenFace confidence {conf:.2f}" if conf < min_conf else None)
