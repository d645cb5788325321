"""A fresh server's first Browse loads no image/video/ML stack (OpenCV, PyAV, torch, ONNX Runtime,
scikit-learn, Alembic on a store already migrated): each costs up to a second of import time before
the grid shows (issue 11, item 13)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from core.config import REPO_ROOT

HEAVY = ("cv2", "av", "torch", "onnxruntime", "sklearn", "scipy", "mediapipe", "alembic")
FIRST_BROWSE = f"""
import json, sys
from streamlit.testing.v1 import AppTest
at = AppTest.from_file({str(REPO_ROOT / "app.py")!r}, default_timeout=120)
at.switch_page("app_pages/browse.py")
at.run()
assert not at.exception, at.exception
caption = at.caption[0].value
print(json.dumps({{"caption": caption, "loaded": [m for m in {HEAVY!r} if m in sys.modules]}}))
"""


def test_first_browse_imports_no_heavy_stack(seeded):
    out = subprocess.run([sys.executable, "-c", FIRST_BROWSE], cwd=REPO_ROOT, env=dict(os.environ),
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["caption"].startswith("40 samples match")  # the grid was drawn
    assert result["loaded"] == [], result
