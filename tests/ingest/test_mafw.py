"""MAFW import: single_label.txt / multi_label.txt (tab-separated, captions kept, whitespace fallback)
over clips/NNNNN.mp4, one clip sample per line with its sampled frames and crops, no subject;
malformed lines refused with file, line and field; idempotent; the authors' folds as splits."""
from __future__ import annotations

from pathlib import Path

import pytest

from core.ingest import ImportFailed, import_path
from core.label_schema import MAFW11, LabelSchema
from core.store.datasets import dataset_schema, require_dataset
from tests.ingest.clipsets import N, clip, sample_count, store_files, stored
from tests.ingest.common import annotations

OPTS = {"clip_frames": N}
LABELS = "caption-label"
ZH, EN = "一个男人在愤怒地大喊", "A man shouts angrily at someone"


def mafw(root: Path, lines: list[str], *, name: str = "single_label.txt", clips: tuple[str, ...] = ()) -> Path:
    """root/caption-label/<name> with `lines` (UTF-8) and generated face clips root/clips/<id>.mp4."""
    for i, cid in enumerate(clips):
        clip(root / "clips" / cid, face=("0-f15-hao-ph.jpg", "0-f1-su-ph.jpg")[i % 2], audio_hz=None if i else 440.0)
    (root / LABELS).mkdir(parents=True, exist_ok=True)
    (root / LABELS / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def test_single_labels_become_clip_samples_with_frames_and_captions(env, read):
    root = mafw(env / "MAFW", [f"00151.mp4\tanger\t{ZH}\t{EN}", "",
                               "03747.mp4  Happiness  a woman laughs with friends"],  # whitespace, not tabs
                clips=("00151.mp4", "03747.mp4"))
    report = import_path("mafw", root, dataset="mafw", options=OPTS)
    assert not report.errors and report.added == 2 and report.rows == 2
    got = stored(read, "mafw")
    anger, a_clip = got["clips/00151.mp4"]
    happy, h_clip = got["clips/03747.mp4"]
    assert (anger.cur_emotion, happy.cur_emotion) == ("Anger", "Happiness")
    assert anger.subject is None and happy.subject is None  # MAFW has no subject ids: splits group by clip
    assert anger.cur_stress == 1.0 and happy.cur_stress == 0.0  # derived as for the other clip kinds
    assert a_clip.rule == {"mode": "even", "frames": N, "fps": None, "max_frames": None} and a_clip.frames == N
    assert all(a_clip.mask) and (a_clip.has_audio, h_clip.has_audio) == (True, False)
    crops = a_clip.crops()
    assert crops.shape[0] == N and all(crops[i].std() > 10 for i in range(N))
    assert (env / "data" / anger.crop_path).is_file() and anger.media_id == a_clip.media_id is not None
    raw = annotations(read, anger.id)[0].raw
    assert raw == {"label": "anger", "source": "single_label.txt", "caption_zh": ZH, "caption_en": EN}
    assert annotations(read, happy.id)[0].raw["caption"] == "a woman laughs with friends"
    with read() as s:
        schema = dataset_schema(require_dataset(s, "mafw"))
    assert schema.classes == MAFW11 and schema.emotion_mode == "single" and schema.class_list == "mafw11"
    assert report.warnings == []


def test_multi_labels_are_a_multi_label_set_over_the_11_classes(env, read):
    root = mafw(env / "MAFW", [f"20045.mp4\tanxiety_anger_disgust\t{ZH}\t{EN}", "20046.mp4\tsadness_helplessness"],
                name="multi_label.txt", clips=("20045.mp4", "20046.mp4"))
    report = import_path("mafw", root / LABELS / "multi_label.txt", dataset="mafw-c", options=OPTS)
    assert not report.errors and report.added == 2
    got = stored(read, "mafw-c")
    assert got["clips/20045.mp4"][0].cur_emotions == ["Anger", "Disgust", "Anxiety"]  # class order
    assert got["clips/20046.mp4"][0].cur_emotions == ["Sadness", "Helplessness"]
    assert got["clips/20045.mp4"][0].cur_emotion is None and got["clips/20046.mp4"][1].frames == N
    assert annotations(read, got["clips/20045.mp4"][0].id)[0].raw["label"] == "anxiety_anger_disgust"
    with read() as s:
        schema = dataset_schema(require_dataset(s, "mafw-c"))
    assert schema == LabelSchema(classes=MAFW11, emotion_mode="multi", class_list="mafw11", stress=False)


@pytest.mark.parametrize(("line", "field", "words"), [
    ("00002.mp4\tboredom\tx\ty", "label", "unknown MAFW class 'boredom'"),
    ("00002.mp4\t3\tx\ty", "label", "is a number"),
    ("00002.mp4\tanger_fear\tx\ty", "label", "compound label"),
    ("00009.mp4\tfear\tx\ty", "clip", "clips/00009.mp4 does not exist"),
    ("../00001.mp4\tfear", "clip", "'..'"),
    ("00002.mp4\tfear\tx\ty\tz", None, "row has 5 tab-separated field(s)"),
    ("00002.mp4", None, "row has 1 field(s)"),
    ("00001.mp4\tfear", "clip", "already on line 1"),
])
def test_malformed_lines_are_located_and_nothing_is_stored(env, read, line, field, words):
    root = mafw(env / "MAFW", ["00001.mp4\tfear\tx\ty", line], clips=("00001.mp4", "00002.mp4"))
    with pytest.raises(ImportFailed) as exc:
        import_path("mafw", root, dataset="mafw", options=OPTS)
    (error,) = exc.value.report.errors
    assert (error.file, error.line, error.field) == (f"{LABELS}/single_label.txt", 2, field)
    assert words in error.reason, error.reason
    assert sample_count(read) == 0 and store_files(env) == []
    report = import_path("mafw", root, dataset="mafw", options=OPTS, skip_invalid=True)
    assert report.added == 1 and report.invalid_rows == 1


def test_multi_label_errors_name_the_part(env, read):
    root = mafw(env / "MAFW", ["1.mp4\tanger_bored", "1.mp4\tanger_anger"], name="multi_label.txt")
    with pytest.raises(ImportFailed) as exc:
        import_path("mafw", root / LABELS / "multi_label.txt", dataset="c", options=OPTS)
    errors = exc.value.report.errors
    assert [(e.line, e.field) for e in errors] == [(1, "label"), (2, "label")]
    assert "'bored'" in errors[0].reason and "twice" in errors[1].reason


def test_reimport_adds_nothing_and_a_changed_label_is_appended(env, read):
    root = mafw(env / "MAFW", ["00151.mp4\tanger", "03747.mp4\tneutral"], clips=("00151.mp4", "03747.mp4"))
    first = import_path("mafw", root, dataset="mafw", options=OPTS)
    before = store_files(env)
    again = import_path("mafw", root, dataset="mafw", options=OPTS)
    assert (first.added, again.added, again.existing, again.relabelled) == (2, 0, 2, 0)
    assert store_files(env) == before and sample_count(read) == 2
    (root / LABELS / "single_label.txt").write_text("00151.mp4\tcontempt\n03747.mp4\tneutral\n")
    changed = import_path("mafw", root, dataset="mafw", options=OPTS)
    assert (changed.added, changed.relabelled) == (0, 1)
    sample, _ = stored(read, "mafw")["clips/00151.mp4"]
    assert sample.cur_emotion == "Contempt" and len(annotations(read, sample.id)) >= 2  # history kept


def test_fold_gives_train_and_test_and_a_folder_warns_about_multi(env, read):
    root = mafw(env / "MAFW", ["00151.mp4\tanger", "03747.mp4\tfear"], clips=("00151.mp4", "03747.mp4"))
    (root / LABELS / "multi_label.txt").write_text("00151.mp4\tanger_fear\n")
    fold = root / "Train & Test Set" / "single" / "no_caption" / "set_2"
    fold.mkdir(parents=True)
    (fold / "train.txt").write_text("00151.mp4 anger\n")
    (fold / "test.txt").write_text("03747.mp4 fear\n")
    report = import_path("mafw", root, dataset="mafw", options={**OPTS, "fold": 2})
    got = stored(read, "mafw")
    assert (got["clips/00151.mp4"][0].split, got["clips/03747.mp4"][0].split) == ("train", "test")
    assert any("multi_label.txt was not imported" in w for w in report.warnings)
    with pytest.raises(ImportFailed) as exc:
        import_path("mafw", root, dataset="other", options={**OPTS, "fold": 3})
    assert [(e.line, e.field) for e in exc.value.report.errors] == [(None, "fold")]


def test_a_folder_without_label_files_is_refused(env, read):
    clip(env / "MAFW" / "clips" / "00001.mp4")
    with pytest.raises(ImportFailed) as exc:
        import_path("mafw", env / "MAFW", dataset="mafw", options=OPTS)
    assert "single_label.txt" in str(exc.value) and sample_count(read) == 0


def test_cli_import_mafw_json(env, read):
    from tests.ingest.test_cli import cli, one_json

    root = mafw(env / "MAFW", ["00151.mp4\tdisappointment"], clips=("00151.mp4",))
    proc = cli("import", "mafw", str(root), "--dataset", "mafw", "--clip-frames", "3", "--json")
    assert proc.returncode == 0, proc.stderr
    assert (one_json(proc.stdout)["kind"], one_json(proc.stdout)["added"]) == ("mafw", 1)
    ((sample, c),) = stored(read, "mafw").values()
    assert c.frames == 3 and sample.cur_emotion == "Disappointment"
    assert "mafw" in cli("import", "--help").stdout


def test_gb18030_file_is_read_and_compound_labels_need_their_own_dataset(env, read):
    root = mafw(env / "MAFW", [], clips=("00151.mp4",))
    (root / LABELS / "single_label.txt").write_bytes(f"00151.mp4\tsadness\t{ZH}\t{EN}\n".encode("gb18030"))
    report = import_path("mafw", root, dataset="mafw", options=OPTS)
    assert report.added == 1 and report.warnings == ["single_label.txt is not UTF-8; read as GB18030"]
    sample, _ = stored(read, "mafw")["clips/00151.mp4"]
    assert annotations(read, sample.id)[0].raw["caption_zh"] == ZH
    (root / LABELS / "multi_label.txt").write_text("00151.mp4\tsadness_anxiety\n")
    with pytest.raises(ValueError, match="import into a new dataset"):
        import_path("mafw", root / LABELS / "multi_label.txt", dataset="mafw", options=OPTS)
    assert stored(read, "mafw")["clips/00151.mp4"][0].cur_emotion == "Sadness"
