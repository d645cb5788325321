"""Export -> import round trips in every emotion mode (multi-label, distribution, named targets),
the schema file beside the export, and located errors for malformed richer-label columns."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest

from core.export import export_dataset, rich_columns
from core.ingest import ImportFailed, import_path
from core.label_schema import LabelSchema, TargetSpec, emotic_schema, fiv2_schema, mosei_schema
from core.store.datasets import dataset_schema, require_dataset
from core.store.labels import edit_label
from tests.helpers import write_image
from tests.ingest.common import counts, samples
from tests.store import conftest as store_conftest

env = store_conftest.env  # these tests run on SQLite and on PostgreSQL (AFFECTLAB_TEST_PG_URL)

CUSTOM = LabelSchema(classes=("calm", "tense"), dominance=True, targets=(TargetSpec("pain", 0, 10),))


def _rows(schema: LabelSchema, n: int = 6) -> list[dict[str, str]]:
    """Generated labels in the schema's mode: some empty sets / no-emotion rows, a missing trait."""
    out = []
    for i in range(n):
        row = {"image_path": f"imgs/{i}.png", "emotion": "", "valence": f"{(i - 3) / 3:.6f}",
               "arousal": f"{(3 - i) / 7:.9f}", "subject": f"s{i % 2}", "split": ("train", "val", "")[i % 3]}
        a, b = schema.classes[i % len(schema.classes)], schema.classes[(i + 2) % len(schema.classes)]
        if schema.emotion_mode == "single":
            row["emotion"] = a if i % 4 else ""
        elif schema.emotion_mode == "multi":
            row["emotions"] = json.dumps([] if i == 1 else [b, a] if i % 2 else [a])  # stored in class order
        else:
            row["distribution"] = json.dumps({} if i == 1 else {a: 2, b: 1 + i})
        if schema.dominance:
            row["dominance"] = "" if i == 2 else f"{i / 10 - 0.25:.3f}"
        for t in schema.targets:
            row[f"target:{t.name}"] = "" if i == 3 else repr(t.low + (t.high - t.low) * (i + 0.5) / n)
        out.append(row)
    return out


def _write(root: Path, schema: LabelSchema | None, rows: list[dict[str, str]]) -> Path:
    for i in range(len(rows)):
        write_image(root / "imgs" / f"{i}.png", 2000 + i)
    path = root / "labels.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    if schema is not None:
        (root / "labels.schema.json").write_text(json.dumps(schema.to_dict()))
    return path


def _labels(read, dataset: str) -> dict[str, tuple]:
    return {x.crop_sha256: (x.cur_emotion, x.cur_emotions, x.cur_distribution, x.cur_valence, x.cur_arousal,
                            x.cur_dominance, x.cur_stress, x.cur_targets, x.subject, x.split)
            for x in samples(read, dataset).values()}


def _close(a, b) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 1e-12
    return a == b


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("make", [emotic_schema, mosei_schema, fiv2_schema, lambda: CUSTOM],
                         ids=["multi", "distribution", "traits", "single+extras"])
def test_export_then_import_is_lossless_in_every_mode(env, write, read, make, suffix):
    schema = make()
    src = _write(env / "in", schema, _rows(schema))
    assert import_path("csv", src, dataset="orig").added == 6
    smp = samples(read, "orig")["imgs/4.png"]
    edit = {"targets": {schema.targets[0].name: schema.targets[0].high}} if schema.targets else {}
    if schema.emotion_mode == "multi":
        edit["emotions"] = [schema.classes[-1]]
    with write() as s, s.begin():  # a human edit of one field: the export has the mix of sources
        edit_label(s, smp.id, base_annotation_id=smp.cur_annotation_id, annotator="ana", valence=0.5, **edit)
    out = env / "out" / f"export{suffix}"
    with read() as s:
        info = export_dataset(s, require_dataset(s, "orig").id, out)
    assert info["schema"] == str(env / "out" / "export.schema.json")
    table = pd.read_csv(out) if suffix == ".csv" else pd.read_parquet(out)
    assert set(rich_columns(schema)) <= set(table.columns) and rich_columns(schema)
    assert import_path("csv", out, dataset="copy").added == 6
    with read() as s:
        assert dataset_schema(require_dataset(s, "copy")) == schema
    orig, copy = _labels(read, "orig"), _labels(read, "copy")
    assert orig.keys() == copy.keys()
    for crop, labels in orig.items():
        assert all(_close(a, b) for a, b in zip(labels, copy[crop])), (labels, copy[crop])
    edited = next(v for k, v in orig.items() if k == smp.crop_sha256)
    assert edited[3] == 0.5 and (not schema.targets or edited[7][schema.targets[0].name] == schema.targets[0].high)
    with read() as s:  # and the copy exports to the same table
        export_dataset(s, require_dataset(s, "copy").id, env / "again" / f"export{suffix}")
    again = pd.read_csv(env / "again" / f"export{suffix}") if suffix == ".csv" else pd.read_parquet(
        env / "again" / f"export{suffix}")
    cols = ["emotion", "valence", "arousal", "subject", "split", *rich_columns(schema)]
    pd.testing.assert_frame_equal(table[cols], again[cols])


def test_multilabel_cells_are_json_and_empty_sets_survive(env, read):
    src = _write(env / "in", emotic_schema(), _rows(emotic_schema()))
    import_path("csv", src, dataset="orig")
    with read() as s:
        export_dataset(s, require_dataset(s, "orig").id, env / "out.csv")
    got = {r["source_path"]: r for r in csv.DictReader((env / "out.csv").open(encoding="utf-8"))}
    assert json.loads(got["imgs/1.png"]["emotions"]) == []
    assert json.loads(got["imgs/3.png"]["emotions"]) == ["Anticipation", "Confidence"]  # class order
    assert got["imgs/2.png"]["dominance"] == "" and float(got["imgs/0.png"]["dominance"]) == -0.25
    assert json.loads((env / "out.schema.json").read_text())["emotion_mode"] == "multi"


@pytest.mark.parametrize(("schema", "column", "cell", "reason"), [
    (emotic_schema(), "emotions", '["Anger", "Bored"]', "unknown emotion 'Bored'"),
    (emotic_schema(), "emotions", "Anger", "not JSON"),
    (emotic_schema(), "emotions", '{"Anger": 1}', "must be a JSON list"),
    (emotic_schema(), "dominance", "1.5", "dominance"),
    (mosei_schema(), "distribution", '{"Happy": -1}', ">= 0"),
    (mosei_schema(), "distribution", '{"Happy": NaN}', "not a number"),
    (mosei_schema(), "distribution", '{"Happy": 1, "Happy": 2}', "names 'Happy' twice"),
    (fiv2_schema(), "target:openness", "1.2", "outside"),
    (fiv2_schema(), "target:charisma", "0.5", "unknown target 'charisma'"),
    (None, "emotions", '["Happy"]', "no multi-label emotions"),
])
def test_malformed_richer_columns_are_located_errors_storing_nothing(env, read, schema, column, cell, reason):
    rows = _rows(schema or LabelSchema())[:3]
    rows[1][column] = cell
    for r in rows:
        r.setdefault(column, "")
    src = _write(env / "in", schema, rows)
    with pytest.raises(ImportFailed) as exc:
        import_path("csv", src, dataset="d")
    errors = exc.value.report.errors
    assert [(e.line, e.field) for e in errors] == [(3, column)] and reason in errors[0].reason
    assert counts(read) == (0, 0)


def test_a_broken_schema_file_is_refused(env, read):
    src = _write(env / "in", None, _rows(LabelSchema())[:2])
    (env / "in" / "labels.schema.json").write_text('{"emotion_mode": "fuzzy"}')
    with pytest.raises((ImportFailed, ValueError), match="labels.schema.json: not a label schema"):
        import_path("csv", src, dataset="d")
    assert counts(read) == (0, 0)


def test_a_table_with_its_schema_needs_only_the_image_and_the_schema_columns(env, read):
    rows = [{"image_path": f"imgs/{i}.png", "target:openness": f"0.{i + 1}", "target:interview": "0.5"}
            for i in range(3)]
    src = _write(env / "in", fiv2_schema(), rows)
    assert import_path("csv", src, dataset="traits").added == 3
    got = sorted(x.cur_targets["openness"] for x in samples(read, "traits").values())
    assert got == [0.1, 0.2, 0.3]
    (env / "in" / "labels.schema.json").unlink()  # a plain CSV keeps its required columns
    with pytest.raises(ImportFailed, match="missing column"):
        import_path("csv", src, dataset="plain")
