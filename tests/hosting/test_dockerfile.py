"""The Hugging Face Spaces image, without a Docker engine: the Dockerfile read and checked, then its
build replayed (WORKDIR, COPY from the .dockerignore'd context, every RUN of scripts/) into a fresh
venv, and its ENTRYPOINT + CMD started with a fake /data (AFFECTLAB_PERSIST_DIR).

The replay skips only the RUN lines a plain venv cannot run (apt-get, useradd, the venv itself)
and the build ARGs (the PyTorch CPU index is not reachable here): see KNOWN_SYSTEM_RUNS.
"""
from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from core.config import REPO_ROOT
from tests.hosting.common import NET_GUARD, free_port, stop, tail, wait_http

DOCKERFILE = REPO_ROOT / "Dockerfile"
APT_NEEDED = {"libgl1", "libglib2.0-0", "libegl1", "libgles2"}  # see the Dockerfile's comment
KNOWN_SYSTEM_RUNS = (r"^apt-get update", r"^useradd ", r"^python -m venv ")
IN_CONTEXT = ["app.py", "gradio_app.py", "requirements.txt", "migrations/env.py", ".streamlit/config.toml",
              "scripts/build_image.sh", "scripts/start.sh"]
NOT_IN_CONTEXT = [".venv", "data", "tests", ".git"]


def instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order; continuation lines joined, comments dropped."""
    out, pending = [], ""
    for line in path.read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        op, _, args = full.partition(" ")
        out.append((op.upper(), " ".join(args.split())))
    return out


def only(ops: list[tuple[str, str]], name: str) -> list[str]:
    return [args for op, args in ops if op == name]


def ignore_patterns() -> list[str]:
    lines = (REPO_ROOT / ".dockerignore").read_text().splitlines()
    patterns = [p.strip() for p in lines if p.strip() and not p.lstrip().startswith("#")]
    assert not any(p.startswith("!") for p in patterns), "the test's matcher has no '!' support"
    return patterns


def dockerignored(rel: str, patterns: list[str]) -> bool:
    """Docker's rule for our simple patterns: a path is out when it or a parent folder matches."""
    parts = rel.split("/")
    for prefix in ("/".join(parts[:i]) for i in range(1, len(parts) + 1)):
        for p in patterns:
            if fnmatch.fnmatchcase(prefix, p) or (p.startswith("**/")
                                                  and fnmatch.fnmatchcase(prefix.split("/")[-1], p[3:])):
                return True
    return False


def build_context(dest: Path) -> Path:
    """Copy what `docker build .` would send: the repo minus .dockerignore."""
    patterns = ignore_patterns()
    for path in sorted(REPO_ROOT.rglob("*")):
        rel = path.relative_to(REPO_ROOT).as_posix()
        if path.is_file() and not dockerignored(rel, patterns):
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest / rel)
    return dest


def test_dockerfile_instructions():
    ops = instructions()
    assert ops[0] == ("FROM", "python:3.11-slim")
    runs = only(ops, "RUN")
    user = re.search(r"useradd .*--uid 1000 (\w+)", " ".join(runs))
    assert user, "no user with uid 1000"
    assert only(ops, "USER") == [user.group(1)]
    assert APT_NEEDED <= set(" ".join(r for r in runs if "apt-get install" in r).split())
    assert "7860" in " ".join(only(ops, "EXPOSE")).split()
    (health,) = only(ops, "HEALTHCHECK")
    assert "CMD " in health and "http://127.0.0.1:7860/_stcore/health" in health
    (workdir,) = only(ops, "WORKDIR")
    assert re.search(rf"install -d -o {user.group(1)} .*{workdir}", " ".join(runs)), "WORKDIR not user-owned"
    (cmd,) = only(ops, "CMD")
    assert json.loads(cmd)[:3] == ["streamlit", "run", "app.py"]
    assert {"--server.port=7860", "--server.address=0.0.0.0"} <= set(json.loads(cmd))
    (entry,) = only(ops, "ENTRYPOINT")
    called = re.findall(r"scripts/[\w./-]+", " ".join(runs + json.loads(entry)))
    assert "scripts/build_image.sh" in called and "scripts/start.sh" in called
    for script in called:
        assert os.access(REPO_ROOT / script, os.X_OK), f"{script} is missing or not executable"
        subprocess.run(["bash", "-n", str(REPO_ROOT / script)], check=True)
    for run in runs:
        assert "scripts/" in run or any(re.match(p, run) for p in KNOWN_SYSTEM_RUNS), (
            f"RUN {run!r}: put build steps in scripts/build_image.sh so the test replays them")


def test_dockerignore_context():
    """The image gets the app, every page app.py routes to and every package; no data or venv."""
    patterns = ignore_patterns()
    pages = re.findall(r"st\.Page\(\s*[\"']([^\"']+)[\"']", (REPO_ROOT / "app.py").read_text())
    packages = [p.parent.name + "/__init__.py" for p in REPO_ROOT.glob("*/__init__.py") if p.parent.name != "tests"]
    assert pages and "core/__init__.py" in packages
    for rel in IN_CONTEXT + pages + packages:
        assert (REPO_ROOT / rel).exists() and not dockerignored(rel, patterns), rel
    for rel in NOT_IN_CONTEXT:
        assert dockerignored(rel, patterns) and dockerignored(rel + "/x/y.py", patterns), rel
    assert dockerignored("core/__pycache__/x.pyc", patterns) and dockerignored("annotations.db-wal", patterns)
    for op, args in instructions():
        if op == "COPY":
            for src in [a for a in args.split() if not a.startswith("--")][:-1]:
                assert (REPO_ROOT / src).exists() and not dockerignored(src.rstrip("/"), patterns), src


def replay_build(context: Path, app: Path, env: dict[str, str]) -> dict[str, float]:
    """WORKDIR, COPY and the scripts/ RUN lines of the Dockerfile, in order; seconds per RUN."""
    timings = {}
    for op, args in instructions():
        words = [a for a in args.split() if not a.startswith("--")]
        if op == "COPY":
            *sources, dest = words
            target = app / dest
            for src in sources:
                if (context / src).is_dir():
                    shutil.copytree(context / src, target, dirs_exist_ok=True)
                else:
                    target.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(context / src, target / Path(src).name)
        elif op == "ENV":
            env.update(kv.split("=", 1) for kv in shlex.split(args) if not kv.startswith(("HOME=", "PATH=")))
        elif op == "RUN" and "scripts/" in args:
            start = time.monotonic()
            proc = subprocess.run(["bash", "-c", args], cwd=app, env=env, capture_output=True, text=True)
            assert proc.returncode == 0, f"RUN {args} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
            timings[args] = round(time.monotonic() - start, 1)
    return timings


def start(app: Path, env: dict[str, str], *command: str) -> subprocess.CompletedProcess:
    return subprocess.run(["scripts/start.sh", *command], cwd=app, env=env, capture_output=True,
                          text=True, timeout=300)


PROBE = """
import json, os
from core.config import get_settings
from core.demo import demo_exists
from core.catalog import load_predictor
onnx = get_settings().models_dir / "fer_mini_xception.onnx"
before = onnx.stat().st_mtime_ns
p = load_predictor('default', shared=True)
print(json.dumps({"data": os.environ.get("AFFECTLAB_DATA_DIR"), "db": os.environ.get("AFFECTLAB_DB_URL"),
                  "demo": demo_exists(), "backend": p.backend, "reexported": onnx.stat().st_mtime_ns != before,
                  "assets": len(list(get_settings().assets_dir.iterdir()))}))
"""


@pytest.mark.slow
def test_image_build_and_start(tmp_path):
    """Replays the image build in a fresh venv (~3-4 min: pip install + demo data), then starts it."""
    context, app, home = build_context(tmp_path / "context"), tmp_path / "app", tmp_path / "home"
    home.mkdir()
    subprocess.run([sys.executable, "-m", "venv", str(tmp_path / "venv")], check=True)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AFFECTLAB_", "VIRTUAL_ENV", "PYTHON", "STREAMLIT_", "GRADIO_"))}
    env.update(HOME=str(home), PATH=f"{tmp_path / 'venv' / 'bin'}:{os.environ['PATH']}")
    timings = replay_build(context, app, env)
    print(f"build steps (s): {timings}")
    for rel in ("models/fer_mini_xception.pt", "models/fer_mini_xception.onnx", "annotations.db"):
        assert (app / rel).is_file(), rel

    # run time, from here on offline: no pip index, and a guard that records any connection off loopback
    (tmp_path / "guard").mkdir()
    (tmp_path / "guard" / "sitecustomize.py").write_text(NET_GUARD)
    env.update(PIP_NO_INDEX="1", PYTHONPATH=str(tmp_path / "guard"), NET_LOG=str(tmp_path / "net.log"))

    # no /data: the image's own data dir
    missing = start(app, {**env, "AFFECTLAB_PERSIST_DIR": str(tmp_path / "nothing")},
                    "python", "-c", "import os; print(os.environ.get('AFFECTLAB_DATA_DIR'))")
    assert missing.returncode == 0 and missing.stdout.strip() == "None", missing.stderr
    assert f"data in {app}/data" in missing.stderr

    # a fresh /data: seeded once from the image, then the store and the ONNX model are used as they are
    persist = tmp_path / "persist"
    persist.mkdir()
    env["AFFECTLAB_PERSIST_DIR"] = str(persist)
    first = start(app, env, "python", "-c", PROBE)
    assert first.returncode == 0, first.stderr[-3000:]
    probe = json.loads(first.stdout.strip().splitlines()[-1])
    assert probe == {"data": f"{persist}/affectlab", "db": f"sqlite:///{persist}/annotations.db", "demo": True,
                     "backend": "onnx", "reexported": False, "assets": probe["assets"]}, probe
    assert probe["assets"] >= 19 and "seeding" in first.stderr

    # a second start seeds nothing: the user's files stay, later image files are not copied over
    (persist / "affectlab" / "mine.txt").write_text("user data")
    (app / "data" / "new-in-image.txt").write_text("x")
    second = start(app, env, "true")
    assert second.returncode == 0 and "seeding" not in second.stderr
    assert (persist / "affectlab" / "mine.txt").exists()
    assert not (persist / "affectlab" / "new-in-image.txt").exists()

    # an explicit AFFECTLAB_DATA_DIR wins over /data
    explicit = start(app, {**env, "AFFECTLAB_DATA_DIR": str(tmp_path / "mine")}, "python", "-c",
                     "import os; print(os.environ['AFFECTLAB_DATA_DIR'], os.environ.get('AFFECTLAB_DB_URL'))")
    assert explicit.stdout.split() == [str(tmp_path / "mine"), "None"], explicit.stderr

    # ENTRYPOINT + CMD on a free port: Streamlit's health endpoint and the HEALTHCHECK command
    ops = instructions()
    port = free_port()
    command = [a.replace("7860", str(port)) for a in json.loads(only(ops, "CMD")[0])]
    log = tmp_path / "streamlit.log"
    with log.open("w") as out:
        proc = subprocess.Popen([*json.loads(only(ops, "ENTRYPOINT")[0]), *command], cwd=app, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        waited = wait_http(f"http://127.0.0.1:{port}/_stcore/health", proc, timeout=120)
        health = only(ops, "HEALTHCHECK")[0].split("CMD ", 1)[1].replace("7860", str(port))
        check = subprocess.run(["sh", "-c", health], cwd=app, env=env, capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as resp:
            assert resp.status == 200 and b"<html" in resp.read().lower()
    finally:
        stop(proc)
    print(f"streamlit healthy after {waited:.1f} s")
    assert "data in" in tail(log) and str(persist) in tail(log)
    # Streamlit bound to 0.0.0.0 asks checkip.amazonaws.com for an "External URL" banner (1 s,
    # best effort, blocked here); nothing else may leave the machine
    net = (tmp_path / "net.log").read_text().split("\n") if (tmp_path / "net.log").exists() else []
    assert set(filter(None, net)) <= {"lookup checkip.amazonaws.com"}, net
