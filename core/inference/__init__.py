"""Inference: a Predictor over torch / TorchScript / ONNX Runtime that turns faces into affect."""
from core.inference.prediction import FacePrediction
from core.inference.predictor import BACKENDS, Predictor, default_predictor

__all__ = ["BACKENDS", "FacePrediction", "Predictor", "default_predictor"]
