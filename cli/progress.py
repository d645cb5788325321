"""A tqdm progress bar on stderr for long verbs (hidden when stderr is not a terminal)."""
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from cli.quiet import terminal_stderr

Update = Callable[[int, int | None], None]  # (done, total or None when unknown)


@contextmanager
def progress_bar(desc: str, unit: str = "item") -> Iterator[Update]:
    """`with progress_bar("import", "row") as update: work(progress=update)`."""
    from tqdm import tqdm

    bar = tqdm(desc=desc, unit=unit, file=terminal_stderr(), dynamic_ncols=True, disable=None)

    def update(done: int, total: int | None = None) -> None:
        if total is not None and bar.total != total:
            bar.total = total
        bar.update(done - bar.n)  # tqdm throttles the redraws

    try:
        yield update
    finally:
        bar.close()


def log_to_stderr(logger: str) -> None:
    """One line per event of `logger` (INFO) and warnings of the rest, on stderr; nothing
    changes when logging is already configured (e.g. under pytest)."""
    import logging
    import sys

    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger(logger).setLevel(logging.INFO)
