"""ModelConfig: everything a checkpoint needs to rebuild its model, label map and preprocessing."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from core.config_dict import from_known_keys
from core.label_schema import LabelSchema
from core.taxonomy import AFFECTNET8

HEADS = ("emotion", "va", "stress")
EMOTION_MODES = ("single", "multi", "distribution")  # softmax | sigmoid per class | softmax (KL-trained)
IMAGENET_MEAN = [0.485, 0.456, 0.406]  # RGB, on [0, 1]
IMAGENET_STD = [0.229, 0.224, 0.225]

# Per-backbone input defaults, applied by ModelConfig.for_backbone.
BACKBONE_DEFAULTS: dict[str, dict] = {
    # Keras mini-Xception: 64x64 gray, (x/255 - 0.5) / 0.5, i.e. [-1, 1]
    "mini_xception": {"input_size": 64, "channels": 1, "mean": [0.5], "std": [0.5]},
    "resnet18": {"input_size": 112, "channels": 3, "mean": IMAGENET_MEAN, "std": IMAGENET_STD},
    "mobilenet_v2": {"input_size": 112, "channels": 3, "mean": IMAGENET_MEAN,
                     "std": IMAGENET_STD},
    # per-sample feature vectors: channels = dimension D, mean/std = per-dimension standardisation
    # (training.features_data.standardisation on the training split), input_size unused
    "features_mlp": {"input_size": 1, "channels": 1, "mean": [0.0], "std": [1.0]},
}


MAX_INPUT_SIZE = 1024  # a larger model input is a damaged or hostile config (40000 -> 6 GiB)
MAX_FEATURES = 65_536  # features_mlp: the longest feature vector a config may declare


@dataclass
class ModelConfig:
    backbone: str = "mini_xception"  # key of core.model.net.BACKBONES
    classes: list[str] = field(default_factory=lambda: list(AFFECTNET8))  # emotion logit order
    multi_label: bool = False  # True: independent sigmoids per class instead of one softmax
    # how the emotion head is read: single (softmax, one class), multi (sigmoid per class, a
    # category counts when its probability reaches its threshold), distribution (softmax read
    # as probabilities over the classes, trained with KL); multi_label follows it
    emotion_mode: str = "single"
    # multi mode: per-class decision thresholds tuned on validation (None = 0.5 each)
    thresholds: dict[str, float] | None = None
    dominance: bool = False  # a dominance head: (B, 1) in [-1, 1] (tanh)
    # extra targets declared with a range (core.label_schema.TargetSpec): the head's output is
    # low + (high - low) * sigmoid(x), i.e. always inside [low, high]; others stay raw
    target_ranges: dict[str, list[float]] = field(default_factory=dict)
    label_schema: dict | None = None  # the dataset's LabelSchema.to_dict() the model was trained on
    # preprocessing: core.model.preprocess resizes the canonical crop (core.faces.crop) to
    # input_size with core.faces.crop.resize_crop, then (x / 255 - mean) / std per channel
    input_size: int = 64  # square side in pixels the crops are resized to
    channels: int = 1  # 1 = gray, 3 = RGB (preprocess converts from BGR)
    mean: list[float] = field(default_factory=lambda: [0.5])  # per channel, on [0, 1]
    std: list[float] = field(default_factory=lambda: [0.5])
    # side of the images the weights were first trained on when smaller than input_size (the
    # converted FER2013 model: 48); crops are reduced to it before the resize to input_size
    native_size: int | None = None
    extra_targets: list[str] = field(default_factory=list)  # extra scalar regression heads
    # per head: True = trained on labels, False = a prior (untrained head; use core.model.prior)
    trained: dict[str, bool] = field(default_factory=lambda: {h: False for h in HEADS})
    widths: list[int] | None = None  # backbone channel widths; None = the backbone's default
    width_mult: float = 1.0  # scales the widths (resnet18 / mobilenet_v2)
    dropout: float = 0.0  # before the linear heads
    source: str = ""  # where the weights came from (free text, shown in the UI)

    def __post_init__(self) -> None:
        max_channels = MAX_FEATURES if self.backbone == "features_mlp" else 3  # features: vector length
        for name, low, high in (("input_size", 1, MAX_INPUT_SIZE), ("channels", 1, max_channels)):
            value = getattr(self, name)
            if type(value) is not int or not low <= value <= high:  # "64" or 40000 from a file
                raise ValueError(f"{name} must be a whole number in {low}..{high}, got {value!r}")
        if self.native_size is not None and (type(self.native_size) is not int
                                             or not 1 <= self.native_size <= self.input_size):
            raise ValueError(f"native_size must be a whole number in 1..input_size, got {self.native_size!r}")
        if len(self.mean) != self.channels or len(self.std) != self.channels:
            raise ValueError(f"mean/std need {self.channels} values, got {self.mean}/{self.std}")
        if len(set(self.classes)) != len(self.classes) or not self.classes:
            raise ValueError(f"classes must be non-empty and unique: {self.classes}")
        if self.emotion_mode not in EMOTION_MODES:
            raise ValueError(f"emotion_mode must be one of {EMOTION_MODES}, got {self.emotion_mode!r}")
        if self.multi_label and self.emotion_mode == "single":  # a checkpoint from before modes
            self.emotion_mode = "multi"
        self.multi_label = self.emotion_mode == "multi"
        for name, rng in self.target_ranges.items():
            if name not in self.extra_targets or len(rng) != 2 or not float(rng[0]) < float(rng[1]):
                raise ValueError(f"target range {name}: {rng!r} must be [low, high] of an extra target")
        self.target_ranges = {k: [float(v[0]), float(v[1])] for k, v in self.target_ranges.items()}
        if self.thresholds is not None:
            self.thresholds = {str(k): float(v) for k, v in self.thresholds.items()}
        self.trained = {h: bool(self.trained.get(h, False)) for h in HEADS} | {
            k: bool(v) for k, v in self.trained.items() if k not in HEADS}

    def class_thresholds(self) -> list[float]:
        """The decision threshold of each class in class order (0.5 unless tuned)."""
        return [float((self.thresholds or {}).get(c, 0.5)) for c in self.classes]

    @property
    def named_targets(self) -> list[str]:
        """The extra targets declared with a range (the dataset's named targets)."""
        return [t for t in self.extra_targets if t in self.target_ranges]

    @classmethod
    def for_backbone(cls, backbone: str, **overrides) -> ModelConfig:
        """A config with the backbone's input defaults, then the overrides."""
        if backbone not in BACKBONE_DEFAULTS:
            raise KeyError(f"unknown backbone {backbone!r}; known: {sorted(BACKBONE_DEFAULTS)}")
        return cls(backbone=backbone, **{**BACKBONE_DEFAULTS[backbone], **overrides})

    def to_dict(self) -> dict:
        """Plain JSON-able types only (loads under torch.load(weights_only=True))."""
        d = asdict(self)
        for key in ("classes", "mean", "std", "extra_targets"):
            d[key] = list(d[key])
        d["mean"] = [float(v) for v in d["mean"]]
        d["std"] = [float(v) for v in d["std"]]
        d["widths"] = None if self.widths is None else [int(w) for w in self.widths]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        return from_known_keys(cls, d)


def schema_heads(schema: LabelSchema) -> dict:
    """ModelConfig overrides giving a model the heads a dataset's LabelSchema declares: its
    classes and emotion mode, a dominance head when it has dominance, one range-squashed head per
    named target; the schema itself is carried along (self-describing checkpoints)."""
    return {"classes": list(schema.classes), "emotion_mode": schema.emotion_mode,
            "multi_label": schema.emotion_mode == "multi",
            "dominance": bool(schema.dominance), "extra_targets": [t.name for t in schema.targets],
            "target_ranges": {t.name: [t.low, t.high] for t in schema.targets},
            "label_schema": schema.to_dict()}
