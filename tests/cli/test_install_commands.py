"""README set-up: both commands install the CPU torch build first (the version requirements.txt
pins), then the pinned set with the `affectlab` command; CI runs command 2 verbatim."""
from __future__ import annotations

import re

from core.config import REPO_ROOT

CPU_INDEX = "--index-url https://download.pytorch.org/whl/cpu"


def readme_commands() -> list[str]:
    text = (REPO_ROOT / "README.md").read_text()
    setup = text.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(python3 -m venv .*?)\n```", setup)


def test_commands_install_the_pinned_torch_from_the_cpu_index_first():
    pin = re.search(r"^torch==(\S+)", (REPO_ROOT / "requirements.txt").read_text(), re.M).group(1)
    commands = readme_commands()
    assert len(commands) == 2
    for cmd, reqs in zip(commands, ("requirements.txt", "requirements-dev.txt")):
        steps = [s.strip() for s in cmd.split("&&")]
        assert steps[1] == f".venv/bin/pip install --no-deps torch=={pin} {CPU_INDEX}"
        assert steps[2] == f".venv/bin/pip install -r {reqs} -e ."
    assert "affectlab demo" in commands[0] and "affectlab assets" in commands[1]


def test_ci_runs_command_2_verbatim():
    assert readme_commands()[1] in (REPO_ROOT / ".ci" / "run").read_text()
