"""Start-up of the command line: `--help` and `stats` load no torch, cv2 or mediapipe; the
`python -m core` alias and the console script run the same tree; native chatter is filtered."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.config import REPO_ROOT

HEAVY = ("torch", "cv2", "mediapipe")
PROBE = ("import json, sys\nfrom cli.app import main\nrc = main(sys.argv[1:])\n"
         f"print(json.dumps({{'rc': rc, 'heavy': sorted(m for m in {HEAVY!r} if m in sys.modules)}}))\n")


def run(*argv: str, module: str | None = None, code: str | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, *(["-m", module] if module else ["-c", code or PROBE]), *argv]
    return subprocess.run(cmd, cwd=REPO_ROOT, env=dict(os.environ), capture_output=True, text=True,
                          timeout=120)


def heavy_after(*argv: str) -> tuple[int, list[str], str]:
    proc = run(*argv)
    probe = json.loads(proc.stdout.strip().splitlines()[-1])
    return probe["rc"], probe["heavy"], proc.stdout


def test_help_loads_no_heavy_library():
    rc, heavy, out = heavy_after("--help")
    assert rc == 0 and heavy == [] and "predict" in out and "ssl" in out
    rc, heavy, out = heavy_after("ssl", "--help")
    assert rc == 0 and heavy == [] and "pretrain" in out and "finetune" in out


def test_stats_loads_no_heavy_library(env):
    from tests.training.tiny import import_tiny

    import_tiny(env, n=16)
    rc, heavy, out = heavy_after("stats", "--dataset", "tiny", "--json")
    stats = json.loads(out.strip().splitlines()[0])
    assert rc == 0 and heavy == [] and stats["ok"] and stats["samples"] == 16


def test_python_m_core_is_an_alias_with_the_same_exit_codes(env):
    proc = run("--help", module="core")
    assert proc.returncode == 0 and "Usage: affectlab" in proc.stdout
    proc = run("stats", "--dataset", "nope", "--json", module="core")
    assert proc.returncode == 1 and json.loads(proc.stdout)["ok"] is False
    assert "no dataset named 'nope'" in proc.stderr
    proc = run("split", "--dataset", "x", "--preset", "1/2", module="core")
    assert proc.returncode == 2 and "'1/2' is not one of" in proc.stderr


def test_core_does_not_import_the_cli():
    """The alias re-executes the interpreter; core itself never names cli in an import."""
    source = (REPO_ROOT / "core" / "__main__.py").read_text()
    assert "import cli" not in source and "from cli" not in source


@pytest.mark.skipif(not Path(sys.executable).with_name("affectlab").exists(),
                    reason="the console script is installed by `pip install -e .` (README set-up)")
def test_console_script():
    proc = subprocess.run([str(Path(sys.executable).with_name("affectlab")), "--help"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "Usage: affectlab" in proc.stdout


def test_native_chatter_is_dropped_and_everything_else_kept():
    code = ("import os, sys\nfrom cli.quiet import native_noise_filtered\n"
            "with native_noise_filtered():\n"
            "    os.write(2, b'INFO: [environment.cc:36] Creating LiteRT environment with options\\n'\n"
            "                b'WARNING: [model_load.cc:402] Sparsity tensors may not yet be fully supported.\\n'\n"
            "                b'W0000 00:00:1796058442.949249   26073 inference_runner_litert.cc:1418] Input\\n'\n"
            "                b'INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\\n'\n"
            "                b'error: a real message\\n')\n"
            "    print('skipped: bad.jpg', file=sys.stderr)\n"
            "print('after', file=sys.stderr)\n")
    proc = run(code=code)
    assert proc.returncode == 0 and proc.stderr == "error: a real message\nskipped: bad.jpg\nafter\n"


def test_predict_on_the_onnx_path_loads_no_torch(default_ckpt, default_onnx, asset, monkeypatch):
    """With the default model converted and exported (the README set-up does both), predicting
    an image runs on ONNX Runtime alone: torch is never imported."""
    monkeypatch.setenv("AFFECTLAB_MODELS_DIR", str(default_ckpt.parent))
    proc = run("predict", str(asset("single_face.jpg")), "--json",
               code=PROBE.replace(f"{HEAVY!r}", "('torch',)"))
    lines = proc.stdout.strip().splitlines()
    result, probe = json.loads(lines[0]), json.loads(lines[-1])
    assert probe == {"rc": 0, "heavy": []}, proc.stderr[-2000:]
    assert result["backend"] == "onnx" and result["summary"]["faces"] == 1
