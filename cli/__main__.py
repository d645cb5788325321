"""Entry point for `python -m cli` (and, re-executed, `python -m core`)."""
from cli.app import run

run()
