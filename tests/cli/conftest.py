"""`cli` fixture: run one `affectlab` command line in this process and read its outputs."""
from __future__ import annotations

import json
from collections.abc import Callable

import pytest


@pytest.fixture
def cli(capsys) -> Callable[..., tuple[int, dict | None, str]]:
    """run(*argv) -> (exit code, the JSON object printed last on stdout or None, stderr)."""
    from cli.app import main

    def run(*argv: object) -> tuple[int, dict | None, str]:
        capsys.readouterr()
        rc = main([str(a) for a in argv])
        out = capsys.readouterr()
        lines = out.out.strip().splitlines()
        last = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else None
        return rc, last, out.err

    return run


# the inference tests' offline data dir and converted default model, for the model verbs
from tests.inference.conftest import (  # noqa: E402, F401
    asset,
    default_ckpt,
    default_onnx,
    models_dir,
    no_network,
    session_data_dir,
)
from tests.training.conftest import one_thread  # noqa: E402, F401 - one torch thread
from tests.training.test_ssl import openface  # noqa: E402, F401 - the SSL tests' data
