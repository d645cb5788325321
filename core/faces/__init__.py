"""Face pipeline on BGR uint8 frames: detect, landmark, score quality and align faces."""

from core.faces.align import align_face, template
from core.faces.crop import CANONICAL_SIZE, resize_crop
from core.faces.detect import STILLS_DETECTOR, STREAM_DETECTOR, FaceDetector
from core.faces.io import ImageError, decode_image, read_image
from core.faces.landmarks import LandmarkModel
from core.faces.pipeline import FaceCrop, FacePipeline
from core.faces.quality import quality_components, quality_score
from core.faces.types import KEYPOINT_NAMES, Face

__all__ = [
    "CANONICAL_SIZE",
    "KEYPOINT_NAMES",
    "STILLS_DETECTOR",
    "STREAM_DETECTOR",
    "Face",
    "FaceCrop",
    "FaceDetector",
    "FacePipeline",
    "ImageError",
    "LandmarkModel",
    "align_face",
    "decode_image",
    "quality_components",
    "quality_score",
    "read_image",
    "resize_crop",
    "template",
]
