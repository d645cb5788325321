"""Label values in words for history rows and captions: one emotion, a multi-label set, a
distribution, named targets, V/A(/D) and stress (plain text; callers escape it for markdown)."""
from __future__ import annotations

from typing import Any

NO_VALUE = "—"


def distribution_text(dist: dict[str, float] | None) -> str:
    """'Happy 60%, Sad 40%' (largest first); {} is "no emotion"."""
    if not dist:
        return "no emotion"
    return ", ".join(f"{c} {p:.0%}" for c, p in sorted(dist.items(), key=lambda kv: (-kv[1], kv[0])))


def value_text(field: str, value: Any) -> str:
    """One field of a label in words: 'emotions Anger, Fear', 'distribution Happy 60%, Sad 40%',
    'extraversion 0.52', 'valence +0.20', 'emotion Happy'."""
    if field == "emotions":
        return "emotions " + (", ".join(map(str, value)) or "none")
    if field == "distribution":
        return "distribution " + distribution_text(value)
    if field == "targets":
        return ", ".join(f"{k} {float(v):.2f}" for k, v in (value or {}).items()) or "no targets"
    if field.startswith("target:"):
        return f"{field.removeprefix('target:')} {float(value):.2f}"
    if isinstance(value, float):
        return f"{field} {value:+.2f}"
    return f"{field} {value}"


def values_text(values: dict[str, Any] | None) -> str:
    """The set fields of a label, comma-separated; '—' without values, '(cleared)' when all are None."""
    if not values:
        return NO_VALUE
    parts = [value_text(k, v) for k, v in values.items() if v is not None]
    return ", ".join(parts) or "(cleared)"


def history_text(after: dict[str, Any] | None, note: str = "") -> str:
    """What one history row set, else its note, else '—'."""
    if after and any(v is not None for v in after.values()):
        return values_text(after)
    return note or NO_VALUE


def above_threshold(outputs: dict[str, Any], default: float = 0.5) -> list[str]:
    """The categories whose sigmoid probability reaches their (tuned) threshold, most probable first."""
    thresholds = outputs.get("thresholds") or {}
    probs = outputs.get("emotions") or {}
    return sorted((c for c, p in probs.items() if p >= thresholds.get(c, default)), key=lambda c: -probs[c])


def prediction_text(mode: str, prediction: dict[str, Any]) -> str:
    """A model's emotion output in words for the schema's mode: 'Anger, Fear' (every category
    above its threshold), 'Happy 70%, Sad 30%' (a distribution) or 'Happy (82%)' (single)."""
    outputs = prediction.get("outputs") or {}
    if mode == "multi" and outputs.get("emotions") is not None:
        return ", ".join(above_threshold(outputs)) or "no category above its threshold"
    if mode == "distribution" and outputs.get("distribution") is not None:
        return distribution_text(outputs["distribution"])
    if prediction.get("emotion") is None:
        return "no emotion"
    conf = prediction.get("confidence")
    return f"{prediction['emotion']}" + (f" ({conf:.0%})" if conf is not None else "")


def schema_text(schema: Any) -> str:
    """A LabelSchema in one line: 'multi-label · 26 classes (emotic26) · V/A/D on 1..10 · no
    stress · targets: sentiment -3..3'."""
    mode = {"single": "single-label", "multi": "multi-label", "distribution": "distribution"}[schema.emotion_mode]
    listed = f" ({schema.class_list})" if schema.class_list != "custom" else ""
    low, high = schema.va_scale
    parts = [mode, f"{len(schema.classes)} classes{listed}",
             f"V/A{'/D' if schema.dominance else ''} on {low:g}..{high:g}", "stress" if schema.stress else "no stress"]
    if schema.targets:
        parts.append("targets: " + ", ".join(f"{t.name} {t.low:g}..{t.high:g}" for t in schema.targets))
    return " · ".join(parts)


def _cell(field: str, value: Any) -> str:
    if field == "emotions":
        return ", ".join(map(str, value)) or "none"
    if field == "distribution":
        return distribution_text(value)
    return value_text(field, value) if field == "targets" else str(value)


def edit_row(edit: dict[str, Any]) -> dict[str, Any]:
    """A recent-edits row for a table: list and dict label values in words (a table column
    holds one type), the time as text."""
    out = {k: _cell(k, v) if isinstance(v, list | dict) else v for k, v in edit.items()}
    if hasattr(edit.get("when"), "strftime"):
        out["when"] = edit["when"].strftime("%Y-%m-%d %H:%M")
    return out


def outputs_text(outputs: dict[str, Any] | None) -> str:
    """A stored prediction's richer outputs (predictions.outputs) in words: categories above
    their thresholds, the distribution, dominance, named targets; '—' without any."""
    o = outputs or {}
    parts = []
    if o.get("emotions") is not None:
        parts.append("categories " + (", ".join(above_threshold(o)) or "none"))
    if o.get("distribution") is not None:
        parts.append("distribution " + distribution_text({c: p for c, p in o["distribution"].items() if p >= 0.005}))
    if o.get("dominance") is not None:
        parts.append(f"dominance {o['dominance']:+.2f}")
    if o.get("targets"):
        parts.append(value_text("targets", o["targets"]))
    return ", ".join(parts) or NO_VALUE
