"""Entry point for `python -m core`."""
import os
import sys

from core.cli import main

code = main()
sys.stdout.flush()
sys.stderr.flush()
os.dup2(os.open(os.devnull, os.O_WRONLY), 2)  # drop LiteRT's INFO lines printed at interpreter exit
sys.exit(code)
