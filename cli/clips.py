"""`affectlab embed`: per-frame embeddings (and audio images) of every clip of a dataset, resumable;
`affectlab predict-clips`: a clip model's stored prediction for every clip of a dataset. Under
torchrun the processes share the clips (one GPU each when CUDA is there)."""
from contextlib import AbstractContextManager, nullcontext
from typing import Annotated, Any

import typer

from cli.verb import JsonOpt, Result, verb

app = typer.Typer()


def rank_bar(desc: str, shard: Any) -> AbstractContextManager:
    """Rank 0's progress bar over its share of the clips (the other ranks draw none)."""
    from cli.progress import progress_bar

    if not shard.is_main:
        return nullcontext(None)
    return progress_bar(f"{desc} ({shard.label()})" if shard.distributed else desc, "clip")


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
    from core.clips.shard import shard_from_env
    from core.clips.store_embed import embed_dataset

    shard = shard_from_env()
    with rank_bar(f"embed {dataset}", shard) as update:
        return embed_dataset(dataset, None if model in (None, "default") else model, audio=not no_audio,
                             progress=update, shard=shard)


def format_predict(result: Result) -> str:
    across = f" across {result['world_size']} processes" if result.get("world_size", 1) > 1 else ""
    embedded = result.get("embed") or {}
    first = f"{embedded['embedded']} clip(s) embedded first, " if embedded.get("embedded") else ""
    return (f"{result['dataset']}: {first}{result['predicted']} clip prediction(s) stored as "
            f"{result['model_version']}{across}, {result['skipped_existing']} already predicted, "
            f"{result['no_input']} without face or audio; {result['clips']} clip(s) in all")


@verb(app, "predict-clips", text=format_predict,
      help="store a clip model's prediction for every clip of a dataset (embedding the clips first with "
           "the image model it names); a rerun skips predicted clips. Under torchrun the processes share "
           "the clips")
def predict_clips(
    dataset: Annotated[str, typer.Option("--dataset", help="dataset name")],
    model: Annotated[str, typer.Option("--model", help="clip model: run:N, file:... or a .pt / .onnx file")],
    batch_size: Annotated[int, typer.Option("--batch-size", help="clips per forward pass")] = 64,
    json_out: JsonOpt = False,
) -> Result:
    from core.clips.shard import shard_from_env
    from core.clips.store_predict import predict_dataset_clips

    shard = shard_from_env()
    with rank_bar(f"predict-clips {dataset}", shard) as update:
        return predict_dataset_clips(dataset, model, batch_clips=batch_size, progress=update, shard=shard)
