"""Symbolic links out of the import root (issue 16, item 2): every importer refuses a link inside
the named folder that leads outside it (file or folder, relative or absolute, chained, looping),
with an error naming the link, and reads nothing from outside; a link the user names is followed."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.ingest import ImportFailed, import_path
from core.ingest.files import files_under
from core.store.db import dispose_all
from tests.conftest import ASSETS
from tests.helpers import write_affectnet_csv, write_openface
from tests.reliability.corpus import REPORT
from tests.reliability.hostile import Sandbox

HYP = settings(derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck))
FACE, VIDEO = ASSETS / "single_face.jpg", ASSETS / "single_face.mp4"
# importer -> (name of the link inside the folder, what it points at outside, the error's field)
KINDS = {"images": ("x.jpg", "face.jpg", "image"), "video": ("x.mp4", "clip.mp4", "video"),
         "openface": ("Happy/x.csv", "of/Happy/clip.csv", None)}


@pytest.fixture(scope="module")
def box(tmp_path_factory):
    """One store; outside/ holds real inputs an importer would happily read if it followed a link."""
    root = tmp_path_factory.mktemp("links")
    sandbox = Sandbox(root)
    out = root / "outside"
    shutil.copy(FACE, out / "face.jpg")
    shutil.copy(VIDEO, out / "clip.mp4")
    write_openface(out / "of", "Happy", "clip", frames=3)
    mp = pytest.MonkeyPatch()
    mp.setenv("AFFECTLAB_DATA_DIR", str(root / "data"))
    mp.setenv("AFFECTLAB_DB_URL", f"sqlite:///{root / 'test.db'}")
    mp.setenv("AFFECTLAB_ASSETS_DIR", str(ASSETS))
    mp.chdir(root / "cwd")
    import_path("csv", write_affectnet_csv(root / "cases" / "seed", 4, seed=5), dataset="links")
    sandbox.baseline = sandbox.state()
    yield sandbox
    dispose_all()
    mp.undo()


def _link(at: Path, target: Path, *, relative: bool, chain: int) -> None:
    """at -> [hop_1 -> ... ->] target, each hop relative or absolute."""
    at.parent.mkdir(parents=True, exist_ok=True)
    hops = [at.parent / f".hop{at.name}{i}" for i in range(chain)]
    for src, dst in zip([at, *hops], [*hops, target], strict=True):
        os.symlink(os.path.relpath(dst, src.parent) if relative else dst, src)


def _refused(box: Sandbox, kind: str, folder: Path, name: str, field: str | None) -> None:
    with pytest.raises(ImportFailed) as info:
        import_path(kind, folder, dataset="links")
    errors = info.value.report.errors
    named = [e for e in errors if e.file == name and "symbolic link" in e.reason and e.field == field]
    REPORT.record(f"links out of the root: {kind}", clear_error=bool(named), crash=not named)
    assert named, [str(e) for e in errors]
    box.assert_untouched()


@settings(HYP, max_examples=60)
@given(st.sampled_from(sorted(KINDS)), st.booleans(), st.integers(0, 2), st.sampled_from(["file", "folder"]),
       st.integers(0, 2))
def test_links_leading_out_of_the_folder_are_refused(box, kind, relative, chain, target_kind, depth):
    name, target, field = KINDS[kind]
    case = box.case()
    sub = Path(*[f"d{i}" for i in range(depth)]) if depth else Path()
    if target_kind == "folder":  # a folder link named like an input, holding the outside input
        link = case / sub / f"linked{Path(name).suffix}"
        _link(link, (box.root / "outside" / target).parent, relative=relative, chain=chain)
    else:
        link = case / sub / name
        _link(link, box.root / "outside" / target, relative=relative, chain=chain)
    _refused(box, kind, case, link.relative_to(case).as_posix(), field)


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("loop", ["self", "pair"])
def test_link_loops_are_refused(box, kind, loop):
    name, _, field = KINDS[kind]
    case = box.case()
    link = case / name
    link.parent.mkdir(parents=True, exist_ok=True)
    if loop == "self":
        os.symlink(link.name, link)
    else:
        os.symlink(f"{link.name}.b", link)
        os.symlink(link.name, link.parent / f"{link.name}.b")
    _refused(box, kind, case, name, field)


def test_links_inside_the_folder_and_named_links_are_followed(tmp_path):
    root = tmp_path / "root"
    (root / "real").mkdir(parents=True)
    shutil.copy(FACE, root / "real" / "a.jpg")
    os.symlink("real/a.jpg", root / "b.jpg")  # inside: fine
    os.symlink(tmp_path, root / "up")  # a folder link out: refused even without an image suffix
    files, refused = files_under(root, {".jpg"})
    assert files == [root / "b.jpg", root / "real" / "a.jpg"]
    assert [p.name for p, _ in refused] == ["up"]
    named = tmp_path / "named.jpg"
    os.symlink(FACE, named)
    assert files_under(named, {".jpg"}) == ([named], [])  # the user's own argument


def test_a_named_link_is_imported(env, tmp_path):
    named = tmp_path / "face.jpg"
    os.symlink(FACE, named)
    assert import_path("images", named, dataset="named").added >= 1
