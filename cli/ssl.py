"""`affectlab ssl ...`: the semi-supervised stages of training/ssl.py, one verb each.

Split the dataset first: `affectlab split --preset 70/30`, then `--preset 70/20/10` (applied to
the labelled part): pretrain/ssl (no labels used), classifier, finetune (held-out subjects).
"""
from dataclasses import fields
from typing import Annotated, Any, Literal

import typer

from cli.verb import JsonOpt, Result, verb, with_options

app = typer.Typer(no_args_is_help=True)

DatasetOpt = Annotated[str, typer.Option(help="dataset name (split 70/30, then 70/20/10)")]
ModalityOpt = Annotated[Literal["features", "crops"], typer.Option(
    help="features: features_mlp on OpenFace vectors; crops: a small mini_xception on face crops")]
KindsOpt = Annotated[str | None, typer.Option(
    help="comma-separated feature kinds (default: openface_au,openface_gaze,openface_pose,openface_landmarks2d)")]
EpochsOpt = Annotated[int | None, typer.Option(help="epochs (default: SSLConfig's)")]
LrOpt = Annotated[float | None, typer.Option(help="learning rate (default: SSLConfig's)")]
BatchOpt = Annotated[int | None, typer.Option("--batch-size", help="samples per step (default: SSLConfig's)")]
COMMON = {  # every ssl verb's options besides its own: (type, default)
    "modality": (ModalityOpt, "features"),
    "kinds": (KindsOpt, None),
    "batch_size": (BatchOpt, None),
    "seed": (Annotated[int, typer.Option(help="random seed")], 0),
    "device": (Annotated[str, typer.Option(help="cpu | cuda | cuda:N")], "cpu"),
}


def ssl_config(common: dict[str, Any], **stage: Any):
    """An SSLConfig from the COMMON options and the stage's (None = SSLConfig's default)."""
    from training.ssl import SSLConfig

    known = {f.name for f in fields(SSLConfig)}
    given = {k: v for k, v in stage.items() if v is not None and k in known}
    if common["kinds"]:
        given["kinds"] = [k.strip() for k in common["kinds"].split(",") if k.strip()]
    return SSLConfig(modality=common["modality"], seed=common["seed"], device=common["device"], **given)


@verb(app, "pretrain", help="pre-train an encoder on the pretrain and ssl splits without labels")
@with_options(COMMON)
def pretrain(
    dataset: DatasetOpt,
    epochs: EpochsOpt = None,
    lr: LrOpt = None,
    out_dir: Annotated[str | None, typer.Option(help="folder of encoder checkpoints (default: models dir/ssl)")] = None,
    json_out: JsonOpt = False,
    **common: Any,
) -> Result:
    """Masked-feature reconstruction (features) or SimCLR (crops); prints the encoder checkpoint."""
    from training.ssl import pretrain_encoder

    cfg = ssl_config(common, pretrain_epochs=epochs, pretrain_lr=lr,
                     pretrain_batch_size=common["batch_size"], out_dir=out_dir)
    return pretrain_encoder(dataset, cfg)


@verb(app, "classify", help="train the multi-task heads on the classifier split, from an encoder or scratch")
@with_options(COMMON)
def classify(
    dataset: DatasetOpt,
    init: Annotated[str | None, typer.Option(help="encoder checkpoint from `ssl pretrain` (default: scratch)")] = None,
    probe: Annotated[bool, typer.Option("--probe", help="linear probe: the encoder stays frozen")] = False,
    freeze_epochs: Annotated[int | None, typer.Option(help="epochs with the encoder frozen first")] = None,
    epochs: EpochsOpt = None,
    lr: LrOpt = None,
    json_out: JsonOpt = False,
    **common: Any,
) -> Result:
    """Evaluated on the held-out frames of the finetune subjects; one Run row per call."""
    from training.ssl import train_classifier

    cfg = ssl_config(common, epochs=epochs, batch_size=common["batch_size"],
                     freeze_epochs=freeze_epochs, **({"probe_lr": lr} if probe else {"lr": lr}))
    return train_classifier(dataset, cfg, init=init, probe=probe)


@verb(app, "finetune", help="personalise a classifier on each finetune subject's frames")
@with_options(COMMON)
def finetune(
    dataset: DatasetOpt,
    init: Annotated[str, typer.Option(help="classifier checkpoint from `ssl classify`")],
    subject: Annotated[list[str] | None, typer.Option(
        help="subject to fine-tune on (repeatable; default: every subject of the finetune split)")] = None,
    epochs: EpochsOpt = None,
    lr: LrOpt = None,
    json_out: JsonOpt = False,
    **common: Any,
) -> Result:
    """Low learning rate; each subject's last frames are held out and report before/after."""
    from training.ssl import finetune_subject, finetune_subjects

    cfg = ssl_config(common, finetune_epochs=epochs, finetune_lr=lr, batch_size=common["batch_size"])
    subjects = subject or finetune_subjects(dataset, cfg)
    if not subjects:
        raise ValueError(f"dataset {dataset!r} has no subjects in the {cfg.finetune_split} split")
    return {"dataset": dataset, "init": init,
            "subjects": [finetune_subject(dataset, s, cfg, init=init) for s in subjects]}


@verb(app, "compare", help="all stages, each from the encoder and from scratch, with the gains")
@with_options(COMMON)
def compare(
    dataset: DatasetOpt,
    pretrain_epochs: Annotated[int | None, typer.Option(help="encoder pre-training epochs")] = None,
    epochs: Annotated[int | None, typer.Option(help="probe and classifier epochs")] = None,
    finetune_epochs: Annotated[int | None, typer.Option(help="per-subject fine-tuning epochs")] = None,
    json_out: JsonOpt = False,
    **common: Any,
) -> Result:
    """training.ssl.run_ssl_pipeline: pre-train, probe, classifier, per-subject fine-tuning."""
    from training.ssl import run_ssl_pipeline

    cfg = ssl_config(common, pretrain_epochs=pretrain_epochs, epochs=epochs,
                     finetune_epochs=finetune_epochs, batch_size=common["batch_size"])
    return run_ssl_pipeline(dataset, modality=cfg.modality, seed=cfg.seed, config=cfg)
