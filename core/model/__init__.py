"""The affect model: config, backbones + heads, checkpoints, FER conversion, V/A-stress prior.

Import from the submodules (core.model.config, .net, .checkpoint ...): this package imports
nothing itself, so reading a ModelConfig (the ONNX predict path) never loads torch.
"""
