"""TorchScript is code: only files this installation exported load; a hostile one never runs."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.config import REPO_ROOT
from tests.inference.common import make_tiny_resnet

CROPS = [np.random.default_rng(i).integers(0, 256, (112, 112, 3), dtype=np.uint8) for i in range(4)]

# A TorchScript module that writes the marker file when it is loaded (__setstate__) and when
# it is called (forward); torch.from_file(shared=True) creates and maps the file.
EVIL = '''
import sys, torch
marker = sys.argv[2]

class Evil(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.p = marker

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        t = torch.from_file(self.p, shared=True, size=4, dtype=torch.uint8)
        t.fill_(65)
        z = x.sum() * 0.0 + t.float().sum() * 0.0
        return {"emotion": z.expand(1, 8), "va": z.expand(1, 2), "stress": z.expand(1, 1)}

    @torch.jit.export
    def __getstate__(self):
        return (self.p, self.training)

    @torch.jit.export
    def __setstate__(self, state: tuple[str, bool]):
        self.p = state[0]
        self.training = state[1]
        t = torch.from_file(self.p, shared=True, size=4, dtype=torch.uint8)
        t.fill_(66)
        self.p = self.p + str(int(t.sum()))[:0]

torch.jit.save(torch.jit.script(Evil()), sys.argv[1])
'''


@pytest.fixture
def hostile(env, tmp_path) -> tuple[Path, Path]:
    """(evil.ts.pt with a plausible model card beside it, marker path that must never appear)."""
    from core.config import get_settings

    models = get_settings().models_dir
    models.mkdir(parents=True, exist_ok=True)
    path, marker = models / "evil.ts.pt", tmp_path / "pwned"
    script = tmp_path / "make_evil.py"  # torch.jit.script needs the class's source in a file
    script.write_text(EVIL)
    subprocess.run([sys.executable, str(script), str(path), str(marker)], check=True, timeout=120)
    card = {"format": "affectlab-model-card/1", "artifact": path.name, "artifact_format": "torchscript",
            "config": {"backbone": "mini_xception"}, "flags": {}, "checkpoint": {}}
    (models / "evil.ts.pt.json").write_text(json.dumps(card))
    assert not marker.exists()
    return path, marker


def _really_hostile(path: Path, marker: Path) -> None:
    """Control: torch.jit.load of this file does write the marker (in a throwaway process)."""
    code = f"import torch; torch.jit.load({str(path)!r})"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    assert marker.exists()
    marker.unlink()


def test_hostile_torchscript_is_refused_everywhere(hostile):
    from core.catalog import list_models, load_predictor
    from core.inference import Predictor
    from core.inference.trust import UntrustedModelError

    path, marker = hostile
    assert all(e.path != path for e in list_models())  # never offered
    for load in (lambda: load_predictor(str(path)), lambda: load_predictor("file:evil.ts.pt"),
                 lambda: Predictor(path), lambda: Predictor(path, backend="torchscript")):
        with pytest.raises(UntrustedModelError, match="refused.*did not export this one"):
            load()
    assert not marker.exists()
    _really_hostile(path, marker)


def test_cli_predict_refuses_hostile_torchscript(hostile):
    path, marker = hostile
    photo = REPO_ROOT / "data" / "assets" / "single_face.jpg"
    out = subprocess.run([sys.executable, "-m", "core", "predict", str(photo), "--model", str(path),
                          "--json"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode != 0 and "Traceback" not in out.stderr, out.stderr[-2000:]
    assert "refused" in out.stderr and "did not export this one" in out.stderr
    assert not marker.exists()


def test_own_torchscript_export_loads_and_a_changed_byte_is_refused(env, tmp_path):
    from core.catalog import list_models, load_predictor
    from core.config import get_settings
    from core.export_model import export_model
    from core.inference.trust import UntrustedModelError

    ckpt = make_tiny_resnet(get_settings().models_dir / "run-4" / "best.pt")
    path = Path(export_model(ckpt, "torchscript", crops=CROPS)["path"])
    assert any(e.path == path for e in list_models())
    assert load_predictor(str(path)).backend == "torchscript"
    data = bytearray(path.read_bytes())
    data[-30] ^= 1  # any change to the recorded bytes (here inside the zip's trailer)
    tampered = tmp_path / "tampered.ts.pt"
    tampered.write_bytes(bytes(data))
    (tmp_path / "tampered.ts.pt.json").write_bytes(Path(str(path) + ".json").read_bytes())
    with pytest.raises(UntrustedModelError):
        load_predictor(str(tampered))
