"""core/store is the one writer of labels: no other production module inserts annotations or
sets a sample's cached current label (samples.cur_*)."""
from __future__ import annotations

import re

from core.config import REPO_ROOT

PACKAGES = ("core", "cli", "training", "ui", "app_pages")
WRITES = re.compile(r"insert\(Annotation\b|\bAnnotation\(|Annotation\.__table__|SET\s+cur_\w+"
                    r"|(insert|delete)\(SampleCategory\b|\bSampleCategory\(|(INTO|FROM|UPDATE)\s+sample_categories"
                    r"|\bcur_(annotation_id|emotions?|valence|arousal|stress|source|sources|annotator_id"
                    r"|distribution|dominance|targets)\s*=(?!=)")


def test_only_core_store_writes_labels():
    offenders = []
    files = [REPO_ROOT / "app.py", *(p for pkg in PACKAGES for p in (REPO_ROOT / pkg).rglob("*.py"))]
    for path in files:
        rel = path.relative_to(REPO_ROOT).as_posix()
        if rel.startswith("core/store/"):
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if WRITES.search(line.split("#", 1)[0]):
                offenders.append(f"{rel}:{n}: {line.strip()}")
    assert offenders == []


def test_the_pattern_catches_a_direct_write():
    assert WRITES.search('conn.execute(text("UPDATE samples SET cur_annotation_id = 1"))')
    assert WRITES.search("session.add(Annotation(sample_id=1, source='human'))")
    assert WRITES.search("smp.cur_emotion = 'Sad'") and not WRITES.search("if smp.cur_emotion == 'Sad':")
    assert WRITES.search("smp.cur_targets = {'openness': 0.5}") and WRITES.search("smp.cur_emotions = []")
    assert WRITES.search("conn.execute(insert(SampleCategory.__table__), rows)")
    assert not WRITES.search("select(SampleCategory.sample_id)")
