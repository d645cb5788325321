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
