"""The verb contract: a function returning a dict; `--json` prints it as one JSON object on stdout,
errors go to stderr with exit code 1, success is exit code 0."""
import functools
import inspect
import json
import os
import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer

from core.text import mask_secrets, safe_message, safe_terminal

JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON object on stdout")]
Result = dict[str, Any]
TEXT_LIMIT = 4000  # characters of the indented result printed without --json
EXPECTED = (LookupError, ValueError, FileNotFoundError, RuntimeError)  # reported without a traceback


class CliError(RuntimeError):
    """An error to report on stderr with exit code 1 (no traceback)."""


def verb(app: typer.Typer, name: str, *, text: Callable[[Result], str | None] | None = None,
         **command: Any) -> Callable[[Callable[..., Result]], Callable[..., Result]]:
    """Register fn(**options) -> dict as command `name` of app. fn must take `json_out: JsonOpt`.

    Without --json the result is shown by text(result) (nothing when it returns None or "") or,
    when text is not given, as indented JSON (first 4000 characters). Under torchrun only rank 0
    prints a result. Expected failures (CliError, LookupError, ValueError, FileNotFoundError,
    RuntimeError, a failed import) print `error: ...` on stderr and exit 1; with --json also
    {"ok": false, "error": ...} on stdout."""

    def register(fn: Callable[..., Result]) -> Callable[..., Result]:
        @functools.wraps(fn)
        def command_fn(**options: Any) -> None:
            code = report(lambda: fn(**options), json_out=options.get("json_out", False), text=text)
            if code:
                raise typer.Exit(code)

        app.command(name, **command)(command_fn)
        return fn

    return register


def report(call: Callable[[], Result], *, json_out: bool,
           text: Callable[[Result], str | None] | None = None) -> int:
    """Run call() and print its result or its error per the verb contract; the exit code."""
    try:
        result = call()
    except Exception as exc:
        report_of = getattr(getattr(exc, "report", None), "to_dict", None)
        if isinstance(exc, EXPECTED) and report_of is not None:  # core.ingest's ImportFailed:
            return _fail(exc, json_out, report_of())  # every bad row, in the JSON too
        if isinstance(exc, EXPECTED):
            return _fail(exc, json_out)
        raise
    if os.environ.get("RANK", "0") != "0":
        return 0  # under torchrun only rank 0 reports
    if json_out:
        print(json.dumps({"ok": True, **result}, default=str))
    else:
        shown = text(result) if text else json.dumps(result, indent=1, default=str)[:TEXT_LIMIT]
        if shown:
            print(safe_terminal(shown, keep_newlines=True))  # names in a result stay text
    return 0


def _fail(exc: Exception, json_out: bool, details: Result | None = None) -> int:
    # control characters escaped, passwords masked (core.text); an import's bad rows one per line
    print(f"error: {safe_message(exc, keep_newlines=details is not None)}", file=sys.stderr)
    if json_out and os.environ.get("RANK", "0") == "0":  # JSON escapes control characters itself
        print(json.dumps({"ok": False, "error": mask_secrets(exc), **(details or {})}, default=str))
    return 1


def with_options(extra: dict[str, tuple[Any, Any]]) -> Callable[[Callable[..., Result]], Callable[..., Result]]:
    """Add options shared by several verbs to fn's signature: {name: (Annotated type, default)};
    fn receives them in **options. Typer reads the signature, so each option is declared once."""

    def add(fn: Callable[..., Result]) -> Callable[..., Result]:
        sig = inspect.signature(fn)
        own = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in sig.parameters.values()
               if p.kind is not inspect.Parameter.VAR_KEYWORD]
        added = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=kind)
                 for name, (kind, default) in extra.items()]
        fn.__signature__ = sig.replace(parameters=[*own, *added])
        return fn

    return add

