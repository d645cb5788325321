"""The command line (`affectlab VERB ...`, `python -m cli`): a Typer application over core and training."""
