"""First Impressions V2 importer on generated annotation files (pickle, JSON, CSV) and face clips."""
from __future__ import annotations

import json
import os
import pickle

import pytest
from sqlalchemy import select

from core.ingest import ImportFailed, import_path
from core.ingest.fiv2_import import read_fiv2_labels, subject_of
from core.label_schema import fiv2_schema
from core.store.datasets import dataset_schema
from core.store.models import Dataset, Sample
from tests.ingest.clips import face_clip
from tests.ingest.common import counts, crop_files

CLIPS = ("-Xy0AbCdEfG.001.mp4", "-Xy0AbCdEfG.002.mp4", "12345.003.mp4", "k_9-Z.010.mp4")
TRAITS = ("extraversion", "neuroticism", "agreeableness", "conscientiousness", "interview", "openness")


def _labels(n: int = len(CLIPS), absent: int = 0) -> dict:
    """trait -> {clip: value}, the pickle's shape; `absent` extra clips have no video."""
    names = [*CLIPS[:n], *(f"gone{i}.001.mp4" for i in range(absent))]
    return {t: {c: round(0.1 + 0.05 * i + 0.1 * j, 3) for j, c in enumerate(names)} for i, t in enumerate(TRAITS)}


def _folder(env, labels: dict, *, fmt: str = "pkl", name: str = "annotation_training", clips=CLIPS):
    root = env / "fiv2"
    root.mkdir(exist_ok=True)
    for i, clip in enumerate(clips):
        if not (root / clip).exists():
            face_clip(root / clip, seconds=1.0, seed=i)
    path = root / f"{name}.{fmt}"
    if fmt == "pkl":
        path.write_bytes(pickle.dumps(labels, protocol=2))
    elif fmt == "json":
        path.write_text(json.dumps(labels))
    else:
        videos = sorted({v for per in labels.values() for v in per})
        rows = ["video," + ",".join(labels)] + [
            v + "," + ",".join(str(labels[t].get(v, "")) for t in labels) for v in videos]
        path.write_text("\n".join(rows) + "\n")
    return root, path


def _stored(read, dataset="fi"):
    with read() as s:
        return s.execute(select(Sample.source_path, Sample.subject, Sample.split, Sample.cur_targets,
                                Sample.media_id, Sample.frame_index)
                         .join(Dataset, Dataset.id == Sample.dataset_id).where(Dataset.name == dataset)
                         .order_by(Sample.id)).all()


def test_pickle_import_per_clip_traits_subject_split_and_schema(env, read):
    root, _ = _folder(env, _labels(absent=2))
    report = import_path("fiv2", root, dataset="fi", options={"frames": 2})
    assert not report.errors and report.skipped == {"clip not present": 2}
    rows = _stored(read)
    assert report.added == len(rows) == 2 * len(CLIPS)  # two sampled frames per clip, one face each
    want = _labels()
    for source, subject, split, targets, media_id, _ in rows:
        assert targets == {t: pytest.approx(want[t][source]) for t in TRAITS}
        assert subject == source.split(".")[0] and split == "train" and media_id is not None
    assert {r.subject for r in rows} == {"-Xy0AbCdEfG", "12345", "k_9-Z"}  # ids stay strings
    with read() as s:
        assert dataset_schema(s.scalar(select(Dataset).where(Dataset.name == "fi"))) == fiv2_schema()
    again = import_path("fiv2", root, dataset="fi", options={"frames": 2})
    assert again.added == 0 and again.existing == len(rows) and again.relabelled == 0
    assert _stored(read) == rows


def test_a_changed_trait_relabels_without_overwriting(env, read):
    labels = _labels()
    root, path = _folder(env, labels)
    import_path("fiv2", root, dataset="fi", options={"frames": 1})
    labels["openness"][CLIPS[0]] = 0.99
    path.write_bytes(pickle.dumps(labels))
    report = import_path("fiv2", root, dataset="fi", options={"frames": 1})
    assert report.relabelled == 1 and report.added == 0
    changed = [r for r in _stored(read) if r.source_path == CLIPS[0]]
    assert changed[0].cur_targets["openness"] == pytest.approx(0.99)


def test_json_and_csv_hold_the_same_content_as_the_pickle(env):
    labels = _labels(absent=1)
    labels["interview"].pop(CLIPS[1])  # a clip without one trait keeps the others
    got = {}
    for fmt in ("pkl", "json", "csv"):
        _, path = _folder(env, labels, fmt=fmt, clips=())
        got[fmt], errors = read_fiv2_labels(path, path.name)
        assert not errors
    assert {k: v[0] for k, v in got["pkl"].items()} == {k: v[0] for k, v in got["json"].items()} \
        == {k: v[0] for k, v in got["csv"].items()}
    assert "interview" not in got["pkl"][CLIPS[1]][0] and got["csv"][CLIPS[0]][1] == 2  # CSV rows keep lines


def test_subject_is_the_youtube_id():
    assert subject_of("-Xy0-AbCdEfG.003.mp4") == "-Xy0-AbCdEfG" and subject_of("12345.001.mp4") == "12345"


def _refused(env, read, kind_path, *, must: list[tuple]):
    before = counts(read), crop_files(env)
    with pytest.raises(ImportFailed) as info:
        import_path("fiv2", kind_path, dataset="fi", options={"frames": 1})
    errors = info.value.report.errors
    got = {(e.file, e.line, e.field) for e in errors}
    for want in must:
        assert want in got, [str(e) for e in errors]
    assert (counts(read), crop_files(env)) == before  # nothing stored, no crop left behind
    return errors


@pytest.mark.parametrize("fmt", ["pkl", "json", "csv"])
def test_traits_outside_0_1_unknown_traits_and_nan_are_located_errors(env, read, fmt):
    labels = _labels()
    labels["openness"][CLIPS[0]] = 1.2
    labels["neuroticism"][CLIPS[1]] = -0.1
    labels["agreeableness"][CLIPS[2]] = float("nan")
    labels["charisma"] = {CLIPS[3]: 0.5}
    root, path = _folder(env, labels, fmt=fmt)
    line = {"csv": 2} if fmt == "csv" else {}  # CSV rows are sorted: CLIPS[0] is on line 2
    errors = _refused(env, read, root, must=[(path.name, line.get("csv"), "openness"),
                                             (path.name, None if fmt != "csv" else 3, "neuroticism"),
                                             (path.name, None if fmt != "csv" else 4, "agreeableness")])
    text = "\n".join(map(str, errors))
    assert "openness 1.2 is outside [0, 1]" in text and (fmt == "csv" or "charisma" in text)
    if fmt != "csv":
        assert CLIPS[0] in text  # a pickle has no lines: the clip is named in the reason


def test_pickle_with_a_class_is_refused_and_never_executed(env, read):
    target = env / "pwned.txt"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"echo pwned > {target}",))

    labels = _labels()
    labels["openness"][CLIPS[0]] = Evil()
    root, path = _folder(env, {}, clips=CLIPS[:1])
    path.write_bytes(pickle.dumps(labels, protocol=2))
    errors = _refused(env, read, root, must=[(path.name, None, None)])
    assert "system" in str(errors[0]) and "not executed" in str(errors[0])
    assert not target.exists()


def test_duplicate_keys_and_rows_are_errors(env, read):
    root, path = _folder(env, {}, fmt="json", clips=CLIPS[:1])
    path.write_text(f'{{"openness": {{"{CLIPS[0]}": 0.5, "{CLIPS[0]}": 0.6}}}}')
    _refused(env, read, path, must=[(path.name, None, None)])
    csv = root / "annotation_validation.csv"
    csv.write_text(f"video,openness\n{CLIPS[0]},0.5\n{CLIPS[0]},0.5\n")
    errors = _refused(env, read, csv, must=[(csv.name, 3, "video")])
    assert "already on line 2" in str(errors[0])


def test_skip_invalid_imports_the_good_clips(env, read):
    labels = _labels()
    labels["openness"][CLIPS[0]] = 7
    root, _ = _folder(env, labels)
    report = import_path("fiv2", root, dataset="fi", skip_invalid=True, options={"frames": 1})
    assert report.invalid_rows == 1 and report.added == len(CLIPS) - 1
    assert CLIPS[0] not in {r.source_path for r in _stored(read)}


def test_no_clip_present_is_an_error(env, read):
    _, path = _folder(env, _labels(), clips=())
    errors = _refused(env, read, path, must=[(path.name, None, "video")])
    assert "none of the 4 clips" in str(errors[-1])


def test_cli_imports_fiv2_and_help_names_the_new_layouts(env, read):
    from tests.ingest.test_cli import cli, one_json

    root, _ = _folder(env, _labels(n=1), clips=CLIPS[:1])
    proc = cli("import", "fiv2", str(root), "--dataset", "fi", "--frames", "2", "--json")
    assert proc.returncode == 0, proc.stderr
    out = one_json(proc.stdout)
    assert (out["kind"], out["added"], out["invalid"]) == ("fiv2", 2, 0)
    assert {r.subject for r in _stored(read)} == {"-Xy0AbCdEfG"}
    helptext = cli("import", "--help").stdout
    for kind, words in (("emotic", "body_arr.npy"), ("mosei", "video_id,start,end"), ("fiv2", "annotation_*.pkl")):
        assert any(line.split()[:1] == [kind] and words in line for line in helptext.splitlines()), helptext


def test_grouped_split_never_puts_one_youtube_id_in_two_splits(env, read, write):
    from core.splits import split_dataset

    root, _ = _folder(env, _labels())
    import_path("fiv2", root, dataset="fi", options={"frames": 2})
    with write() as s, s.begin():
        split_dataset(s, s.scalar(select(Dataset.id).where(Dataset.name == "fi")), "70/30", seed=1)
    with read() as s:
        pairs = s.execute(select(Sample.subject, Sample.split)).all()
    by_subject: dict[str, set] = {}
    for subject, split in pairs:
        by_subject.setdefault(subject, set()).add(split)
    assert len(by_subject) == 3 and all(len(v) == 1 for v in by_subject.values())  # two clips, one person
