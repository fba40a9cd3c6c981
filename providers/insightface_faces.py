"""Faces with InsightFace: detection, a 512-d ArcFace embedding, age and sex per face.

The model (buffalo_l by default, licensed for non-commercial research only) is never
downloaded: when its files are missing the node and the admin say so, with the fix.
"""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
from django.conf import settings

from providers.contract import Face, FaceAnalysis, PermanentProviderError, ProviderNotConfigured

_loaded: dict[Path, object] = {}
_lock = threading.Lock()


def model_dir() -> Path:
    return Path(settings.INSIGHTFACE_ROOT) / "models" / settings.INSIGHTFACE_MODEL


def missing_model_message() -> str | None:
    folder = model_dir()
    if folder.is_dir() and any(folder.glob("*.onnx")):
        return None
    return (
        f"Face model not installed: no {settings.INSIGHTFACE_MODEL} ONNX files in {folder}. "
        f"To install it, download {settings.INSIGHTFACE_MODEL}.zip from the InsightFace model zoo "
        "(https://github.com/deepinsight/insightface/releases; licensed for non-commercial research only) and "
        f"unzip it so that the .onnx files are in {folder}; or set REELGRAPH_FACE_PROVIDER=local."
    )


def _analysis_app():
    """FaceAnalysis on CPU, loaded once per process (workers preload nothing they do not use)."""
    folder = model_dir()
    with _lock:
        if folder not in _loaded:
            problem = missing_model_message()
            if problem:
                raise ProviderNotConfigured(problem)
            from insightface.app import FaceAnalysis as InsightFaceAnalysis

            # Given a folder, FaceAnalysis loads its ONNX files and never tries to download.
            app = InsightFaceAnalysis(name=str(folder), providers=["CPUExecutionProvider"])
            app.prepare(ctx_id=-1, det_size=(640, 640))
            _loaded[folder] = app
        return _loaded[folder]


class InsightFaceProvider:
    name = "insightface"
    label = "InsightFace"
    approximate = False

    def __init__(self) -> None:
        self.model = settings.INSIGHTFACE_MODEL
        self.match_threshold = self.drift_threshold = settings.CHARACTER_MATCH_THRESHOLD

    def analyze(self, image: Path) -> FaceAnalysis:
        picture = cv2.imread(str(image), cv2.IMREAD_COLOR)  # BGR, as InsightFace expects
        if picture is None:
            raise PermanentProviderError("The image could not be read for face analysis.", code="unreadable_image")
        faces = []
        for found in _analysis_app().get(picture):
            embedding = getattr(found, "normed_embedding", None)
            if embedding is None:
                continue  # no recognition model in the pack: a face we cannot match
            x1, y1, x2, y2 = (int(v) for v in np.rint(found.bbox))
            faces.append(
                Face(
                    bbox=(x1, y1, x2, y2),
                    embedding=np.asarray(embedding, dtype=np.float32),
                    det_score=float(found.det_score),
                    age=int(found.age) if getattr(found, "age", None) is not None else None,
                    sex=(found.sex or "") if getattr(found, "gender", None) is not None else "",
                )
            )
        return FaceAnalysis(faces=faces, provider=self.name, model=self.model)
