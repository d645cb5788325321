"""ClipConfig: everything a clip-model checkpoint needs to rebuild itself (kind, widths, label
schema and tasks, N frames, sampling rule, audio params, the frozen members of a fusion model)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from core.config_dict import from_known_keys
from core.label_schema import LabelSchema, TargetSpec

KINDS = ("transformer", "mean_mlp", "fusion", "audio", "av_concat", "av_cross")
VISUAL_KINDS = ("transformer", "mean_mlp")
AV_KINDS = ("audio", "av_concat", "av_cross")
POOLING = ("cls", "mean")
MODALITIES = ("fused", "visual", "audio")  # per-modality ablation of the audio-visual kinds


def schema_tasks(schema: LabelSchema) -> list[str]:
    """Every task a schema can label: emotion, va, dominance, stress, targets."""
    tasks = ["emotion", "va"]
    tasks += ["dominance"] if schema.dominance else []
    tasks += ["stress"] if schema.stress else []
    tasks += ["targets"] if schema.targets else []
    return tasks


def head_dims(schema: LabelSchema, tasks: list[str]) -> dict[str, int]:
    """Output width of each task head."""
    dims = {"emotion": len(schema.classes), "va": 2, "dominance": 1, "stress": 1,
            "targets": len(schema.targets)}
    return {t: dims[t] for t in tasks}


def merge_schemas(a: LabelSchema, a_tasks: list[str], b: LabelSchema, b_tasks: list[str]
                  ) -> tuple[LabelSchema, list[str]]:
    """One schema for a fusion model: the emotions of the first member that predicts them, every
    named target of both (first wins on a name clash), V/A, dominance and stress when either has them."""
    emo = a if "emotion" in a_tasks or "emotion" not in b_tasks else b
    targets: dict[str, TargetSpec] = {}
    for s, tasks in ((a, a_tasks), (b, b_tasks)):
        if "targets" in tasks:
            for t in s.targets:
                targets.setdefault(t.name, t)
    schema = LabelSchema(classes=emo.classes, emotion_mode=emo.emotion_mode, class_list=emo.class_list,
                         va_scale=emo.va_scale, dominance=a.dominance or b.dominance,
                         stress=a.stress or b.stress, targets=tuple(targets.values()))
    wanted = set(a_tasks) | set(b_tasks)
    return schema, [t for t in schema_tasks(schema) if t in wanted]


@dataclass
class ClipConfig:
    kind: str = "transformer"  # one of KINDS
    schema: dict[str, Any] = field(default_factory=lambda: LabelSchema().to_dict())
    tasks: list[str] = field(default_factory=lambda: ["emotion", "va"])
    frames: int = 16  # N: sequence length (positional embeddings)
    input_dim: int = 128  # D of the per-frame embeddings
    d_model: int = 128  # transformer / fusion width
    layers: int = 2  # self-attention blocks (transformer) or cross-attention blocks (fusion, av_cross)
    heads: int = 4
    dropout: float = 0.1
    pooling: str = "cls"  # cls | mean
    hidden: int = 256  # MLP width (baseline, fusion's shared MLP, late concat)
    audio: dict[str, Any] | None = None  # core.audio.AudioParams.to_dict() for AV kinds
    members: list[dict[str, Any]] = field(default_factory=list)  # fusion: the two frozen ClipConfigs
    sampling: dict[str, Any] | None = None  # core.clips.sampling.SamplingRule.to_dict()
    embedder: str = ""  # the image model whose features the frames hold (model version)
    source: str = ""  # free text shown in the UI

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"clip model kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if self.pooling not in POOLING:
            raise ValueError(f"pooling {self.pooling!r} is not one of {', '.join(POOLING)}")
        for name in ("frames", "input_dim", "d_model", "layers", "heads", "hidden"):
            value = getattr(self, name)
            if type(value) is not int or not 1 <= value <= 65_536:
                raise ValueError(f"{name} must be a whole number in 1..65536, got {value!r}")
        possible = schema_tasks(self.label_schema)
        if not self.tasks or (bad := [t for t in self.tasks if t not in possible]):
            raise ValueError(f"tasks {self.tasks} must be a non-empty subset of {possible} for this schema"
                             + (f" ({', '.join(bad)} not available)" if self.tasks else ""))
        if self.kind in AV_KINDS and self.audio is None:
            raise ValueError(f"a {self.kind} model needs its audio params")
        if self.kind == "fusion" and len(self.members) != 2:
            raise ValueError("a fusion model needs exactly two member configs")

    @property
    def label_schema(self) -> LabelSchema:
        return LabelSchema.from_dict(self.schema)

    @property
    def head_dims(self) -> dict[str, int]:
        return head_dims(self.label_schema, self.tasks)

    @property
    def has_audio(self) -> bool:
        return self.kind in AV_KINDS

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ClipConfig:
        return from_known_keys(cls, d)
