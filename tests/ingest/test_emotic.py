"""EMOTIC importer on generated files in its three layouts: preprocessed CSV + npy, Kaggle annots_arrs /
img_arrs, plain CSV/JSON. Faces are real asset photos pasted into generated body crops and images."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from sqlalchemy import select

from core.assets import asset_path
from core.ingest import ImportFailed, import_path
from core.ingest.emotic_person import NO_FACE_FLAG
from core.label_schema import EMOTIC26, emotic_schema, to_unit_scale
from core.store.datasets import dataset_schema
from core.store.models import Annotation, Dataset, Sample
from tests.ingest.common import counts, crop_files

FACES = ("0-f15-hao-ph.jpg", "0-f1-su-ph.jpg", "grace_hopper.jpg", "single_face.jpg")
GROUPED = ("Peace", "Affection", "Esteem", "Anticipation", "Engagement", "Confidence", "Happiness", "Pleasure",
           "Excitement", "Surprise", "Sympathy", "Doubt/Confusion", "Disconnection", "Fatigue", "Embarrassment",
           "Yearning", "Disapproval", "Aversion", "Annoyance", "Anger", "Sensitivity", "Sadness", "Disquietment",
           "Fear", "Pain", "Suffering")
PRE_HEADER = "Index,Folder,Filename,Image Size,BBox,Categorical_Labels,Continuous_Labels,Gender,Age"


def body(face: str | None, seed: int, size: int = 128) -> np.ndarray:
    """An RGB body crop: noise, with the asset's face pasted at the top when `face` is given."""
    rng = np.random.default_rng(seed)
    out = rng.integers(60, 120, (size, size, 3), dtype=np.uint8)
    if face:
        photo = cv2.resize(cv2.imread(str(asset_path(face))), (size // 2, size // 2))
        out[:size // 2, size // 4:size // 4 + size // 2] = photo[..., ::-1]
    return out


def write_preprocessed(root, rows: list[tuple], split: str = "train", *, arrays: bool = True):
    """<split>.csv (+ <split>_body_arr.npy): rows are (filename, bbox, categories, [v, a, d], face or None)."""
    root.mkdir(parents=True, exist_ok=True)
    lines = [PRE_HEADER]
    for i, (name, box, cats, cont, _) in enumerate(rows):
        lines.append(f'{i},mscoco/images,{name},"[640, 480]","{box}","{cats}","{cont}",Male,Adult')
    (root / f"{split}.csv").write_text("\n".join(lines) + "\n")
    if arrays:
        np.save(root / f"{split}_body_arr.npy", np.stack([body(r[4], i) for i, r in enumerate(rows)]))
    return root / f"{split}.csv"


TRAIN = [("a.jpg", [10, 20, 138, 148], ["Happiness", "Engagement"], [7, 5, 6], FACES[0]),
         ("a.jpg", [200, 20, 328, 148], ["Disquitement"], "[nan, 3, 10]", None),  # README spelling; NaN V
         ("b.jpg", [0, 0, 64, 64], ["Doubt/Confusion", "Peace"], [1, 10, 5.5], FACES[1]),
         ("c.jpg", [5, 5, 100, 200], [], [5, 5, 5], FACES[2])]


def _samples(read, dataset="em"):
    with read() as s:
        return s.scalars(select(Sample).join(Dataset, Dataset.id == Sample.dataset_id)
                         .where(Dataset.name == dataset).order_by(Sample.id)).all()


def test_preprocessed_release_faces_body_crops_labels_and_idempotence(env, read):
    write_preprocessed(env / "pre", TRAIN)
    report = import_path("emotic", env / "pre", dataset="em")
    assert not report.errors and report.added == 4 and report.flagged == 1
    rows = _samples(read)
    face, nobody, doubt, empty = rows
    assert face.cur_emotions == ["Engagement", "Happiness"]  # class order, whatever the file's order
    assert face.cur_valence == pytest.approx(to_unit_scale(7, (1, 10)))
    assert face.cur_arousal == pytest.approx(0.0 + to_unit_scale(5, (1, 10)))
    assert face.cur_dominance == pytest.approx(to_unit_scale(6, (1, 10)))
    assert face.flag is None and 0 < face.quality <= 1 and face.subject == "a.jpg" and face.split == "train"
    x, y, w, h = face.bbox  # the face, mapped back into the image: inside the person's body box
    assert 10 <= x and x + w <= 138 + 1 and 20 <= y and y + h <= 148 + 1
    assert nobody.flag == NO_FACE_FLAG and nobody.quality is None and nobody.subject == "a.jpg"
    assert nobody.cur_emotions == ["Disquietment"] and nobody.cur_valence is None
    assert nobody.cur_dominance == pytest.approx(1.0)
    assert doubt.cur_emotions == ["Doubt/Confusion", "Peace"] and doubt.cur_valence == pytest.approx(-1.0)
    assert empty.cur_emotions == [] and empty.source_path == "mscoco/images/c.jpg"
    with read() as s:
        raws = s.scalars(select(Annotation.raw).order_by(Annotation.sample_id)).all()
        assert dataset_schema(s.scalar(select(Dataset).where(Dataset.name == "em"))) == emotic_schema()
    assert raws[0]["valence"] == 7 and raws[0]["scale"] == {"vad": "1..10"} and raws[0]["face_visible"]
    assert 0.5 <= raws[0]["face_score"] <= 1 and raws[1]["face_visible"] is False and raws[1]["valence"] is None
    assert raws[1]["categories"] == ["Disquitement"] and raws[0]["gender"] == "Male"
    crop = cv2.imread(str(env / "data" / face.crop_path))
    assert crop is not None and crop.shape[0] == crop.shape[1]  # the canonical aligned face crop
    again = import_path("emotic", env / "pre", dataset="em")
    assert again.added == 0 and again.existing == 4 and again.relabelled == 0


def test_original_images_are_searched_inside_the_body_box(env, read):
    image = np.full((300, 400, 3), 100, np.uint8)
    image[40:140, 150:250] = cv2.resize(cv2.imread(str(asset_path(FACES[0]))), (100, 100))
    (env / "pre" / "emotic" / "mscoco" / "images").mkdir(parents=True)
    cv2.imwrite(str(env / "pre" / "emotic" / "mscoco" / "images" / "v.png"), image)
    rows = [("v.png", [130, 30, 270, 290], ["Peace"], [5.5, 4.5, 6.5], None),
            ("v.png", [0, 150, 120, 300], ["Fatigue"], [2, 2, 2], None),  # a body box without a face
            ("v.png", [120, 20, 280, 200], ["Fear"], [2, 2, 2], None)]  # overlaps the first: its face is taken
    write_preprocessed(env / "pre", rows, split="val", arrays=False)
    report = import_path("emotic", env / "pre", dataset="em")
    assert report.added == 3 and report.flagged == 2 and not report.errors
    face, back, overlap = _samples(read)
    x, y, w, h = face.bbox
    assert 140 <= x + w / 2 <= 260 and 50 <= y + h / 2 <= 140 and face.split == "val"
    assert back.flag == NO_FACE_FLAG and back.bbox == [0, 150, 120, 150]
    assert overlap.flag == NO_FACE_FLAG and overlap.cur_emotions == ["Fear"]
    fast = import_path("emotic", env / "pre", dataset="bodies", options={"find_faces": False})
    assert fast.added == 3 and fast.flagged == 3


def write_kaggle(root, rows: list[tuple], split: str = "train", extra_cells: dict | None = None):
    """annots_arrs/annot_arrs_<split>.csv (categories in the grouped order) + img_arrs/*.npy."""
    (root / "annots_arrs").mkdir(parents=True, exist_ok=True)
    (root / "img_arrs").mkdir(exist_ok=True)
    header = ["", "Filename", "Width", "Height", "Arr_name", "Crop_name", "X_min", "Y_min", "X_max", "Y_max",
              *GROUPED, "Valence", "Arousal", "Dominance", "Gender", "Age", "Age_group"]
    lines = [",".join(header)]
    for i, (name, cats, vad, face) in enumerate(rows):
        np.save(root / "img_arrs" / f"crop_{i}.npy", body(face, 100 + i, size=96))
        cells = {"": str(i), "Filename": name, "Width": "640", "Height": "480", "Arr_name": f"ctx_{i}.npy",
                 "Crop_name": f"crop_{i}.npy", "X_min": "10", "Y_min": "10", "X_max": "106", "Y_max": "106",
                 "Valence": str(vad[0]), "Arousal": str(vad[1]), "Dominance": str(vad[2]), "Gender": "Female",
                 "Age": "Adult", "Age_group": "x", **{c: str(int(c in cats)) for c in GROUPED}}
        cells.update((extra_cells or {}).get(i, {}))
        lines.append(",".join(cells[h] for h in header))
    path = root / "annots_arrs" / f"annot_arrs_{split}.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_kaggle_release_reads_categories_by_name_not_position(env, read):
    write_kaggle(env / "kg", [("k1.jpg", {"Peace", "Suffering"}, (8, 2, 5), FACES[3]),
                              ("k2.jpg", {"Anger"}, (3, 9, 9), None)])
    report = import_path("emotic", env / "kg", dataset="em")
    assert not report.errors and report.added == 2 and report.flagged == 1
    first, second = _samples(read)
    assert first.cur_emotions == ["Peace", "Suffering"] and first.flag is None and first.subject == "k1.jpg"
    assert second.cur_emotions == ["Anger"] and second.cur_arousal == pytest.approx(to_unit_scale(9, (1, 10)))
    assert {first.split, second.split} == {"train"}


def test_plain_csv_and_json_give_the_same_labels(env, read):
    image = np.full((200, 300, 3), 90, np.uint8)
    image[20:100, 100:180] = cv2.resize(cv2.imread(str(asset_path(FACES[1]))), (80, 80))
    (env / "plain" / "imgs").mkdir(parents=True)
    cv2.imwrite(str(env / "plain" / "imgs" / "p.png"), image)
    (env / "plain" / "labels.csv").write_text(
        "image_path,bbox,categories,valence,arousal,dominance\n"
        "imgs/p.png,\"[90, 10, 200, 200]\",Happiness;Sympathy,10,1,nan\n")
    (env / "plain" / "people.json").write_text(json.dumps([
        {"image_path": "imgs/p.png", "bbox": [90, 10, 200, 200], "categories": ["Sympathy", "Happiness"],
         "valence": 10, "arousal": 1, "dominance": None, "split": "test"}]))
    csv_report = import_path("emotic", env / "plain" / "labels.csv", dataset="em")
    json_report = import_path("emotic", env / "plain" / "people.json", dataset="em2")
    assert csv_report.added == json_report.added == 1 and csv_report.flagged == 0
    a, b = _samples(read, "em")[0], _samples(read, "em2")[0]
    assert a.cur_emotions == b.cur_emotions == ["Happiness", "Sympathy"]
    assert (a.cur_valence, a.cur_arousal, a.cur_dominance) == (1.0, -1.0, None) == (
        b.cur_valence, b.cur_arousal, b.cur_dominance)
    assert a.crop_sha256 == b.crop_sha256 and a.subject == "p.png" and b.split == "test"


def _refused(env, read, path, must):
    before = counts(read), crop_files(env)
    with pytest.raises(ImportFailed) as info:
        import_path("emotic", path, dataset="em")
    errors = info.value.report.errors
    got = {(e.file, e.line, e.field) for e in errors}
    for want in must:
        assert want in got, [str(e) for e in errors]
    assert (counts(read), crop_files(env)) == before  # nothing stored, no crop left behind
    return "\n".join(map(str, errors))


@pytest.mark.parametrize("cats, cont, box, field, reason", [
    (["Happines"], [5, 5, 5], [0, 0, 9, 9], "Categorical_Labels", "unknown category 'Happines'"),
    ([3], [5, 5, 5], [0, 0, 9, 9], "Categorical_Labels", "codes are not read"),
    ("Happiness", [5, 5, 5], [0, 0, 9, 9], "Categorical_Labels", "is not a list literal"),
    (["Peace"], [11, 5, 5], [0, 0, 9, 9], "Continuous_Labels", "valence 11 is outside the EMOTIC scale 1..10"),
    (["Peace"], [5, 0, 5], [0, 0, 9, 9], "Continuous_Labels", "arousal 0 is outside"),
    (["Peace"], [5, 5], [0, 0, 9, 9], "Continuous_Labels", "must hold 3 values"),
    (["Peace"], "__import__('os')", [0, 0, 9, 9], "Continuous_Labels", "not a list literal"),
    (["Peace"], [5, 5, 5], [9, 0, 9, 9], "BBox", "is empty"),
    (["Peace"], [5, 5, 5], "[1, 2, 3]", "BBox", "4 finite numbers"),
])
def test_preprocessed_malformed_rows_are_located_errors(env, read, cats, cont, box, field, reason):
    path = write_preprocessed(env / "bad", [TRAIN[0], ("z.jpg", box, cats, cont, None)])
    text = _refused(env, read, env / "bad", must=[(path.name, 3, field)])
    assert reason in text


def test_array_and_duplicate_problems_are_errors(env, read):
    path = write_preprocessed(env / "short", [TRAIN[0], TRAIN[2]])
    np.save(env / "short" / "train_body_arr.npy", np.stack([body(None, 1)]))  # one crop for two rows
    assert "none for data row 2" in _refused(env, read, path, must=[(path.name, 3, None)])
    np.save(env / "short" / "train_body_arr.npy", np.stack([body(None, i) for i in range(3)]))
    extra = import_path("emotic", path, dataset="extra", options={"find_faces": False})
    assert extra.added == 2 and "has 3 crops for 2 rows" in extra.warnings[0]
    dup = write_preprocessed(env / "dup", [TRAIN[0], TRAIN[0]])
    assert "already on line 2" in _refused(env, read, dup, must=[(dup.name, 3, "bbox")])
    obj = write_preprocessed(env / "obj", [TRAIN[0]])
    np.save(env / "obj" / "train_body_arr.npy", np.array([{"x": 1}], dtype=object), allow_pickle=True)
    assert "not a readable .npy" in _refused(env, read, obj, must=[("train_body_arr.npy", None, None)])


def test_kaggle_malformed_cells_and_missing_category_column(env, read):
    path = write_kaggle(env / "kg", [("k1.jpg", {"Peace"}, (5, 5, 5), None), ("k2.jpg", {"Pain"}, (5, 5, 5), None)],
                        extra_cells={1: {"Pain": "2", "Dominance": "10.5", "Crop_name": "../x.npy"}})
    text = _refused(env, read, env / "kg", must=[(f"annots_arrs/{path.name}", 3, "Pain"),
                                                  (f"annots_arrs/{path.name}", 3, "dominance"),
                                                  (f"annots_arrs/{path.name}", 3, "Crop_name")])
    assert "not 0 or 1" in text and "climbs out" in text
    lines = path.read_text().splitlines()
    drop = lines[0].split(",").index("Yearning")
    path.write_text("\n".join(",".join(c for i, c in enumerate(ln.split(",")) if i != drop) for ln in lines))
    assert "no 0/1 column for category Yearning" in _refused(env, read, path, must=[(path.name, None, None)])


def test_plain_json_duplicate_keys_and_bad_values(env, read):
    (env / "j").mkdir()
    bad = env / "j" / "people.json"
    bad.write_text('[{"image_path": "a.png", "bbox": [0, 0, 5, 5], "categories": [], "categories": ["Pain"]}]')
    assert "appears twice" in _refused(env, read, bad, must=[("people.json", None, None)])
    cv2.imwrite(str(env / "j" / "a.png"), np.zeros((20, 20, 3), np.uint8))
    bad.write_text(json.dumps([{"image_path": "a.png", "bbox": [0, 0, 5, 5], "categories": ["Bored"],
                                "valence": "high"}, {"image_path": "gone.png", "bbox": [0, 0, 5, 5],
                                                     "categories": ["Pain"]}]))
    text = _refused(env, read, bad, must=[("people.json", 1, "categories"), ("people.json", 1, "valence"),
                                          ("people.json", 2, "image_path")])
    assert "unknown category 'Bored'" in text and "does not exist" in text


def test_skip_invalid_keeps_the_good_people(env, read):
    write_preprocessed(env / "pre", [TRAIN[0], ("z.jpg", [0, 0, 9, 9], ["Nope"], [5, 5, 5], None), TRAIN[2]])
    report = import_path("emotic", env / "pre", dataset="em", skip_invalid=True)
    assert report.invalid_rows == 1 and report.added == 2
    assert {s.subject for s in _samples(read)} == {"a.jpg", "b.jpg"}


def test_every_class_has_a_name_both_spellings():
    schema = emotic_schema()
    assert [schema.class_name(c) for c in GROUPED] and sorted(GROUPED) == sorted(EMOTIC26)
    assert schema.class_name("Disquitement") == schema.class_name("Disquietment") == "Disquietment"


def test_an_existing_single_label_dataset_is_not_turned_multi_label(env, read):
    from tests.helpers import write_affectnet_csv

    import_path("csv", write_affectnet_csv(env / "aff", 4), dataset="em")
    write_preprocessed(env / "pre", TRAIN[:1])
    before = counts(read), crop_files(env)
    with pytest.raises(ValueError, match="another label schema"):
        import_path("emotic", env / "pre", dataset="em")
    assert (counts(read), crop_files(env)) == before
