"""Inference: a Predictor over torch / TorchScript / ONNX Runtime that turns faces into affect.

Which models exist and how to load one: core.catalog (list_models, load_predictor)."""
from core.inference.prediction import FacePrediction
from core.inference.predictor import BACKENDS, Predictor

__all__ = ["BACKENDS", "FacePrediction", "Predictor"]
