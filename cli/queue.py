"""`affectlab queue`: the "likely wrong" (label issues) and "uncertain" (label next) queues of a dataset."""
from typing import Annotated, Any, Literal

import typer

from cli.verb import JsonOpt, Result, verb

app = typer.Typer()


def format_queue(result: Result) -> str:
    """The source line, then one sample per line with its score."""
    detail = ", ".join(f"{k} {v}" for k, v in result["detail"].items())
    head = (f"{result['kind']} queue of {result['dataset']} ({result['field']}): {len(result['ids'])} samples; "
            f"source {result['source']} ({detail})")
    what = "uncertainty" if result["kind"] == "uncertain" else "label quality"
    return "\n".join([head] + [f"sample {i}  {what} {s:.3f}" for i, s in zip(result["ids"], result["scores"])])


@verb(app, "queue", text=format_queue, help="samples to relabel (likely wrong) or to label next (uncertain)")
def queue(
    dataset: Annotated[str, typer.Option("--dataset", help="dataset name")],
    kind: Annotated[Literal["likely-wrong", "uncertain"], typer.Option(
        "--kind", help="likely-wrong: label issues (cleanlab, out-of-sample predictions); "
                       "uncertain: most useful to label next (active learning)")],
    field: Annotated[Literal["emotion", "emotions", "va"] | None, typer.Option(
        "--field", help="likely-wrong: emotion, emotions (multi-label) or va (default: the dataset's emotion mode)")] = None,
    source: Annotated[Literal["auto", "held-out", "cross-val"], typer.Option(
        "--source", help="likely-wrong: held-out predictions, cross-validated over stored features, "
                         "or auto (held-out when there are any)")] = "auto",
    limit: Annotated[int, typer.Option("--limit", min=1, help="at most this many samples")] = 50,
    split: Annotated[str | None, typer.Option("--split", help="only samples of this split")] = None,
    per_video: Annotated[int, typer.Option("--per-video", min=1, help="uncertain: at most this many frames "
                                                                      "per source video")] = 3,
    json_out: JsonOpt = False,
) -> Result:
    from core.store.datasets import require_dataset
    from core.store.db import read_session
    from core.store.learning_queues import likely_wrong_queue, uncertain_queue

    with read_session() as s:
        ds_id = require_dataset(s, dataset).id
        if kind == "uncertain":
            q = uncertain_queue(s, ds_id, limit=limit, per_group=per_video, split=split)
        else:
            q = likely_wrong_queue(s, ds_id, field=field, source=source, limit=limit, split=split)
    result: dict[str, Any] = {"dataset": dataset, **q.to_dict()}
    return result
