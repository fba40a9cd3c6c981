"""The offline prompt enhancer: deterministic, and written for what video models respond to.

It keeps the user's words as the subject and action, and adds what a good video prompt names:
camera, lighting, style and sound, chosen from vocabularies by the style preset and by a hash of
the text, so the same prompt always gets the same enhancement.
"""

import hashlib

from providers.contract import EnhancedPrompt, EnhanceRequest

STYLES = {
    "cinematic": "cinematic film look, anamorphic lens, shallow depth of field, subtle film grain",
    "documentary": "observational documentary style, handheld camera, natural colours",
    "animation": "stylised 3D animation, soft shapes, vibrant palette",
    "noir": "black-and-white film noir, hard shadows, high contrast",
    "commercial": "polished commercial look, clean composition, crisp detail",
    "dreamy": "dreamlike atmosphere, soft focus, pastel tones, gentle bloom",
}
CAMERAS = [
    "slow dolly in",
    "smooth tracking shot alongside the subject",
    "gentle crane up revealing the setting",
    "static wide shot, locked-off tripod",
    "slow orbit around the subject",
    "close-up, then a slow pull back",
]
LIGHTING = [
    "soft golden-hour light",
    "cool blue-hour light with warm practical lamps",
    "diffused overcast daylight",
    "dramatic low-key lighting with a strong rim light",
    "bright high-key studio lighting",
    "flickering firelight and deep shadows",
]
SOUND = [
    "ambient room tone and soft footsteps",
    "gentle wind and distant birds",
    "low cinematic score swelling slowly",
    "city hum with faint traffic",
    "quiet, with the subject's breathing audible",
]
# Veo reads up to 1,024 tokens; stay well inside it.
MAX_CHARACTERS = 2000


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
