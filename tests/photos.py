"""Real photos of people that are available offline, without any download, and "another photo" of
one of them: the same face cropped, scaled down, tilted, darker and re-encoded."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import cv2
import numpy as np
import skimage.data

from tests.graphs import FIXTURES

# insightface's own package data: t1.jpg (six people) and an aligned 112x112 crop of Tom Hanks.
INSIGHTFACE_IMAGES = Path(next(iter(importlib.util.find_spec("insightface").submodule_search_locations))) / "data"
INSIGHTFACE_IMAGES = INSIGHTFACE_IMAGES / "images"
ASTRONAUT = FIXTURES / "astronaut.png"
CAT = FIXTURES / "chelsea.png"
SIX_PEOPLE = INSIGHTFACE_IMAGES / "t1.jpg"
TOM_HANKS = INSIGHTFACE_IMAGES / "Tom_Hanks_54745.png"


def cameraman(folder: Path) -> Path:
    """scikit-image's `camera`: a man with a camera, grayscale."""
    path = folder / "cameraman.png"
    cv2.imwrite(str(path), skimage.data.camera())
    return path


def another_photo(source: Path, folder: Path, *, angle: float = 8.0) -> Path:
    """Not the same file nor the same pixels: a tighter crop, two thirds the size, tilted, 30 %
    darker and saved as a low-quality JPEG."""
    picture = cv2.imread(str(source), cv2.IMREAD_COLOR)
    height, width = picture.shape[:2]
    picture = picture[height // 20 : height - height // 20, width // 20 : width - width // 20]
    picture = cv2.resize(picture, None, fx=2 / 3, fy=2 / 3, interpolation=cv2.INTER_AREA)
    height, width = picture.shape[:2]
    tilt = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
    picture = cv2.warpAffine(picture, tilt, (width, height), borderMode=cv2.BORDER_REFLECT)
    picture = np.clip(picture.astype(np.float32) * 0.7, 0, 255).astype(np.uint8)
    path = folder / f"{source.stem}-another.jpg"
    cv2.imwrite(str(path), picture, [cv2.IMWRITE_JPEG_QUALITY, 30])
    return path


def crop(source: Path, box: tuple[int, int, int, int], folder: Path, name: str) -> Path:
    """The part of a photo around one face (with half a face of margin): a photo of that one person."""
    picture = cv2.imread(str(source), cv2.IMREAD_COLOR)
    x1, y1, x2, y2 = box
    margin = (x2 - x1) // 2
    path = folder / f"{name}.png"
    cv2.imwrite(str(path), picture[max(0, y1 - margin) : y2 + margin, max(0, x1 - margin) : x2 + margin])
    return path


def one_of_six(folder: Path) -> Path:
    """The man with the largest face in t1.jpg, cut out of the group photo (a face Haar finds too)."""
    return crop(SIX_PEOPLE, (462, 266, 576, 417), folder, "one-of-six")
