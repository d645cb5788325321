"""`python -m core ...`: an alias of the `affectlab` command, run as `python -m cli ...`.

core never imports the command line: this re-executes the interpreter on the cli package
(the same process id, so torchrun and the job queue still track it).
"""
import os
import subprocess
import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[1])  # where core/ and cli/ live
env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p))
argv = [sys.executable, "-m", "cli", *sys.argv[1:]]
if os.name == "posix":
    os.execve(sys.executable, argv, env)
sys.exit(subprocess.call(argv, env=env))
