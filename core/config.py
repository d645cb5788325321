"""Settings read from the environment: database URL, data dir, models dir, asset cache."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Settings:
    db_url: str  # any SQLAlchemy URL (AFFECTLAB_DB_URL)
    data_dir: Path  # face crops, media, the store of trusted exports (AFFECTLAB_DATA_DIR)
    assets_dir: Path  # files extracted from registry wheels (AFFECTLAB_ASSETS_DIR)
    models_dir: Path  # checkpoints, ONNX / TorchScript exports, model cards (AFFECTLAB_MODELS_DIR)

    @property
    def crops_dir(self) -> Path:
        return self.data_dir / "crops"

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def trusted_exports(self) -> Path:
        """sha256 of every TorchScript / ONNX file this installation exported (core.inference.trust)."""
        return self.data_dir / "trusted_exports.json"


def get_settings() -> Settings:
    """Read the settings anew from the environment (cheap; tests change the env)."""
    data_dir = Path(os.environ.get("AFFECTLAB_DATA_DIR", REPO_ROOT / "data")).resolve()
    db_url = os.environ.get("AFFECTLAB_DB_URL", f"sqlite:///{REPO_ROOT / 'annotations.db'}")
    assets_dir = Path(os.environ.get("AFFECTLAB_ASSETS_DIR", data_dir / "assets")).resolve()
    return Settings(db_url=db_url, data_dir=data_dir, assets_dir=assets_dir,
                    models_dir=models_dir_from_env(data_dir))


def models_dir_from_env(data_dir: Path) -> Path:
    """AFFECTLAB_MODELS_DIR, else <repo>/models; a moved data dir (AFFECTLAB_DATA_DIR set, e.g. a
    second installation or a test) keeps its models beside its data in $AFFECTLAB_DATA_DIR/models."""
    if os.environ.get("AFFECTLAB_MODELS_DIR"):
        return Path(os.environ["AFFECTLAB_MODELS_DIR"]).resolve()
    if os.environ.get("AFFECTLAB_DATA_DIR"):
        return data_dir / "models"
    return REPO_ROOT / "models"
