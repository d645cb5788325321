"""Emotion taxonomies (AffectNet-8, FER2013-7, custom) and parsing of emotion names and codes."""
from __future__ import annotations

from dataclasses import dataclass

AFFECTNET8 = ["Neutral", "Happy", "Sad", "Surprise", "Fear", "Disgust", "Anger", "Contempt"]
FER7 = ["Angry", "Disgust", "Fear", "Happy", "Sad", "Surprise", "Neutral"]

# lower-case spelling -> concept; a class name maps to the concept of its spelling
SYNONYMS: dict[str, str] = {}
for _concept, _words in {
    "neutral": ["neutral", "neutrality", "calm", "ne"],
    "happy": ["happy", "happiness", "happily", "joy", "joyful", "ha", "hap", "smile"],
    "sad": ["sad", "sadness", "sa"],
    "surprise": ["surprise", "surprised", "su", "sur"],
    "fear": ["fear", "fearful", "afraid", "scared", "fe"],
    "disgust": ["disgust", "disgusted", "di", "dis"],
    "anger": ["anger", "angry", "an", "ang", "mad"],
    "contempt": ["contempt", "contemptuous", "co"],
}.items():
    for _w in _words:
        SYNONYMS[_w] = _concept


class LabelError(ValueError):
    """A value that is not a valid label (unknown emotion, out-of-range number ...)."""


def concept(name: str) -> str:
    key = name.strip().lower()
    return SYNONYMS.get(key, key)


@dataclass(frozen=True)
class Taxonomy:
    name: str
    classes: tuple[str, ...]

    def parse(self, value: object) -> str:
        """Return the class name for a code (int or digit string), a name or a synonym."""
        if value is None or (isinstance(value, float) and value != value):
            raise LabelError("emotion is missing")
        text = str(value).strip()
        if isinstance(value, bool):
            raise LabelError(f"emotion {value!r} is not a class name or code")
        if text.lstrip("-").isdigit() or (isinstance(value, float) and value.is_integer()):
            try:  # "²" and "--5" pass isdigit but are no number; "9" * 400 overflows
                code = int(float(text))
            except (ValueError, OverflowError):
                raise LabelError(f"emotion {text[:40]!r} is not a class name or code") from None
            if not 0 <= code < len(self.classes):
                raise LabelError(f"emotion code {code} is out of range 0..{len(self.classes) - 1} "
                                 f"for taxonomy {self.name}")
            return self.classes[code]
        wanted = concept(text)
        for cls in self.classes:
            if cls.lower() == text.lower() or concept(cls) == wanted:
                return cls
        raise LabelError(f"unknown emotion {text!r} for taxonomy {self.name} "
                         f"(known: {', '.join(self.classes)})")

    def code(self, name: str) -> int:
        return self.classes.index(name)

    def to_dict(self) -> dict:
        return {"name": self.name, "classes": list(self.classes)}


TAXONOMIES: dict[str, Taxonomy] = {
    "affectnet8": Taxonomy("affectnet8", tuple(AFFECTNET8)),
    "fer7": Taxonomy("fer7", tuple(FER7)),
}


def get_taxonomy(name: str = "affectnet8", classes: list[str] | None = None) -> Taxonomy:
    """A built-in taxonomy by name, or a custom one from a class list."""
    if classes:
        if len(set(c.lower() for c in classes)) != len(classes):
            raise LabelError(f"custom taxonomy {name!r} repeats a class: {classes}")
        return Taxonomy(name, tuple(classes))
    if name not in TAXONOMIES:
        raise LabelError(f"unknown taxonomy {name!r}; built in: {', '.join(TAXONOMIES)}")
    return TAXONOMIES[name]
