"""A label store whose every user-controlled name is hostile markup pointing at a planted URL
(`python -m tests.browser.hostile_store PLANTED_URL`, with AFFECTLAB_* pointing at a temp store)."""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from sqlalchemy import update


def hostile(url: str, tag: str) -> str:
    """Markdown link and image, raw HTML link and image, a Streamlit directive and emphasis."""
    return (f"[{tag}]({url}/{tag[:3]}) ![i]({url}/{tag[:3]}.png) <img src={url}/h.png> "
            f"<a href='{url}/a'>x</a> :red[x] **b** www.x.example")


def build(url: str) -> dict[str, str]:
    from core.ingest import import_path
    from core.splits import split_dataset
    from core.store.db import write_session
    from core.store.labels import edit_label
    from core.store.models import Run, Sample
    from core.store.predictions import record_predictions
    from core.taxonomy import get_taxonomy
    from tests.helpers import write_image

    names = {k: hostile(url, k) for k in ("dataset", "subject", "annotator", "file", "note", "run", "model", "flag")}
    classes = [hostile(url, f"c{i}") for i in range(3)]  # chart categories, legends, buttons
    root = Path(tempfile.mkdtemp(prefix="hostile-in-"))
    rows = ["image_path,emotion,valence,arousal,stress,subject"]
    for i in range(9):
        write_image(root / f"{i}.png", 40 + i)
        rows.append(f'{i}.png,"{classes[i % 3]}",0.{i},-0.{i},0.5,"{names["subject"]}"')
    (root / "labels.csv").write_text("\n".join(rows) + "\n")
    import_path("csv", root / "labels.csv", dataset=names["dataset"],
                taxonomy=get_taxonomy("hostile", classes))
    with write_session() as s, s.begin():
        split_dataset(s, 1, "70/15/15")
        s.execute(update(Sample).values(source_path=names["file"], flag=names["flag"]))
        sample = s.get(Sample, 1)
        edit_label(s, 1, base_annotation_id=sample.cur_annotation_id, annotator=names["annotator"][:100],
                   emotion=classes[1], note=names["note"], classes=classes)
        record_predictions(s, [{"sample_id": i, "run_id": None, "model_version": names["model"], "split": None,
                                "probs": {c: 1 / 3 for c in classes}, "emotion": classes[i % 3],
                                "confidence": 0.34, "valence": 0.1, "arousal": 0.2, "stress": 0.3,
                                "loss": None, "flags": {}} for i in range(1, 10)])
        s.add(Run(name=names["run"], dataset_id=1, status="failed", error=names["run"], config={}))
    demo = root / "demo"  # a "demo" dataset (after the hostile one) so the app builds none at start
    for i in range(2):
        write_image(demo / f"{i}.png", 90 + i)
    (demo / "labels.csv").write_text("image_path,emotion,valence,arousal\n0.png,Happy,0,0\n1.png,Sad,0,0\n")
    import_path("csv", demo / "labels.csv", dataset="demo")
    return names


if __name__ == "__main__":
    print(build(sys.argv[1])["dataset"])
