"""The `affectlab` command: one Typer tree over core and training (`python -m cli`, `python -m core`).

How a verb group is registered (e.g. a new cli/worker.py serving `affectlab worker`):

    # cli/worker.py
    import typer
    from cli.verb import JsonOpt, Result, verb

    app = typer.Typer()

    @verb(app, "worker", help="run queued jobs")
    def worker(once: bool = False, json_out: JsonOpt = False) -> Result:
        from training.worker import serve   # heavy imports inside the body: --help stays fast
        return serve(once=once)

    # here: add `worker` to the `from cli import ...` line and a row to GROUPS:
    #   (worker.app, None, None)      -> top-level verbs (affectlab worker)
    #   (ssl.app, "ssl", "help text") -> a sub-tree     (affectlab ssl pretrain)

A verb returns a dict; cli.verb prints it (`--json`: one JSON object on stdout), reports
expected errors on stderr with exit code 1 and exits 0 on success.
"""
import os
import sys

import typer
from typer.main import get_command

from cli import clips, data, gc, model, queue, ssl, tasks, traces, train, users, worker
from cli.quiet import native_noise_filtered

app = typer.Typer(name="affectlab", help="AffectLab: label store, models, training (the same verbs as the Python API).",
                  add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  rich_markup_mode=None, context_settings={"help_option_names": ["-h", "--help"]})

GROUPS: list[tuple[typer.Typer, str | None, str | None]] = [
    (data.app, None, None),
    (model.app, None, None),
    (train.app, None, None),
    (worker.app, None, None),
    (gc.app, None, None),
    (queue.app, None, None),
    (clips.app, None, None),
    (ssl.app, "ssl", "semi-supervised stages: pretrain an encoder, classify, finetune per subject"),
    (users.app, "user", "accounts of a hosted instance (AFFECTLAB_AUTH=on): add, list"),
    (tasks.app, None, None),
    (tasks.task_app, "task", "labelling tasks: k independent labels per sample (create, list, status, close)"),
    (tasks.snapshot_app, "snapshot", "named, immutable label snapshots (create, list, export)"),
    (traces.app, "trace", "continuous V/A traces over a video (list, export, agreement)"),
]
for group, name, help_ in GROUPS:
    if name is None:
        app.add_typer(group)
    else:
        app.add_typer(group, name=name, help=help_)


def main(argv: list[str] | None = None) -> int:
    """Run one command line (default: sys.argv[1:]); the exit code (usage errors: 2)."""
    try:
        get_command(app).main(args=argv, prog_name="affectlab", standalone_mode=True)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


def run() -> None:
    """Console-script entry point: main(), then exit without native libraries' exit chatter."""
    with native_noise_filtered():  # LiteRT / MediaPipe chatter on fd 2 is dropped
        code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)  # drop LiteRT's INFO lines printed at interpreter exit
    sys.exit(code)
