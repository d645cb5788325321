"""Relabel editors for the richer label schemas: multi-label toggle chips with keyboard keys, a
distribution editor (classes and intensities, normalised live, shown as bars), a dominance slider
and one slider per named target. Each *_ui draws widgets keyed under `key` and returns the values;
`edited_values` reads back only the fields the annotator changed (a save supersedes only those)."""
from __future__ import annotations

from typing import Any

import streamlit as st

from core.label_schema import LabelSchema, TargetSpec
from ui.charts import class_balance_figure
from ui.charts_modes import category_counts_figure, distribution_figure
from ui.data import label_schema
from ui.label_format import above_threshold, distribution_text
from ui.text import md

# chip shortcuts: digits, then letters the page does not use (a accept, s skip, u undo; Streamlit
# reserves c and r)
CHIP_KEYS = tuple("1234567890") + tuple("bdefghijklmnopqtvwxyz")
MAX_INTENSITY = 3.0  # CMU-MOSEI's intensity scale; only the ratios matter after normalising
TOL = 1e-6


def schema_of(ds: dict[str, Any]) -> LabelSchema:
    """The label schema of a dataset row of ui.data.datasets (a dataset without one is
    single-label over its classes)."""
    stored = ds.get("label_schema")
    if stored is not None:
        return stored if isinstance(stored, LabelSchema) else LabelSchema.from_dict(stored, classes=ds["classes"])
    return label_schema(ds["name"])


# -- multi-label -------------------------------------------------------------------------------
def _toggle(state: str, cls: str) -> None:
    chosen = list(st.session_state[state])
    st.session_state[state] = [c for c in chosen if c != cls] if cls in chosen else [*chosen, cls]


def _clear(state: str) -> None:
    st.session_state[state] = []


def emotion_chips_ui(classes: list[str], current: list[str] | None, *, key: str) -> list[str]:
    """One toggle chip per class (keys 1-9, 0, then letters); returns the chosen classes in
    class order ([] = none of them)."""
    state = f"{key}-emotions"
    st.session_state.setdefault(state, list(current or []))
    cols = st.columns(min(4, len(classes)))
    for i, cls in enumerate(classes):
        on = cls in st.session_state[state]
        cols[i % len(cols)].button(md(cls), key=f"{key}-c{i}", type="primary" if on else "secondary",
                                   icon=":material/check:" if on else None, width="stretch",
                                   shortcut=CHIP_KEYS[i] if i < len(CHIP_KEYS) else None,
                                   on_click=_toggle, args=(state, cls))
    chosen = [c for c in classes if c in st.session_state[state]]
    c1, c2 = st.columns([4, 1])
    c1.caption("chosen: " + md(", ".join(chosen) or "none"))
    c2.button("Clear", key=f"{key}-cclear", type="tertiary", on_click=_clear, args=(state,),
              disabled=not chosen)
    return chosen


# -- distribution ------------------------------------------------------------------------------
def initial_intensities(dist: dict[str, float] | None) -> dict[str, float]:
    """Stored probabilities as intensities on the 0..3 slider (largest at 3, steps of 0.05)."""
    if not dist:
        return {}
    top = max(dist.values()) or 1.0
    return {c: round(p / top * MAX_INTENSITY * 20) / 20 for c, p in dist.items() if p > 0}


def normalise(intensities: dict[str, float]) -> dict[str, float]:
    """Intensities -> probabilities summing to 1 (all zero -> {}: no emotion)."""
    total = sum(v for v in intensities.values() if v > 0)
    return {c: v / total for c, v in intensities.items() if v > 0} if total > 0 else {}


def distribution_ui(classes: list[str], current: dict[str, float] | None, *, key: str) -> dict[str, float]:
    """Pick the classes present and their intensities; the normalised distribution is shown as
    bars as you go and returned ({} = no emotion)."""
    start = initial_intensities(current)
    picked_key = f"{key}-dist"
    st.session_state.setdefault(picked_key, [c for c in classes if c in start])
    picked = st.multiselect("Emotions present", classes, key=picked_key,
                            help="Then set how strongly each shows (0-3); the bars show the distribution")
    intensities: dict[str, float] = {}
    for c in picked:
        skey = f"{key}-int{classes.index(c)}"
        st.session_state.setdefault(skey, start.get(c, 1.0))
        intensities[c] = float(st.slider(f"{md(c)} intensity", 0.0, MAX_INTENSITY, step=0.05, key=skey))
    dist = normalise({c: intensities[c] for c in classes if c in intensities})
    if dist:
        st.plotly_chart(distribution_figure(dist, classes), key=f"{key}-dist-bars",
                        config={"displayModeBar": False})
    st.caption("distribution: " + md(distribution_text(dist)))
    return dist


# -- dominance and named targets --------------------------------------------------------------
def dominance_ui(current: float | None, *, key: str, scale: tuple[float, float]) -> float:
    st.session_state.setdefault(f"{key}-d", 0.0 if current is None else float(current))
    return float(st.slider("Dominance", -1.0, 1.0, step=0.01, key=f"{key}-d",
                           help=f"stored in [-1, 1]; the source scale was {scale[0]:g}..{scale[1]:g}"))


def _step(t: TargetSpec) -> float:
    return round((t.high - t.low) / 100, 6) or 0.01


def traits_ui(targets: tuple[TargetSpec, ...], current: dict[str, float] | None, *, key: str) -> dict[str, float]:
    """One slider per named target over its range (unlabelled ones start at the middle)."""
    out: dict[str, float] = {}
    cur = current or {}
    for i, t in enumerate(targets):
        skey = f"{key}-t{i}"
        st.session_state.setdefault(skey, float(cur.get(t.name, (t.low + t.high) / 2)))
        out[t.name] = float(st.slider(md(t.name), float(t.low), float(t.high), step=_step(t), key=skey,
                                      help=None if t.name in cur else "not labelled yet"))
    return out


def mode_editor_ui(schema: LabelSchema, sample: dict[str, Any], *, key: str) -> None:
    """The emotion editor of a multi-label or distribution schema (single-label: the caller's buttons)."""
    if schema.emotion_mode == "multi":
        emotion_chips_ui(list(schema.classes), sample.get("emotions"), key=key)
    elif schema.emotion_mode == "distribution":
        distribution_ui(list(schema.classes), sample.get("distribution"), key=key)


def extra_fields_ui(schema: LabelSchema, sample: dict[str, Any], *, key: str) -> None:
    """Dominance (when the schema has it) and the named-target sliders."""
    if schema.dominance:
        dominance_ui(sample.get("dominance"), key=key, scale=schema.va_scale)
    if schema.targets:
        st.markdown("**Traits**")
        traits_ui(schema.targets, sample.get("targets"), key=key)


# -- what changed ------------------------------------------------------------------------------
def _moved(before: float | None, after: float, default: float) -> bool:
    return abs((default if before is None else float(before)) - after) > TOL


def edited_values(schema: LabelSchema, sample: dict[str, Any], *, key: str) -> dict[str, Any]:
    """edit_label keyword arguments for the mode fields the annotator changed in the editor."""
    ss, out = st.session_state, {}
    if schema.emotion_mode == "multi" and f"{key}-emotions" in ss:
        chosen = [c for c in schema.classes if c in ss[f"{key}-emotions"]]
        current = sample.get("emotions")
        if (current is None and chosen) or (current is not None and set(chosen) != set(current)):
            out["emotions"] = chosen
    if schema.emotion_mode == "distribution" and f"{key}-dist" in ss:
        start = initial_intensities(sample.get("distribution"))
        now = {c: float(ss.get(f"{key}-int{schema.classes.index(c)}", start.get(c, 1.0)))
               for c in ss[f"{key}-dist"]}
        if set(now) != set(start) or any(abs(now[c] - start[c]) > TOL for c in now):
            out["distribution"] = normalise({c: now[c] for c in schema.classes if c in now})
    if schema.dominance and f"{key}-d" in ss and _moved(sample.get("dominance"), ss[f"{key}-d"], 0.0):
        out["dominance"] = float(ss[f"{key}-d"])
    cur = sample.get("targets") or {}
    traits = {t.name: float(ss[f"{key}-t{i}"]) for i, t in enumerate(schema.targets)
              if f"{key}-t{i}" in ss and _moved(cur.get(t.name), ss[f"{key}-t{i}"], (t.low + t.high) / 2)}
    if traits:
        out["targets"] = traits
    return out


def accepted_values(schema: LabelSchema, prediction: dict[str, Any]) -> dict[str, Any]:
    """The mode fields of a prediction an annotator accepts: every category at or above its
    threshold, the distribution, dominance, and the targets unless they are a prior."""
    outputs, flags, out = prediction.get("outputs") or {}, prediction.get("flags") or {}, {}
    if schema.emotion_mode == "multi" and outputs.get("emotions") is not None:
        out["emotions"] = above_threshold(outputs)
    if schema.emotion_mode == "distribution" and outputs.get("distribution") is not None:
        out["distribution"] = schema.check_distribution(outputs["distribution"])
    if schema.dominance and outputs.get("dominance") is not None and flags.get("dominance") != "prior":
        out["dominance"] = float(outputs["dominance"])
    if outputs.get("targets") and flags.get("targets") != "prior":
        names = {t.name: t for t in schema.targets}
        out["targets"] = {k: min(max(float(v), names[k].low), names[k].high)
                          for k, v in outputs["targets"].items() if k in names}
    return {k: v for k, v in out.items() if v or k in ("emotions", "distribution")}


def balance_ui(summary: dict[str, Any], schema: LabelSchema, *, key: str) -> None:
    """Class balance: emotions per split (single-label), else samples per category."""
    if schema.emotion_mode == "single":
        st.plotly_chart(class_balance_figure(summary["emotion_by_split"], list(schema.classes)), key=key)
    elif summary.get("by_category"):
        what = "samples with the category" if schema.emotion_mode == "multi" else "samples (dominant class)"
        st.plotly_chart(category_counts_figure(summary["by_category"], list(schema.classes), what), key=key)
    else:
        st.caption("No sample has an emotion label yet.")


def labelled_count(summary: dict[str, Any], schema: LabelSchema) -> int:
    """Samples with the schema's main label: an emotion, a multi-label set, a distribution, else
    (a targets-only schema) any named target."""
    cov = summary.get("coverage") or {}
    if schema.emotion_mode == "single":
        return int(summary["labelled"])
    field = "emotions" if schema.emotion_mode == "multi" else "distribution"
    return int(cov.get(field) or (cov.get("targets", 0) if schema.targets else 0))
