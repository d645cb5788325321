"""`affectlab user add NAME --role ROLE` / `user list`: accounts made from the command line sign in."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from core.config import REPO_ROOT
from core.store.db import write_session
from core.store.users import sign_in


def _cli(env, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    run_env = {k: v for k, v in os.environ.items() if not k.startswith("AFFECTLAB_")}
    run_env.update(AFFECTLAB_DATA_DIR=str(env / "data"), AFFECTLAB_DB_URL=os.environ["AFFECTLAB_DB_URL"])
    return subprocess.run([sys.executable, "-m", "cli", *args], cwd=REPO_ROOT, env=run_env, input=stdin,
                          capture_output=True, text=True, timeout=120)


def test_user_add_and_list(env):
    added = _cli(env, "user", "add", "ana", "--role", "annotator", "--password-stdin", "--json",
                 stdin="a long secret\n")
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout) == {"ok": True, "user": "ana", "role": "annotator"}
    listed = _cli(env, "user", "list", "--json")
    assert [u["name"] for u in json.loads(listed.stdout)["users"]] == ["ana"]
    assert "argon2" not in listed.stdout and "a long secret" not in listed.stdout
    with write_session() as s, s.begin():
        assert sign_in(s, "ana", "a long secret").role.name == "ANNOTATOR"
    again = _cli(env, "user", "add", "ana", "--password-stdin", stdin="another secret\n")
    assert again.returncode == 1 and "exists" in again.stderr
    bad = _cli(env, "user", "add", "bo", "--role", "boss", "--password-stdin", stdin="long enough\n")
    assert bad.returncode == 1 and "unknown role" in bad.stderr and "Traceback" not in bad.stderr
    short = _cli(env, "user", "add", "cy", "--password-stdin", stdin="short\n")
    assert short.returncode == 1 and "at least 8" in short.stderr
