"""Face detection, choice, alignment and cropping (``DETECTORS``, ``FaceCropper``)."""
from distlm.faces import choose  # noqa: F401  (registers largest, most_confident)
from distlm.faces import detectors  # noqa: F401  (registers mtcnn, haar, none)
from distlm.faces.align import eye_angle
from distlm.faces.crop import crop_face
from distlm.faces.detection import LANDMARKS, Detection
from distlm.faces.detectors import FaceDetector
from distlm.faces.options import CropOptions
from distlm.faces.pipeline import MULTIPLE, NO_FACE, OK, FaceResult, crop_faces
from distlm.faces.ray_cropper import UNREADABLE, FaceCropper, add_face_crops
from distlm.faces.registry import CHOOSERS, DETECTORS

__all__ = [
    "CHOOSERS", "DETECTORS", "LANDMARKS", "MULTIPLE", "NO_FACE", "OK", "UNREADABLE",
    "CropOptions", "Detection", "FaceCropper", "FaceDetector", "FaceResult",
    "add_face_crops", "crop_face", "crop_faces", "eye_angle",
]
