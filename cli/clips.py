"""`affectlab embed`: per-frame embeddings (and audio images) of every clip of a dataset, resumable."""
from typing import Annotated

import typer

from cli.verb import JsonOpt, Result, verb

app = typer.Typer()


def format_embed(result: Result) -> str:
    return (f"{result['dataset']}: {result['embedded']} clip(s) embedded with {result['model']} (dim "
            f"{result['dim']}, {result['frames']} frames, {result['frames_per_s']} frames/s), {result['resumed']} "
            f"already done, {result['audio']} audio image(s); {result['clips']} clip(s) in all")


@verb(app, "embed", text=format_embed,
      help="per-frame embeddings of every clip of a dataset with a catalog model (default: the default "
           "model) and the clips' audio images; a rerun resumes")
def embed(
    dataset: Annotated[str, typer.Option("--dataset", help="dataset name")],
    model: Annotated[str | None, typer.Option("--model", help="catalog model (name, version or path); "
                                                              "default: the default model")] = None,
    no_audio: Annotated[bool, typer.Option("--no-audio", help="frames only, no audio images")] = False,
    json_out: JsonOpt = False,
) -> Result:
    from cli.progress import progress_bar
    from core.clips.store_embed import embed_dataset

    with progress_bar(f"embed {dataset}", "clip") as update:
        return embed_dataset(dataset, None if model in (None, "default") else model, audio=not no_audio,
                             progress=update)
