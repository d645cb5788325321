"""Code the reliability tests run in threads, spawned processes and killed subprocesses.

Importable by child processes (`python -m tests.reliability.workers VERB ...` from the repo root);
every function reads the store location from the AFFECTLAB_* environment like the app does.
"""
from __future__ import annotations

import random
import sys
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select

from core.ingest.commit import commit_samples
from core.ingest.records import PendingSample
from core.rules import DerivationRules
from core.store.datasets import get_or_create_dataset
from core.store.db import read_session, write_session
from core.store.labels import ConflictError, edit_label
from core.store.models import Annotation, Sample
from core.taxonomy import AFFECTNET8


def seed_store(n: int, *, dataset: str = "seeded") -> list[int]:
    """n samples with imported labels (no crop files needed); returns their ids."""
    records = [PendingSample(crop_sha256=f"{dataset}{i:08d}".ljust(64, "0"), crop_path=f"crops/x/{i}.png",
                             source_path=f"{i}.png", emotion=AFFECTNET8[i % 8], valence=0.1, arousal=-0.1,
                             subject=f"s{i % 4}") for i in range(n)]
    with write_session() as s, s.begin():
        ds = get_or_create_dataset(s, dataset)
        commit_samples(s, ds, records, rules=DerivationRules())
        return list(s.scalars(select(Sample.id).where(Sample.dataset_id == ds.id).order_by(Sample.id)))


def head_of(sample_id: int) -> int | None:
    with read_session() as s:
        return s.scalar(select(Sample.cur_annotation_id).where(Sample.id == sample_id))


def annotate(worker: int, edits: int, sample_ids: Sequence[int], *, seed: int = 0,
             barrier: Any = None) -> list[dict[str, Any]]:
    """`edits` read-the-head-then-edit attempts on random samples; one outcome dict per attempt.

    outcome: applied (with the new annotation id), conflict, or error (any other exception,
    e.g. an OperationalError "database is locked" reaching the caller).
    """
    rng = random.Random(seed * 1000 + worker)
    if barrier is not None:
        barrier.wait()
    out = []
    for i in range(edits):
        sid = rng.choice(list(sample_ids))
        emotion = AFFECTNET8[rng.randrange(len(AFFECTNET8))]
        rec: dict[str, Any] = {"worker": worker, "i": i, "sample": sid, "emotion": emotion}
        t0 = time.perf_counter()
        try:
            rec["base"] = head_of(sid)
            with write_session() as s, s.begin():
                ann = edit_label(s, sid, base_annotation_id=rec["base"], annotator=f"annotator-{worker}",
                                 emotion=emotion, note=f"w{worker}-{i}")
            rec.update(outcome="applied", id=ann.id)
        except ConflictError:
            rec["outcome"] = "conflict"
        except Exception as exc:  # noqa: BLE001 - every other failure is counted as one
            rec.update(outcome="error", error=f"{type(exc).__name__}: {exc}")
        rec["seconds"] = time.perf_counter() - t0
        out.append(rec)
    return out


def annotate_into(queue: Any, barrier: Any, worker: int, edits: int, sample_ids: list[int], seed: int) -> None:
    """Process target: annotate() and put the outcomes on `queue`."""
    try:
        queue.put(annotate(worker, edits, sample_ids, seed=seed, barrier=barrier))
    except BaseException as exc:  # the parent must hear of it rather than wait forever
        queue.put([{"worker": worker, "outcome": "error", "error": repr(exc), "seconds": 0.0}])
        raise


def store_counts() -> dict[str, int]:
    with read_session() as s:
        return {"samples": s.scalar(select(func.count()).select_from(Sample)),
                "annotations": s.scalar(select(func.count()).select_from(Annotation))}


def relabel_forever(sample_ids: Sequence[int], marker: str) -> None:
    """Edit the samples in a loop until killed; prints each committed annotation id (flushed)."""
    rng = random.Random(1)
    print("ready", flush=True)
    i = 0
    while True:
        sid = sample_ids[i % len(sample_ids)]
        with write_session() as s, s.begin():
            ann = edit_label(s, sid, base_annotation_id=head_of(sid), annotator=marker,
                             emotion=AFFECTNET8[rng.randrange(8)], valence=rng.uniform(-1, 1),
                             note=f"{marker}-{i}")
        print(ann.id, flush=True)
        i += 1


def import_slowly(path: str, dataset: str) -> None:
    """import_path('csv') whose commit announces itself on stdout, then keeps writing slowly."""
    import core.ingest.commit as commit
    import core.ingest.run as run
    from core.ingest import import_path

    real = commit.commit_samples

    def announcing(session, ds, records, *, rules):
        counts = real(session, ds, records, rules=rules)
        print(f"written {counts['added']}", flush=True)  # rows are in the open transaction now
        time.sleep(60)  # the parent kills us here, before the commit
        return counts

    run.commit_samples = announcing
    print("started", flush=True)
    import_path("csv", path, dataset=dataset)


def main(argv: list[str]) -> None:
    verb, *rest = argv
    if verb == "relabel":
        relabel_forever([int(x) for x in rest[0].split(",")], rest[1])
    elif verb == "import":
        import_slowly(rest[0], rest[1])
    elif verb == "import-plain":
        from core.ingest import import_path
        print("started", flush=True)
        import_path("csv", rest[0], dataset=rest[1])
        print("done", flush=True)
    else:
        raise SystemExit(f"unknown verb {verb}")


if __name__ == "__main__":
    main(sys.argv[1:])
