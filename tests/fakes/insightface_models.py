"""Tiny ONNX models with the shapes InsightFace routes by, so its real loading and inference code runs.

- a detector with SCRFD's output layout (3 strides, 2 anchors, boxes and 5 keypoints) that
  "finds" faces at fixed places of its 160x160 input;
- a 112x112 -> 512 recogniser that really computes from the aligned face (pooling, then a fixed
  random projection), so the same face gives the same embedding and another face another one;
- a 96x96 -> 3 gender/age model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13
DETECTOR_SIZE = 160
STRIDES = (8, 16, 32)
ANCHORS = 2


def _value(name: str, shape) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def _save(graph: onnx.GraphProto, path: Path) -> None:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def detector(path: Path, faces: list[tuple[float, float, float, float, float]]) -> None:
    """`faces` are (x1, y1, x2, y2, score) in the detector's 160x160 input."""
    outputs: dict[str, np.ndarray] = {}
    for stride in STRIDES:
        cells = DETECTOR_SIZE // stride
        count = cells * cells * ANCHORS
        scores, boxes, keypoints = np.zeros((count, 1)), np.zeros((count, 4)), np.zeros((count, 10))
        for x1, y1, x2, y2, score in faces:
            if stride != 16:
                continue  # every face on the middle stride, one anchor each
            col, row = round((x1 + x2) / 2 / stride), round((y1 + y2) / 2 / stride)
            cx, cy = col * stride, row * stride
            anchor = (row * cells + col) * ANCHORS
            scores[anchor] = score
            boxes[anchor] = [(cx - x1) / stride, (cy - y1) / stride, (x2 - cx) / stride, (y2 - cy) / stride]
            w, h = x2 - x1, y2 - y1
            points = [(0.3, 0.38), (0.7, 0.38), (0.5, 0.58), (0.35, 0.78), (0.65, 0.78)]
            keypoints[anchor] = [
                value for px, py in points for value in ((x1 + px * w - cx) / stride, (y1 + py * h - cy) / stride)
            ]
        outputs[f"score_{stride}"], outputs[f"bbox_{stride}"], outputs[f"kps_{stride}"] = scores, boxes, keypoints
    order = [f"{kind}_{stride}" for kind in ("score", "bbox", "kps") for stride in STRIDES]
    # Every output is its constant plus 0 x the mean of the image, so the input is really consumed.
    nodes = [
        helper.make_node("ReduceMean", ["input.1"], ["mean"], keepdims=0, name="reduce"),
        helper.make_node("Constant", [], ["zero"], value=numpy_helper.from_array(np.zeros((), np.float32)), name="c0"),
        helper.make_node("Mul", ["mean", "zero"], ["nothing"], name="scale_nothing"),
    ]
    initializers = []
    for name in order:
        initializers.append(numpy_helper.from_array(outputs[name].astype(np.float32), f"{name}_const"))
        nodes.append(helper.make_node("Add", [f"{name}_const", "nothing"], [name], name=f"out_{name}"))
    graph = helper.make_graph(
        nodes,
        "scrfd_fake",
        [_value("input.1", ["batch", 3, DETECTOR_SIZE, DETECTOR_SIZE])],
        [_value(name, list(outputs[name].shape)) for name in order],
        initializers,
    )
    _save(graph, path)


def _pool_and_project(path: Path, name: str, size: int, pool: int, width: int, weights, bias) -> None:
    cells = size // pool
    features = 3 * cells * cells
    graph = helper.make_graph(
        [
            helper.make_node("AveragePool", ["data"], ["pooled"], kernel_shape=[pool, pool], strides=[pool, pool]),
            helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
            helper.make_node("MatMul", ["flat", "weights"], ["projected"]),
            helper.make_node("Add", ["projected", "bias"], ["fc1"]),
        ],
        name,
        [_value("data", ["batch", 3, size, size])],
        [_value("fc1", ["batch", width])],
        [
            numpy_helper.from_array(weights(features).astype(np.float32), "weights"),
            numpy_helper.from_array(bias.astype(np.float32), "bias"),
        ],
    )
    _save(graph, path)


def recogniser(path: Path) -> None:
    rng = np.random.default_rng(112)
    _pool_and_project(path, "arcface_fake", 112, 16, 512, lambda n: rng.standard_normal((n, 512)), np.zeros(512))


def gender_age(path: Path) -> None:
    rng = np.random.default_rng(96)

    def weights(n):
        w = rng.standard_normal((n, 3)) * 0.1
        w[:, 2] *= 0.05
        return w

    _pool_and_project(path, "genderage_fake", 96, 32, 3, weights, np.array([0.0, 0.1, 0.36]))


def model_pack(root: Path, name: str, faces, *, with_attributes: bool = True) -> Path:
    """A model folder laid out as InsightFace expects: <root>/models/<name>/*.onnx."""
    folder = root / "models" / name
    folder.mkdir(parents=True, exist_ok=True)
    detector(folder / "det_10g.onnx", faces)
    recogniser(folder / "w600k_r50.onnx")
    if with_attributes:
        gender_age(folder / "genderage.onnx")
    return folder
