"""Paths stored in rows are data (issue 16, item 3): a crop, media or checkpoint path from the store
is used only if it resolves inside the data or the models dir; generated hostile rows are refused."""
from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from core.config import get_settings
from core.faces.io import ImageError
from core.paths import PathRefused, confined, data_file
from core.store.db import write_session
from core.store.models import Sample
from core.viz import crop_image, source_frame
from tests.helpers import write_image
from tests.reliability.corpus import REPORT

HYP = settings(derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck),
               max_examples=200)


@pytest.fixture(scope="module")
def dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("stored")
    data, models, outside = root / "data", root / "models", root / "outside"
    for d in (data / "crops" / "ab", models, outside):
        d.mkdir(parents=True)
    write_image(data / "crops" / "ab" / "ok.png", 1)
    write_image(outside / "secret.png", 2)
    (outside / "passwd").write_text("root:x:0:0\n")
    os.symlink(outside, data / "crops" / "out")  # a link inside the data dir that leads out
    os.symlink(outside / "secret.png", data / "crops" / "ab" / "evil.png")
    os.symlink("loop", data / "crops" / "loop")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AFFECTLAB_DATA_DIR", str(data))
        mp.setenv("AFFECTLAB_MODELS_DIR", str(models))
        yield {"root": root, "data": data, "models": models, "outside": outside}


HOSTILE_PARTS = ["..", "../..", "crops/out", "crops/loop", "crops/ab/evil.png", "/etc", "/", "outside",
                 "secret.png", "passwd", ".", "crops", "//", "\\..\\"]


@st.composite
def hostile_path(draw) -> str:
    """A stored path built to escape: .. climbs, absolute prefixes, links out, loops."""
    parts = draw(st.lists(st.sampled_from(HOSTILE_PARTS), min_size=1, max_size=5))
    absolute = draw(st.sampled_from(["", "/", "{outside}/", "{data}/crops/out/", "{data}/../outside/"]))
    path = absolute + "/".join(parts) + draw(st.sampled_from(["", "/secret.png", "/passwd", "/../passwd"]))
    return path


def _escapes(path: str, d: dict) -> bool:
    """The truth, by an independent route: where os.path.realpath lands."""
    full = path if path.startswith("/") else os.path.join(d["data"], path)
    real = os.path.realpath(full)
    return not any(real == str(r) or real.startswith(str(r) + os.sep) for r in (d["data"], d["models"]))


@HYP
@given(hostile_path())
def test_generated_stored_paths_never_leave_the_allowed_dirs(dirs, template):
    path = template.format(outside=dirs["outside"], data=dirs["data"])
    try:
        got = confined(path)
    except PathRefused:
        got = None
    escapes = _escapes(path, dirs)
    wrong = (got is not None and escapes) or (got is None and not escapes and "loop" not in path)
    REPORT.record("stored paths: generated rows", clear_error=not wrong, crash=wrong)  # refused or truly inside
    assert not wrong, (path, got)
    if got is not None:
        assert got.is_relative_to(dirs["data"].resolve()) or got.is_relative_to(dirs["models"].resolve())


@pytest.mark.parametrize("stored", ["../outside/secret.png", "crops/out/secret.png", "crops/ab/evil.png",
                                    "{outside}/secret.png", "crops/loop", "/etc/passwd", "", "a\x00b"])
def test_pictures_of_a_hostile_row_are_refused(dirs, stored):
    stored = stored.format(outside=dirs["outside"])
    assert data_file(stored) is None
    with pytest.raises(ImageError):
        crop_image(stored)
    assert source_frame(stored, "image", None) is None
    REPORT.record("stored paths: pictures", clear_error=True)


def test_paths_inside_are_used(dirs):
    assert data_file("crops/ab/ok.png") == (dirs["data"] / "crops" / "ab" / "ok.png").resolve()
    assert crop_image("crops/ab/ok.png").shape[:2] == (24, 24)
    assert confined(dirs["models"] / "run-1.pt") == (dirs["models"] / "run-1.pt").resolve()
    assert data_file("crops/ab/missing.png") is None


def test_browse_grid_never_shows_a_file_from_outside(env, tmp_path):
    """A restored store whose crop paths point out of the data dir: the grid warns, shows nothing."""
    from streamlit.testing.v1 import AppTest

    from core.config import REPO_ROOT
    from core.ingest import import_path
    from tests.helpers import write_affectnet_csv

    import_path("csv", write_affectnet_csv(env / "in", 6, subjects=2), dataset="demo")
    outside = tmp_path / "outside.png"
    write_image(outside, 3)
    with write_session() as s, s.begin():
        s.execute(update(Sample).where(Sample.id == 1).values(crop_path=str(outside)))
        s.execute(update(Sample).where(Sample.id == 2).values(crop_path="../" * 12 + str(outside)[1:]))
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=60)
    at.session_state["demo_ready"] = True
    at.run()
    at.switch_page("app_pages/browse.py").run()
    assert not at.exception, at.exception
    assert len(at.get("image")) == 4  # 6 crops, the 2 hostile rows refused
    assert sum("missing" in w.value for w in at.warning) == 2
    REPORT.record("stored paths: browse grid", clear_error=True)


def test_export_prelabel_and_training_refuse_hostile_crop_paths(env, tmp_path):
    from core.export import export_dataset
    from core.ingest import import_path
    from core.prelabel import predict_batch
    from core.store.db import read_session
    from tests.helpers import write_affectnet_csv
    from training.data import SplitRows, missing_files

    import_path("csv", write_affectnet_csv(env / "in", 3, subjects=1), dataset="d")
    outside = tmp_path / "outside" / "secret.png"
    write_image(outside, 4)
    hostile = "../" * 12 + str(outside)[1:]
    with write_session() as s, s.begin():
        s.execute(update(Sample).where(Sample.id == 2).values(crop_path=hostile))
    with read_session() as s, pytest.raises(PathRefused):
        export_dataset(s, 1, tmp_path / "out" / "labels.csv")
    assert not list((tmp_path / "out").glob("*_crops/*secret*"))

    class NoModel:
        model_version = "none"

        def predict_crops(self, crops):
            raise AssertionError("nothing should reach the model")

    rows, errors = predict_batch(NoModel(), [(2, hostile, None)], get_settings().data_dir)
    assert rows == [] and "outside the data" in errors[0]
    split = SplitRows(ids=np.array([2]), paths=[hostile], emotion=np.array([0]),
                      va=np.zeros((1, 2), np.float32), stress=np.zeros(1, np.float32))
    assert missing_files(split, get_settings().data_dir) == [hostile]
    REPORT.record("stored paths: export, prelabel, training", clear_error=True)
