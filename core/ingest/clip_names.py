"""Labels from clip file names and folders: CREMA-D (`1001_DFA_ANG_XX`), RAVDESS
(`02-01-06-01-02-01-12`) and eNTERFACE'05 (`subject 1/anger/sentence 1/s1_an_1.avi`), per
../shared/DATASETS.md. Each parser returns the label fields or raises NameError_ with the reason."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

CREMA_SENTENCES = ("IEO", "TIE", "IOM", "IWW", "TAI", "MTI", "IWL", "ITH", "DFA", "ITS", "TSI", "WSI")
CREMA_EMOTIONS = {"ANG": "anger", "DIS": "disgust", "FEA": "fear", "HAP": "happy", "NEU": "neutral", "SAD": "sad"}
CREMA_LEVELS = {"LO": "low", "MD": "medium", "HI": "high", "XX": "unspecified"}
RAVDESS_EMOTIONS = {"01": "neutral", "02": "calm", "03": "happy", "04": "sad", "05": "angry", "06": "fearful",
                    "07": "disgust", "08": "surprised"}
RAVDESS_MODALITY = {"01": "audio-video", "02": "video-only", "03": "audio-only"}
RAVDESS_CHANNEL = {"01": "speech", "02": "song"}
ENTERFACE_EMOTIONS = {"anger": "anger", "disgust": "disgust", "fear": "fear", "happiness": "happy",
                      "sadness": "sad", "surprise": "surprise"}
_SUBJECT = re.compile(r"subject\s*(\d+)", re.IGNORECASE)


class NameError_(ValueError):
    """A clip's name or folder does not follow its dataset's convention; names the field."""

    def __init__(self, field: str, reason: str):
        super().__init__(reason)
        self.field, self.reason = field, reason


@dataclass
class NameLabel:
    emotion: str  # the dataset's word, parsed by the import's taxonomy
    subject: str
    raw: dict[str, Any] = field(default_factory=dict)  # every code of the name, for the record
    skip: str | None = None  # a file kept out on purpose (e.g. RAVDESS audio-only)


def crema_d(stem: str) -> NameLabel:
    """ActorID_Sentence_Emotion_Level, e.g. 1001_DFA_ANG_XX (actor = subject)."""
    parts = stem.split("_")
    if len(parts) != 4:
        raise NameError_("file name", f"{stem!r} is not ActorID_Sentence_Emotion_Level (4 fields joined by _)")
    actor, sentence, emotion, level = parts
    if not re.fullmatch(r"\d{4}", actor):
        raise NameError_("actor", f"actor id {actor!r} is not 4 digits (1001-1091)")
    if sentence not in CREMA_SENTENCES:
        raise NameError_("sentence", f"sentence code {sentence!r} is not one of {', '.join(CREMA_SENTENCES)}")
    if emotion not in CREMA_EMOTIONS:
        raise NameError_("emotion", f"emotion code {emotion!r} is not one of {', '.join(CREMA_EMOTIONS)}")
    if level not in CREMA_LEVELS:
        raise NameError_("level", f"level {level!r} is not one of {', '.join(CREMA_LEVELS)}")
    return NameLabel(CREMA_EMOTIONS[emotion], actor, {"emotion": emotion, "level": CREMA_LEVELS[level],
                                                      "sentence": sentence, "actor": actor, "source": "file name"})


def ravdess(stem: str) -> NameLabel:
    """7 two-digit fields joined by -: modality, channel, emotion, intensity, statement, repetition,
    actor (actor = subject; audio-only files are skipped)."""
    parts = stem.split("-")
    if len(parts) != 7 or not all(re.fullmatch(r"\d\d", p) for p in parts):
        raise NameError_("file name", f"{stem!r} is not 7 two-digit fields joined by - "
                                      "(modality-channel-emotion-intensity-statement-repetition-actor)")
    modality, channel, emotion, intensity, statement, repetition, actor = parts
    checks = [("modality", modality, RAVDESS_MODALITY), ("vocal channel", channel, RAVDESS_CHANNEL),
              ("emotion", emotion, RAVDESS_EMOTIONS), ("intensity", intensity, {"01": 1, "02": 2}),
              ("statement", statement, {"01": 1, "02": 2}), ("repetition", repetition, {"01": 1, "02": 2})]
    for name, code, allowed in checks:
        if code not in allowed:
            raise NameError_(name, f"{name} code {code!r} is not one of {', '.join(allowed)}")
    if not 1 <= int(actor) <= 24:
        raise NameError_("actor", f"actor {actor!r} is not 01-24")
    if emotion == "01" and intensity == "02":
        raise NameError_("intensity", "neutral has only normal intensity (01)")
    if channel == "02" and emotion in ("07", "08"):
        raise NameError_("emotion", f"song clips use emotions 01-06, not {emotion}")
    raw = {"emotion": RAVDESS_EMOTIONS[emotion], "modality": RAVDESS_MODALITY[modality],
           "channel": RAVDESS_CHANNEL[channel], "intensity": "strong" if intensity == "02" else "normal",
           "statement": int(statement), "repetition": int(repetition), "actor": actor, "source": "file name"}
    return NameLabel(RAVDESS_EMOTIONS[emotion], actor, raw,
                     skip="RAVDESS audio-only file" if modality == "03" else None)


def enterface(rel: PurePath) -> NameLabel:
    """subject <N>/<emotion>/sentence <M>/[...]/file.avi: the label from the emotion folder and the
    subject from the `subject N` folder (file names are unreliable, DATASETS.md)."""
    folders = rel.parts[:-1]
    subjects = [m.group(1) for p in folders if (m := _SUBJECT.fullmatch(p.strip()))]
    if not subjects:
        raise NameError_("subject", f"{rel.as_posix()!r} is not under a 'subject N' folder")
    emotions = [p.strip().lower() for p in folders if p.strip().lower() in ENTERFACE_EMOTIONS]
    if len(emotions) != 1:
        raise NameError_("emotion", f"{rel.as_posix()!r} is not under exactly one emotion folder "
                                    f"({', '.join(ENTERFACE_EMOTIONS)})")
    sentence = next((m.group(1) for p in folders if (m := re.fullmatch(r"sentence\s*(\d+)", p.strip(), re.I))), None)
    raw = {"emotion": emotions[0], "subject_folder": subjects[0], "source": "folder"}
    if sentence is not None:
        raw["sentence"] = int(sentence)
    return NameLabel(ENTERFACE_EMOTIONS[emotions[0]], str(int(subjects[0])), raw)
