"""Everything around the face: background, neck, cloth, necklace, ears, earrings, hair, hat.

Hair has three pieces, each a signed-distance shape:

- the *scalp*: on the head surface above a hairline ``Y < h(X) = h0 + 0.3 X^2`` (lower at
  the temples; bangs drop it to just above the brows), plus the sides and back of the head;
- the *shell*: outside the head silhouette, an ellipse ``(1 + volume)`` times the head's,
  cut at a style-dependent level (ears for short hair, below the jaw for bob/long/curly);
  its radius is modulated by ``1 + w sin(k theta)`` for wavy and curly hair;
- the *drape* of bob/long/curly styles: a band beside and below the head, drawn behind the
  neck and again, beside the neck, in front of the shoulders.

Scalp and shell are blended by head coverage so their union is seamless.
"""

from __future__ import annotations

import numpy as np

from maskstyle.data.labels import LABEL_INDEX
from maskstyle.data.synth.canvas import Canvas
from maskstyle.data.synth.face_parts import SIDES, hair_rgb
from maskstyle.data.synth.geometry import coverage, ellipse_distance, pixel_coverage
from maskstyle.data.synth.scene import Patch, Scene
from maskstyle.data.synth.shading import lambert, smooth_noise

_DRAPED = ("bob", "long", "curly")


def paint_background(canvas: Canvas, scene: Scene) -> None:
    bg = scene.params.background
    ca, cb = np.asarray(bg.colour_a, np.float32), np.asarray(bg.colour_b, np.float32)
    if bg.kind == "flat":
        canvas.image[:] = ca
        return
    if bg.kind == "gradient":
        ang = np.radians(bg.angle)
        u, v = scene.view.u[:1], scene.view.v[:, :1]  # separable: a row plus a column
        t = np.clip(0.5 + 0.5 * (np.float32(np.cos(ang)) * u + np.float32(np.sin(ang)) * v), 0, 1)
    elif bg.kind == "texture":
        t = smooth_noise(bg.texture_seed, scene.size, bg.texture_cells)
    else:
        raise ValueError(f"unknown background kind {bg.kind!r}; valid: flat, gradient, texture")
    canvas.image[:] = ca + t[..., None] * (cb - ca)


def _neck_centre(scene: Scene) -> float:
    g = scene.params.geometry
    return g.center_x - 0.5 * np.sin(np.radians(g.roll)) * g.head_height


def _flat_light(scene: Scene, nx: np.ndarray, ny: np.ndarray) -> np.ndarray:
    nz = np.sqrt(np.clip(1.0 - nx * nx - ny * ny, 0.05, 1.0))
    return lambert(np.stack([nx, ny, nz]).astype(np.float32), scene.params.environment)


def paint_neck(canvas: Canvas, scene: Scene) -> None:
    g, cl = scene.params.geometry, scene.params.clothing
    nc = _neck_centre(scene)
    win = scene.image_window(nc - 1.9 * cl.neck_width, nc + 1.9 * cl.neck_width, g.center_y, 1.0)
    if win is None:
        return
    p = scene.patch(win)
    du = p.u[:1] - nc  # light and width vary along rows or columns only: 1D, broadcast
    v = p.v[:, :1]
    half = cl.neck_width * (1.0 + 0.8 * np.clip((v - cl.shoulder_y) / 0.25, 0.0, 1.0) ** 2)
    d = np.maximum(np.abs(du) - half, g.center_y + 0.1 - v)
    alpha = coverage(d, scene.pixel)
    light = _flat_light(scene, np.clip(du / cl.neck_width, -1, 1) * 0.7, np.zeros_like(du))
    chin_v = g.center_y + g.head_height * 0.9
    shadow = 0.55 + 0.45 * np.clip((v - chin_v) / 0.25, 0.0, 1.0)
    skin = np.asarray(scene.params.environment.skin_rgb, np.float32) * light
    canvas.paint(alpha, skin * shadow[..., None], LABEL_INDEX["neck"], win=win)


def paint_cloth(canvas: Canvas, scene: Scene) -> None:
    cl = scene.params.clothing
    win = scene.image_window(-1.0, 1.0, cl.shoulder_y - 0.1, 1.0)
    if win is None:
        return
    p = scene.patch(win)
    du = p.u - _neck_centre(scene)
    v = p.v
    ry = 0.8
    body = ellipse_distance(du, v - (cl.shoulder_y + ry), cl.shoulder_width, ry)
    if cl.collar == "crew":
        neckline = -ellipse_distance(du, v - cl.shoulder_y, cl.neck_width * 1.15, 0.07)
    elif cl.collar == "v":
        depth = 0.28
        half = cl.neck_width * 1.2 * np.clip(1.0 - (v - cl.shoulder_y) / depth, 0.0, 1.0)
        neckline = -(np.abs(du) - half) * 0.9
    else:
        raise ValueError(f"unknown collar {cl.collar!r}; valid: crew, v")
    alpha = coverage(np.maximum(body, neckline), scene.pixel)
    du1 = du[:1]
    nx = np.clip(du1 / cl.shoulder_width, -1, 1) * 0.8
    light = _flat_light(scene, nx, np.zeros_like(du1) - 0.2)
    folds = 0.9 + 0.1 * smooth_noise(scene.params.background.texture_seed + 1, scene.size, 5)[win]
    colour = np.asarray(cl.cloth_colour, np.float32) * light * folds[..., None]
    canvas.paint(alpha, colour, LABEL_INDEX["cloth"], win=win)


def paint_necklace(canvas: Canvas, scene: Scene) -> None:
    cl, obj = scene.params.clothing, scene.params.objects
    if not obj.necklace:
        return
    nc = _neck_centre(scene)
    span = cl.neck_width * 1.5
    win = scene.image_window(nc - span, nc + span, cl.shoulder_y - 0.05, cl.shoulder_y + 0.11)
    if win is None:
        return
    p = scene.patch(win)
    du = p.u - nc
    curve = cl.shoulder_y - 0.03 + 0.12 * np.clip(1.0 - (du / span) ** 2, 0.0, 1.0)
    d = np.maximum(np.abs(p.v - curve) - 0.009, np.abs(du) - span)
    alpha = coverage(d, scene.pixel)
    canvas.paint(alpha, (0.85, 0.72, 0.35), LABEL_INDEX["neck_l"], "necklace", win=win)


def _ear_boxes(scene: Scene) -> list[tuple[int, str, float, float, float, float]]:
    """Per side: (side, prefix, centre xr, centre yr, half-width, half-height)."""
    g, idt = scene.params.geometry, scene.params.identity
    view = scene.view
    yr = float((view.rot @ np.array([0.0, g.ear_y * view.axes[1], 0.0]))[1])
    centre, half = view.silhouette_span(yr)
    sin_yaw = np.sin(np.radians(g.yaw))
    boxes = []
    for side, prefix in SIDES:
        screen = side  # X > 0 maps to the image right when frontal
        edge = centre + screen * half
        visible = float(np.clip(1.0 - 1.3 * screen * sin_yaw, 0.15, 1.5))
        hh = 0.75 * idt.ear_size
        hw = 0.42 * hh * visible
        boxes.append((side, prefix, edge + screen * 0.45 * hw, yr, hw, hh))
    return boxes


def paint_ears(canvas: Canvas, scene: Scene) -> None:
    """Ears behind the head silhouette (the head is painted over them)."""
    skin = np.asarray(scene.params.environment.skin_rgb, np.float32)
    for side, prefix, cx, cy, hw, hh in _ear_boxes(scene):
        win = scene.roll_window(cx - hw, cx + hw, cy - hh, cy + hh)
        if win is None:
            continue
        p = scene.patch(win)
        dx, dy = p.xr - cx, p.yr - cy
        d = ellipse_distance(dx, dy + 0.15 * hh * (dy > 0), hw, hh)
        light = _flat_light(scene, np.full((1, 1), 0.6 * side), np.zeros((1, 1)))
        label = LABEL_INDEX[f"{prefix}_ear"]
        canvas.paint(coverage(d, scene.pixel), skin * light * 0.92, label, win=win)
        inner = ellipse_distance(dx - 0.15 * side * hw, dy + 0.1 * hh, 0.45 * hw, 0.55 * hh)
        canvas.paint(0.5 * coverage(inner, scene.pixel), skin * light * 0.6, win=win)


def paint_earrings(canvas: Canvas, scene: Scene) -> None:
    if not scene.params.objects.earrings:
        return
    r = 0.025
    for _, _, cx, cy, _, hh in _ear_boxes(scene):
        cy = cy + 0.95 * hh
        win = scene.roll_window(cx - r, cx + r, cy - r, cy + r)
        if win is None:
            continue
        p = scene.patch(win)
        d = np.sqrt((p.xr - cx) ** 2 + (p.yr - cy) ** 2) - r
        alpha = coverage(d, scene.pixel)
        canvas.paint(alpha, (0.9, 0.78, 0.4), LABEL_INDEX["ear_r"], "earrings", win=win)


def _hair_texture(p: Patch) -> np.ndarray:
    """Strands radiating from the crown (angle around it), wavy if ``waviness`` > 0."""
    h = p.params.hair
    b = p.axes[1]
    xr, yr = p.xr, p.yr + 1.05 * b
    theta = np.arctan2(xr, yr)
    r = np.sqrt(xr * xr + yr * yr)
    phase = np.float32(h.strand_seed % 1000) * 0.37
    wave = h.waviness * 1.2 * np.sin(18.0 * r + phase)
    s = 0.55 * np.sin(70.0 * theta + wave + phase) + 0.45 * np.sin(157.0 * theta - 1.3 * phase)
    return (0.82 + 0.18 * s).astype(np.float32)


def _hair_colour(scene: Scene, p: Patch) -> np.ndarray:
    a, b, _ = p.axes
    # pseudo-normal of the hair shell for pixels off the head
    nx = np.clip(p.xr / (1.2 * a), -0.95, 0.95)
    ny = np.clip((p.yr + 0.2 * b) / (1.3 * b), -0.95, 0.95)
    shell = _flat_light(scene, nx, ny)
    light = np.where(p.hit[..., None], p.irradiance, shell)
    return hair_rgb(scene) * light * _hair_texture(p)[..., None]


def _shell_distance(p: Patch) -> np.ndarray:
    h = p.params.hair
    a, b, _ = p.axes
    if h.style == "bald":
        return np.ones(p.xr.shape, np.float32)
    vol = 0.03 if h.style == "buzz" else h.volume
    xr, yr = p.xr, p.yr + 0.04 * b
    theta = np.arctan2(xr, -yr)
    wobble = 1.0 + (0.06 if h.style == "curly" else 0.025 * h.waviness) * np.sin(14.0 * theta)
    d = ellipse_distance(xr, yr, a * (1 + vol) * wobble, b * (1 + 0.8 * vol) * wobble)
    return np.maximum(d, p.yr - _shell_level(p.params) * b)


def _shell_level(params) -> float:
    h, g = params.hair, params.geometry
    return {"buzz": g.ear_y - 0.25, "short": g.ear_y - 0.1}.get(h.style, 0.75)


def _scalp_distance(p: Patch) -> np.ndarray:
    h, g = p.params.hair, p.params.geometry
    _, b, _ = p.axes
    X, Y, Z = p.X, p.Y, p.Z
    if h.style == "bald":  # a fringe around the back of the head
        return np.maximum((0.1 - Y) * b, (Z + 0.2) * b)
    line = h.hairline + 0.3 * X * X
    if h.bangs:
        fringe = g.eye_y - g.brow_gap - 0.1 + 0.03 * np.sin(40.0 * X)
        line = np.where(np.abs(X) < 0.75, np.maximum(line, fringe), line)
    d = (Y - line) * b
    side_level = g.ear_y - 0.12 if h.style in ("buzz", "short") else g.mouth_y + 0.2
    side_x = 0.8 if h.style in ("buzz", "short") else 0.84
    sides = np.maximum((side_x - np.abs(X)) * b, (Y - side_level) * b)
    back = np.maximum((Z - 0.15) * b, (Y - (g.ear_y + 0.2)) * b)
    return np.minimum(np.minimum(d, sides), back)


def paint_drape(canvas: Canvas, scene: Scene, front: bool) -> None:
    """Bob/long/curly hair falling beside the face (``front``: the part over the shoulders)."""
    h, cl = scene.params.hair, scene.params.clothing
    if h.style not in _DRAPED:
        return
    a, b, _ = scene.view.axes
    end = {"bob": 0.85, "curly": 1.0}.get(h.style, h.length) * b
    reach = a * (1 + h.volume) * 1.2
    win = scene.roll_window(-reach, reach, 0.0, end)
    if win is None:
        return
    p = scene.patch(win)
    xr, yr = p.xr, p.yr
    half = a * (1 + h.volume) * (1.02 + 0.15 * np.clip(yr / b, 0.0, 1.0))
    half = half * (1.0 + 0.03 * h.waviness * np.sin(25.0 * yr))
    d = np.maximum(np.maximum(np.abs(xr) - half, -yr), yr - end)
    if front:
        du = np.abs(p.u - _neck_centre(scene))
        d = np.maximum(d, cl.neck_width * 1.25 - du)
    colour = _hair_colour(scene, p) * 0.85
    alpha = coverage(d, scene.pixel)
    canvas.paint(alpha, colour, LABEL_INDEX["hair"], "hair_colour", win=win)


def paint_hair(canvas: Canvas, scene: Scene) -> None:
    """Scalp hair on the head plus the shell around it (occludes forehead, temples, ears)."""
    h = scene.params.hair
    a, b, c = scene.view.axes
    reach = max(a, b, c) * (1.0 + max(h.volume, 0.03)) * 1.1
    win = scene.roll_window(-reach, reach, -reach, reach)
    if win is None:
        return
    p = scene.patch(win)
    hc = p.head_alpha
    shell = coverage(_shell_distance(p), scene.pixel)
    # pixels just outside the outline (no ray hit, partial head coverage) continue the shell
    scalp = np.where(p.hit, pixel_coverage(_scalp_distance(p)), shell)
    alpha = scalp * hc + shell * (1.0 - hc)
    if h.style == "buzz":
        alpha = alpha * 0.75
    canvas.paint(alpha, _hair_colour(scene, p), LABEL_INDEX["hair"], "hair_colour", win=win)


def paint_hat(canvas: Canvas, scene: Scene) -> None:
    """A crown over the top of the head and a brim (label ``hat``)."""
    obj, h = scene.params.objects, scene.params.hair
    if not obj.hat:
        return
    a, b, _ = scene.view.axes
    vol = 0.0 if h.style == "bald" else 0.6 * h.volume
    brim_y = -0.42 * b
    win = scene.roll_window(-a * (1.5 + vol), a * (1.5 + vol), brim_y - 0.65 * b, brim_y + 0.06 * b)
    if win is None:
        return
    p = scene.patch(win)
    xr, yr = p.xr, p.yr
    crown = np.maximum(ellipse_distance(xr, yr - brim_y, a * (1.06 + vol), 0.62 * b), yr - brim_y)
    brim = ellipse_distance(xr, yr - brim_y, a * (1.45 + vol), 0.05 * b)
    d = np.minimum(crown, brim)
    nx = np.clip(xr / (1.5 * a), -0.95, 0.95)
    ny = np.clip((yr - brim_y) / (0.7 * b), -0.95, 0.3)
    band = 1.0 - 0.35 * ((yr > brim_y - 0.1 * b) & (yr < brim_y - 0.04 * b))
    colour = np.asarray(obj.hat_colour, np.float32) * _flat_light(scene, nx, ny) * band[..., None]
    canvas.paint(coverage(d, scene.pixel), colour, LABEL_INDEX["hat"], "hat", win=win)
