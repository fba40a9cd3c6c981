"""The offline prompt enhancer: deterministic, and written for what video models respond to.

It keeps the user's words as the subject and action, and adds what a good video prompt names:
camera, lighting, style and sound, chosen from vocabularies by the style preset and by a hash of
the text, so the same prompt always gets the same enhancement.
"""

import hashlib

from providers import local_storyboard
from providers.contract import (
    EnhancedPrompt,
    EnhanceRequest,
    PlannedStoryboard,
    RewrittenShot,
    ShotRewriteRequest,
    StoryboardRequest,
)
from providers.vocabulary import CAMERAS, LIGHTING, SOUND, STYLES

# Veo reads up to 1,024 tokens; stay well inside it.
MAX_CHARACTERS = 2000
STORYBOARD_MODEL = "reelgraph-storyboard-v1"


class LocalTextProvider:
    name = "local"
    label = "Offline enhancer"
    model = "reelgraph-rules-v1"

    def enhance(self, request: EnhanceRequest) -> EnhancedPrompt:
        text = " ".join(request.text.split()).rstrip(".")
        seed = int(hashlib.sha256(text.encode()).hexdigest(), 16)
        parts = [
            f"{text}.",
            f"Camera: {CAMERAS[seed % len(CAMERAS)]}.",
            f"Lighting: {LIGHTING[(seed // 7) % len(LIGHTING)]}.",
            f"Style: {STYLES.get(request.style or '', STYLES['cinematic'])}.",
            f"Audio: {SOUND[(seed // 49) % len(SOUND)]}.",
        ]
        if request.image is not None:
            parts.insert(1, "Keep the look of the reference image: its subject, colours and framing.")
        return EnhancedPrompt(text=" ".join(parts)[:MAX_CHARACTERS], provider=self.name, model=self.model)

    def storyboard(self, request: StoryboardRequest) -> PlannedStoryboard:
        return PlannedStoryboard(local_storyboard.plan(request), provider=self.name, model=STORYBOARD_MODEL)

    def rewrite_shot(self, request: ShotRewriteRequest, *, timeout: float | None = None) -> RewrittenShot:
        return RewrittenShot(local_storyboard.rewrite(request), provider=self.name, model=STORYBOARD_MODEL)
