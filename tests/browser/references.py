"""What is drawn, compared with stored references: a screenshot of an element (or of a clipped part
of the page) against tests/browser/references/<name>.png, pixel by pixel, within a tolerance.

The screenshot is taken in the same conditions every time: the context's fixed viewport at a device
scale of 1, the page's fonts pinned to DejaVu (what Debian's Chromium draws `system-ui` with here),
animations and transitions stopped, the caret hidden, the browser's own video controls hidden (their
loading spinner turns), the mouse away from the content, and the parts that change from run to run
covered by Playwright's `mask`.

A pixel differs when one of its channels differs by more than PIXEL_THRESHOLD (out of 255); a
comparison fails when more than `share` of the pixels differ,
or when the sizes differ. On failure the actual image and a diff (the reference in grey, differing
pixels in red) are written next to the other screenshots, in var/test/screenshots/.

To accept a new drawing as the reference: REELGRAPH_UPDATE_REFERENCES=1 pytest tests/browser/<file>,
then look at the images in tests/browser/references/ before committing them.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
from django.conf import settings
from PIL import Image

REFERENCES = Path(__file__).parent / "references"
SCREENSHOTS = settings.VAR_DIR / "screenshots"
PIXEL_THRESHOLD = 8  # out of 255; repeated runs here differ by at most 1, on a few anti-aliased pixels
SHARE = 0.002  # 0.2 % of the pixels

PINNED = """
*, *::before, *::after { font-family: "DejaVu Sans" !important; }
code, kbd, pre, samp { font-family: "DejaVu Sans Mono" !important; }
*, *::before, *::after { caret-color: transparent !important; }
video::-webkit-media-controls { display: none !important; }
"""


def updating() -> bool:
    return os.environ.get("REELGRAPH_UPDATE_REFERENCES") == "1"


def pin_the_drawing(page) -> None:
    """Fonts pinned, the mouse moved off the content (no hover state), fonts loaded."""
    page.add_style_tag(content=PINNED)
    page.mouse.move(0, 0)
    page.evaluate("document.fonts.ready.then(() => true)")
    # What changed last is drawn in the next frames: wait for two.
    page.evaluate("new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))")


def screenshot(target, *, mask=(), clip=None) -> Image.Image:
    """`target` is a Locator (its element) or a Page (with `clip`, a part of it)."""
    options = {"animations": "disabled", "caret": "hide", "scale": "css", "mask": list(mask), "type": "png"}
    if clip is not None:
        options["clip"] = clip
    return Image.open(io.BytesIO(target.screenshot(**options))).convert("RGB")


def differing(actual: Image.Image, reference: Image.Image, threshold: int = PIXEL_THRESHOLD) -> np.ndarray:
    """A boolean image: True where a channel differs by more than `threshold` (same sizes only)."""
    a = np.asarray(actual, dtype=np.int16)
    b = np.asarray(reference, dtype=np.int16)
    return (np.abs(a - b) > threshold).any(axis=2)


def diff_image(reference: Image.Image, changed: np.ndarray) -> Image.Image:
    shown = np.asarray(reference.convert("L").convert("RGB"), dtype=np.uint8) // 2 + 64
    shown[changed] = (255, 0, 0)
    return Image.fromarray(shown)


def assert_looks_like(actual: Image.Image, name: str, *, share: float = SHARE) -> None:
    """Compare `actual` with the reference `name`; write it as the reference when updating."""
    path = REFERENCES / f"{name}.png"
    if updating():
        REFERENCES.mkdir(exist_ok=True)
        actual.save(path, optimize=True)
        return
    assert path.exists(), f"no reference {path.name}: create it with REELGRAPH_UPDATE_REFERENCES=1 (see {__name__})"
    reference = Image.open(path).convert("RGB")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    if actual.size != reference.size:
        actual.save(SCREENSHOTS / f"{name}-actual.png")
        raise AssertionError(
            f"{name}: drawn {actual.size[0]}x{actual.size[1]}, reference {reference.size[0]}x"
            f"{reference.size[1]}; actual in {SCREENSHOTS}"
        )
    changed = differing(actual, reference)
    found = changed.mean()
    if found > share:
        actual.save(SCREENSHOTS / f"{name}-actual.png")
        diff_image(reference, changed).save(SCREENSHOTS / f"{name}-diff.png")
        raise AssertionError(
            f"{name}: {found:.2%} of the pixels differ from the reference (allowed {share:.2%}); "
            f"see {name}-actual.png and {name}-diff.png in {SCREENSHOTS}"
        )
