"""`affectlab embed`: per-frame embeddings (and audio images) of every clip of a dataset, resumable;
under torchrun the processes share the clips (one GPU each when CUDA is there)."""
from contextlib import nullcontext
from typing import Annotated

import typer

from cli.verb import JsonOpt, Result, verb

app = typer.Typer()


def format_embed(result: Result) -> str:
    across = f" across {result['world_size']} processes" if result.get("world_size", 1) > 1 else ""
    return (f"{result['dataset']}: {result['embedded']} clip(s) embedded with {result['model']}{across} (dim "
            f"{result['dim']}, {result['frames']} frames, {result['frames_per_s']} frames/s), {result['resumed']} "
            f"already done, {result['audio']} audio image(s); {result['clips']} clip(s) in all")


@verb(app, "embed", text=format_embed,
      help="per-frame embeddings of every clip of a dataset with a catalog model (default: the default "
           "model) and the clips' audio images; a rerun resumes. Under torchrun (--nproc_per_node N -m cli "
           "embed ...) each process embeds its share of the clips on its own GPU (or CPU)")
def embed(
    dataset: Annotated[str, typer.Option("--dataset", help="dataset name")],
    model: Annotated[str | None, typer.Option("--model", help="catalog model (name, version or path); "
                                                              "default: the default model")] = None,
    no_audio: Annotated[bool, typer.Option("--no-audio", help="frames only, no audio images")] = False,
    json_out: JsonOpt = False,
) -> Result:
    from cli.progress import progress_bar
    from core.clips.shard import shard_from_env
    from core.clips.store_embed import embed_dataset

    shard = shard_from_env()
    bar = progress_bar(f"embed {dataset} ({shard.label()})" if shard.distributed else f"embed {dataset}", "clip")
    with bar if shard.is_main else nullcontext(None) as update:  # one bar: rank 0's share
        return embed_dataset(dataset, None if model in (None, "default") else model, audio=not no_audio,
                             progress=update, shard=shard)
