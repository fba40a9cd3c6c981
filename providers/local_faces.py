"""The offline face provider: YuNet + SFace when their model files are installed (sface_faces),
else, as a last resort, OpenCV's Haar cascade with a DCT of the face as its signature.

The signature recognises the same photo again (resized, re-encoded, cropped a little), not the
same person in a different photo: its characters are marked approximate. Age and sex are not
estimated offline and are reported as unknown.
"""

from pathlib import Path

import cv2
import numpy as np
from django.conf import settings

from providers import sface_faces
from providers.contract import Face, FaceAnalysis, PermanentProviderError

SIGNATURE_SIZE = 48
EMBEDDING_DIMENSIONS = 512
# A little context around the detected box, and a blur, make the signature tolerant of the few
# pixels a detection moves between two encodings of one photo (measured: >= 0.92 on re-encodes,
# about 0.4 for the mirrored face).
MARGIN = 0.1
BLUR_SIGMA = 1.5


def offline_face_provider():
    """SFace when its files are installed (a real recognition model), else the Haar signature."""
    return sface_faces.SFaceProvider() if sface_faces.model_dir() else HaarFaceProvider()


class HaarFaceProvider:
    name = "local"
    label = "Offline face detection (approximate)"
    model = "opencv-haar-frontalface"
    # Shown wherever its output appears: it recognises the same photo, not the same person.
    approximate = True

    def __init__(self) -> None:
        self.match_threshold = self.drift_threshold = settings.HAAR_MATCH_THRESHOLD

    def analyze(self, image: Path) -> FaceAnalysis:
        picture = cv2.imread(str(image), cv2.IMREAD_GRAYSCALE)
        if picture is None:
            raise PermanentProviderError("The image could not be read for face detection.", code="unreadable_image")
        picture = cv2.equalizeHist(picture)
        height, width = picture.shape
        cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
        smallest = max(24, min(height, width) // 12)
        boxes, _, weights = cascade.detectMultiScale3(
            picture, scaleFactor=1.1, minNeighbors=5, minSize=(smallest, smallest), outputRejectLevels=True
        )
        faces = [
            Face(
                bbox=(int(x), int(y), int(x + w), int(y + h)),
                embedding=_signature(_with_margin(picture, x, y, w, h)),
                det_score=float(1 - np.exp(-float(weight) / 4)),
            )
            for (x, y, w, h), weight in zip(boxes, weights, strict=True)
        ]
        return FaceAnalysis(faces=faces, provider=self.name, model=self.model)


def _with_margin(picture: np.ndarray, x: int, y: int, w: int, h: int) -> np.ndarray:
    margin = int(w * MARGIN)
    height, width = picture.shape
    return picture[max(0, y - margin) : min(height, y + h + margin), max(0, x - margin) : min(width, x + w + margin)]


def _signature(face: np.ndarray) -> np.ndarray:
    """The lowest 512 spatial frequencies of the face (without the mean), unit length."""
    square = cv2.resize(face, (SIGNATURE_SIZE, SIGNATURE_SIZE), interpolation=cv2.INTER_AREA).astype(np.float32)
    square = cv2.GaussianBlur(square, (0, 0), BLUR_SIGMA)
    spectrum = cv2.dct(square - square.mean())
    vector = spectrum[_LOWEST_FREQUENCIES].astype(np.float32)
    return vector / (np.linalg.norm(vector) or 1.0)


def _lowest_frequencies() -> tuple[np.ndarray, np.ndarray]:
    """Indices of the 512 lowest DCT frequencies (zig-zag order), without the mean."""
    order = sorted(
        ((u, v) for u in range(SIGNATURE_SIZE) for v in range(SIGNATURE_SIZE) if (u, v) != (0, 0)),
        key=lambda uv: (uv[0] + uv[1], uv[0]),
    )[:EMBEDDING_DIMENSIONS]
    rows, columns = zip(*order, strict=True)
    return np.array(rows), np.array(columns)


_LOWEST_FREQUENCIES = _lowest_frequencies()
