"""Words a good video prompt uses: the offline enhancer and planner choose from them, and the
language models are pointed at the styles."""

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
