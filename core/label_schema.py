"""The label schema a dataset declares: emotion mode and classes, V/A(/D) scale, stress, named targets."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from core.taxonomy import AFFECTNET8, FER7, LabelError

EMOTION_MODES = ("single", "multi", "distribution")

EMOTIC26 = ("Affection", "Anger", "Annoyance", "Anticipation", "Aversion", "Confidence", "Disapproval",
            "Disconnection", "Disquietment", "Doubt/Confusion", "Embarrassment", "Engagement", "Esteem",
            "Excitement", "Fatigue", "Fear", "Happiness", "Pain", "Peace", "Pleasure", "Sadness",
            "Sensitivity", "Suffering", "Surprise", "Sympathy", "Yearning")
MOSEI6 = ("Happy", "Sad", "Anger", "Surprise", "Disgust", "Fear")  # CMU-MOSEI label column order
# MAFW's 11 single emotions in the order its loaders use (index 0-10); the compound (multi-expression)
# labels join several of them with "_" (DATASETS.md: 32 compound classes, not 43)
MAFW11 = ("Anger", "Disgust", "Fear", "Happiness", "Neutral", "Sadness", "Surprise", "Contempt", "Anxiety",
          "Helplessness", "Disappointment")
OCEAN = ("extraversion", "neuroticism", "agreeableness", "conscientiousness", "openness")
FIV2_TARGETS = (*OCEAN, "interview")

BUILTIN_CLASSES: dict[str, tuple[str, ...]] = {
    "affectnet8": tuple(AFFECTNET8), "fer7": tuple(FER7), "emotic26": EMOTIC26, "mosei6": MOSEI6,
    "mafw11": MAFW11}

# spelling (lower case) -> class name, per built-in list; AffectNet/FER synonyms live in core.taxonomy
CLASS_SYNONYMS: dict[str, dict[str, str]] = {
    "emotic26": {"disquitement": "Disquietment", "doubt": "Doubt/Confusion", "confusion": "Doubt/Confusion",
                 "doubt_confusion": "Doubt/Confusion", "doubt-confusion": "Doubt/Confusion",
                 "happy": "Happiness", "sad": "Sadness", "angry": "Anger", "surprised": "Surprise",
                 "fearful": "Fear", "tired": "Fatigue"},
    "mosei6": {"happiness": "Happy", "joy": "Happy", "sadness": "Sad", "angry": "Anger", "surprised": "Surprise",
               "disgusted": "Disgust", "fearful": "Fear", "afraid": "Fear"},
    "mafw11": {"happy": "Happiness", "sad": "Sadness", "angry": "Anger", "surprised": "Surprise",
               "fearful": "Fear", "disgusted": "Disgust", "contemptuous": "Contempt", "anxious": "Anxiety",
               "helpless": "Helplessness", "disappointed": "Disappointment"},
}


@dataclass(frozen=True)
class TargetSpec:
    """A named continuous target with its allowed range (e.g. extraversion in [0, 1])."""
    name: str
    low: float = 0.0
    high: float = 1.0

    def check(self, value: Any) -> float:
        """The value as a float inside [low, high], else LabelError naming the target."""
        try:
            x = float(value)
        except (TypeError, ValueError):
            raise LabelError(f"{self.name} {value!r} is not a number") from None
        if math.isnan(x) or not self.low <= x <= self.high:
            raise LabelError(f"{self.name} {x} is outside [{self.low:g}, {self.high:g}]")
        return x


def _safe_name(name: str) -> str:
    text = str(name).strip()
    if not text or len(text) > 60 or any(ord(c) < 32 for c in text):
        raise LabelError(f"target name {text[:60]!r} must be 1-60 printable characters")
    return text


@dataclass(frozen=True)
class LabelSchema:
    """What one dataset's labels hold; stored as JSON on the dataset (datasets.label_schema)."""
    classes: tuple[str, ...] = tuple(AFFECTNET8)
    emotion_mode: str = "single"  # single | multi | distribution
    class_list: str = "custom"  # a BUILTIN_CLASSES key when the list is built in
    va_scale: tuple[float, float] = (-1.0, 1.0)  # the scale the source used (stored values are in [-1, 1])
    dominance: bool = False
    stress: bool = True
    targets: tuple[TargetSpec, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.emotion_mode not in EMOTION_MODES:
            raise LabelError(f"emotion mode {self.emotion_mode!r} is not one of {', '.join(EMOTION_MODES)}")
        if not self.classes or len(set(self.classes)) != len(self.classes):
            raise LabelError("the class list must be non-empty and without duplicates")
        names = [t.name for t in self.targets]
        if len(set(names)) != len(names):
            raise LabelError(f"duplicate target names in {names}")
        reserved = {"emotion", "emotions", "distribution", "valence", "arousal", "dominance", "stress"}
        if clash := reserved & set(names):
            raise LabelError(f"target names {sorted(clash)} are reserved label fields")

    # -- names -------------------------------------------------------------------------------
    def class_name(self, value: Any) -> str:
        """The class for a name, synonym or 0-based code; LabelError otherwise."""
        from core.taxonomy import Taxonomy

        text = str(value).strip()
        syn = CLASS_SYNONYMS.get(self.class_list, {})
        if text.lower() in syn and syn[text.lower()] in self.classes:
            return syn[text.lower()]
        return Taxonomy(self.class_list, self.classes).parse(value)

    def target(self, name: str) -> TargetSpec:
        for t in self.targets:
            if t.name == name:
                return t
        raise LabelError(f"unknown target {name!r} (declared: {', '.join(t.name for t in self.targets) or 'none'})")

    # -- values ------------------------------------------------------------------------------
    def check_emotions(self, values: Any) -> list[str]:
        """A multi-label set as class names in class-list order (an empty list means "none")."""
        if isinstance(values, str):
            raise LabelError("emotions must be a list of class names, not one string")
        names = {self.class_name(v) for v in values}
        return [c for c in self.classes if c in names]

    def check_distribution(self, values: dict[str, Any]) -> dict[str, float]:
        """Intensities per class -> probabilities summing to 1; all zero -> {} ("no emotion")."""
        out: dict[str, float] = {}
        for k, v in values.items():
            name = self.class_name(k)
            if name in out:
                raise LabelError(f"class {name!r} appears twice in the distribution")
            try:
                x = float(v)
            except (TypeError, ValueError):
                raise LabelError(f"intensity of {name} {v!r} is not a number") from None
            if math.isnan(x) or x < 0:
                raise LabelError(f"intensity of {name} {x} must be a number >= 0")
            out[name] = x
        total = sum(out.values())
        if total == 0:
            return {}
        return {c: out[c] / total for c in self.classes if out.get(c, 0.0) > 0}

    def check_targets(self, values: dict[str, Any]) -> dict[str, float]:
        return {self.target(k).name: self.target(k).check(v) for k, v in values.items()}

    # -- storage -----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"emotion_mode": self.emotion_mode, "classes": list(self.classes), "class_list": self.class_list,
                "va_scale": list(self.va_scale), "dominance": self.dominance, "stress": self.stress,
                "targets": [{"name": t.name, "low": t.low, "high": t.high} for t in self.targets]}

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None, *, classes: list[str] | None = None) -> LabelSchema:
        """Read a stored schema; None (a dataset made before schemas) is single-label over `classes`."""
        if not d:
            return cls(classes=tuple(classes or AFFECTNET8))
        targets = tuple(TargetSpec(_safe_name(t["name"]), float(t.get("low", 0.0)), float(t.get("high", 1.0)))
                        for t in d.get("targets", []))
        return cls(classes=tuple(d.get("classes") or classes or AFFECTNET8),
                   emotion_mode=d.get("emotion_mode", "single"), class_list=d.get("class_list", "custom"),
                   va_scale=tuple(d.get("va_scale", (-1.0, 1.0))), dominance=bool(d.get("dominance", False)),
                   stress=bool(d.get("stress", True)), targets=targets)


def emotic_schema() -> LabelSchema:
    """EMOTIC: 26 categories, several per person; V/A/D on 1..10."""
    return LabelSchema(classes=EMOTIC26, emotion_mode="multi", class_list="emotic26", va_scale=(1.0, 10.0),
                       dominance=True, stress=False)


def mosei_schema() -> LabelSchema:
    """CMU-MOSEI: a distribution over 6 emotions (intensities 0..3) and sentiment -3..3 as a target."""
    return LabelSchema(classes=MOSEI6, emotion_mode="distribution", class_list="mosei6", stress=False,
                       targets=(TargetSpec("sentiment", -3.0, 3.0),))


def fiv2_schema() -> LabelSchema:
    """First Impressions V2: the Big Five traits and "interview" in [0, 1]; no emotion labels."""
    return LabelSchema(classes=MOSEI6, emotion_mode="distribution", class_list="mosei6", stress=False,
                       targets=tuple(TargetSpec(n) for n in FIV2_TARGETS))


def mafw_schema(*, multi: bool = False) -> LabelSchema:
    """MAFW: one of 11 emotions per clip (single_label.txt), or the compound set of several
    (multi_label.txt, labels joined by "_") as a multi-label set over the same 11."""
    return LabelSchema(classes=MAFW11, emotion_mode="multi" if multi else "single", class_list="mafw11",
                       stress=not multi)


BUILTIN_SCHEMAS = {"emotic": emotic_schema, "mosei": mosei_schema, "fiv2": fiv2_schema, "mafw": mafw_schema,
                   "mafw-multi": lambda: mafw_schema(multi=True)}


def to_unit_scale(value: float, scale: tuple[float, float]) -> float:
    """A value on the source scale (e.g. 1..10) mapped linearly onto [-1, 1]."""
    low, high = scale
    return 2.0 * (float(value) - low) / (high - low) - 1.0
