"""Mini-Xception port: TF 'same' padding rules and float parity of the first block with TFLite."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from core.model.mini_xception import MaxPoolSame, MiniXception, tf_same_pad


@pytest.mark.parametrize("size,kernel,stride,expected", [
    (60, 3, 2, (0, 1)), (15, 3, 2, (1, 1)), (8, 3, 2, (0, 1)), (64, 1, 2, (0, 0)),
    (15, 1, 2, (0, 0)), (62, 3, 1, (1, 1)), (7, 7, 2, (3, 3)), (4, 3, 2, (0, 1))])
def test_tf_same_pad(size, kernel, stride, expected):
    assert tf_same_pad(size, kernel, stride) == expected


def test_maxpool_same_is_asymmetric_on_even_sizes():
    x = torch.full((1, 1, 4, 4), -5.0)
    x[..., 1, 1] = 9.0  # TF windows start at 0 and 2 (pad 0 before, 1 after): only (0, 0) sees it
    x[..., 3, 3] = 7.0
    y = MaxPoolSame(3, 2)(x)
    assert y.tolist() == [[[[9.0, -5.0], [-5.0, 7.0]]]]  # -inf padding never wins
    assert F.max_pool2d(x, 3, 2, padding=1).tolist() == [[[[9.0, 9.0], [9.0, 9.0]]]]


def test_feature_map_shape():
    net = MiniXception().eval()
    assert net(torch.zeros(2, 1, 64, 64)).shape == (2, 128, 4, 4)
    assert net.feature_dim == 128


@pytest.mark.filterwarnings("ignore:Warning. Enabling `experimental_preserve_all_tensors`")
def test_first_block_matches_tflite_float_layers(fer_model, tflite_path):
    """The TFLite copy keeps the stem and block 1 in float32 (int8 weights start in block 2), so
    these activations must agree to float rounding: checks layouts, BN eps and the padding."""
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_path=str(tflite_path), experimental_preserve_all_tensors=True)
    interp.allocate_tensors()
    by_name = {d["name"]: d["index"] for d in interp.get_tensor_details()}
    add_1 = next(i for n, i in by_name.items() if n.endswith("add_1_1/Add"))
    x = np.random.default_rng(1).uniform(-1, 1, (1, 64, 64, 1)).astype(np.float32)
    interp.set_tensor(interp.get_input_details()[0]["index"], x)
    interp.invoke()
    ref = torch.from_numpy(interp.get_tensor(add_1)).permute(0, 3, 1, 2)
    b = fer_model.backbone
    with torch.no_grad():
        t = torch.from_numpy(x).permute(0, 3, 1, 2)
        t = F.relu(b.bn2(b.conv2(F.relu(b.bn1(b.conv1(t))))))
        ours = b.blocks[0](t)
    assert ours.shape == ref.shape == (1, 16, 30, 30)
    assert (ours - ref).abs().max().item() < 1e-4
