"""Inner-face parts: skin, nose, eyes, brows, mouth and lips, facial hair, makeup, glasses.

Every part is a signed-distance shape in the face plane (see :mod:`.scene`). Intersections
take the ``max`` of distances and unions the ``min``, so

    eye:   max(y_top(x) - y, y - y_bottom(x), |x - c_x| - w)                          (1)

is an almond between two lid parabolas ``y_top(x) = c_y - h (1 - ((x - c_x)/w)^2)`` and
``y_bottom(x) = c_y + 0.7 h (1 - ((x - c_x)/w)^2)``.
Left/right labels are the *person's*: ``l_eye``, ``l_brow`` and ``l_ear`` sit at ``X > 0``,
which is the image right for a frontal face (:data:`LEFT_SIDE`).
"""

from __future__ import annotations

import numpy as np

from maskstyle.data.labels import LABEL_INDEX
from maskstyle.data.synth.canvas import Canvas
from maskstyle.data.synth.geometry import pixel_coverage
from maskstyle.data.synth.params import HAIR_COLOURS
from maskstyle.data.synth.scene import Patch, Scene
from maskstyle.data.synth.shading import light_direction

LEFT_SIDE = 1
"""Sign of the face-frame ``X`` of the person's left parts (``l_eye``/``l_brow``/``l_ear``)."""

SIDES = ((LEFT_SIDE, "l"), (-LEFT_SIDE, "r"))

SCLERA = np.array([0.93, 0.91, 0.88], np.float32)
TEETH = np.array([0.93, 0.91, 0.84], np.float32)
MOUTH_INSIDE = np.array([0.30, 0.08, 0.09], np.float32)


def hair_rgb(scene: Scene) -> np.ndarray:
    h = scene.params.hair
    return np.clip(np.asarray(HAIR_COLOURS[h.colour], np.float32) * np.float32(h.tint), 0, 1)


def paint_skin(canvas: Canvas, scene: Scene) -> None:
    """Head skin: lit, grained, with a shaded nose ridge and identity freckles."""
    g, idt = scene.params.geometry, scene.params.identity
    win = scene.view.window
    if win is None:
        return
    canvas.paint(scene.head_alpha[win], scene.skin[win], LABEL_INDEX["skin"], win=win)
    a, b, _ = scene.view.axes
    # nose ridge: height h = exp(-(x/s)^2) on the nose span, shading by its slope . light
    sigma = idt.nose_width * a * 0.6
    y0, y1 = g.eye_y * b, g.nose_y * b
    win = scene.face_window(-3 * sigma, 3 * sigma, y0, y1 + 0.02 * b)
    if win is not None:
        p = scene.patch(win)
        ramp = np.clip((p.fy - y0) / (y1 - y0), 0.0, 1.0) * (p.fy < y1 + 0.02 * b)
        h = np.exp(-((p.fx / np.float32(sigma)) ** 2)) * ramp
        env = scene.params.environment
        light = scene.view.rot.T @ light_direction(env.light_azimuth, env.light_elevation)
        slope_x = -2.0 * p.fx / np.float32(sigma * sigma) * h * np.float32(0.5 * a)
        ridge = 1.0 + np.clip(-slope_x * np.float32(light[0]) * 0.6, -0.35, 0.35)
        canvas.paint(p.front, p.skin * ridge[..., None], win=win)
    if idt.freckles > 0:
        cy = (g.nose_y - 0.05) * b
        win = scene.face_window(-0.8 * a, 0.8 * a, cy - 0.22 * b, cy + 0.22 * b)
        if win is None:
            return
        p = scene.patch(win)
        table = np.random.default_rng(idt.detail_seed).random((80, 80), dtype=np.float32)
        ix = np.clip(((p.X + 1) * 40).astype(np.int64), 0, 79)
        iy = np.clip(((p.Y + 1) * 40).astype(np.int64), 0, 79)
        zone = np.abs(p.fy - cy) < 0.22 * b
        spots = (table[iy, ix] > 1.0 - 0.12 * idt.freckles) & zone & (p.front > 0)
        canvas.paint(0.15 * spots, (0.0, 0.0, 0.0), win=win)


def paint_makeup(canvas: Canvas, scene: Scene) -> None:
    """Heavy makeup: eyeshadow above each eye and blush on the cheeks (compact support)."""
    obj, g, idt = scene.params.objects, scene.params.geometry, scene.params.identity
    if not obj.makeup:
        return
    a, b, _ = scene.view.axes
    blush_rgb = np.array([0.86, 0.36, 0.40], np.float32)
    for side, _ in SIDES:
        cx, cy = side * g.eye_spacing * a, (g.eye_y - 0.6 * idt.eye_height) * b
        rx, ry = 1.25 * idt.eye_width * a, 1.9 * idt.eye_height * b
        bx, by, brx, bry = side * 0.52 * a, (g.nose_y - 0.02) * b, 0.17 * a, 0.11 * b
        for x, y, sx, sy, strength, rgb in (
            (cx, cy, rx, ry, 0.55, obj.makeup_colour),
            (bx, by, brx, bry, 0.35, blush_rgb),
        ):
            win = scene.face_window(x - sx, x + sx, y - sy, y + sy)
            if win is None:
                continue
            p = scene.patch(win)
            r2 = ((p.fx - x) / sx) ** 2 + ((p.fy - y) / sy) ** 2
            alpha = strength * np.clip(1 - r2, 0, 1) ** 2 * p.front
            colour = np.asarray(rgb, np.float32) * p.irradiance
            canvas.paint(alpha, colour, tag="makeup", win=win)


def paint_facial_hair(canvas: Canvas, scene: Scene, part: str) -> None:
    """Beard (cheeks, jaw, chin), goatee (chin) or mustache (above the upper lip).

    CelebAMask-HQ has no facial-hair class: these pixels keep the label ``skin``.
    """
    obj, g, idt = scene.params.objects, scene.params.geometry, scene.params.identity
    if part not in ("beard", "goatee", "mustache"):
        raise ValueError(f"unknown facial hair {part!r}; valid: beard, goatee, mustache")
    if not getattr(obj, part):
        return
    a, b, _ = scene.view.axes
    lip_w = idt.lip_width * a
    if part == "beard":
        win = scene.view.window
    elif part == "goatee":
        win = scene.face_window(-0.7 * lip_w, 0.7 * lip_w, g.mouth_y * b, b)
    else:
        y = (g.mouth_y - idt.upper_lip - 0.05) * b
        win = scene.face_window(-1.1 * lip_w, 1.1 * lip_w, y - 0.04 * b, y + 0.11 * b)
    if win is None:
        return
    p = scene.patch(win)
    if part == "beard":
        top = g.nose_y + 0.12 - 0.55 * np.clip(np.abs(p.X) - 0.25, 0.0, None)
        d = np.maximum((top - p.Y) * b, (g.ear_y + 0.05 - p.Y) * b)
        alpha = pixel_coverage(d) * (p.Z > -0.3) * p.head_alpha
        alpha = alpha * (1 - _mouth_hole(p))
    elif part == "goatee":
        top = (g.mouth_y + idt.lower_lip + 0.03) * b
        d = np.maximum(np.abs(p.fx) - 0.7 * lip_w, top - p.fy)
        alpha = np.clip(0.5 - d / scene.pixel, 0, 1) * p.front * p.head_alpha
    else:
        cy = (g.mouth_y - idt.upper_lip - 0.05) * b + 0.06 * b * (p.fx / lip_w) ** 2
        d = np.maximum(np.abs(p.fy - cy) - 0.03 * b, np.abs(p.fx) - 1.1 * lip_w)
        alpha = p.on_face(d)
    strands = 0.8 + 0.2 * np.cos(180.0 * p.X + 7.0 * np.sin(40.0 * p.Y))
    colour = hair_rgb(scene) * p.irradiance * strands[..., None]
    canvas.paint(0.92 * alpha, colour, LABEL_INDEX["skin"], tag=("hair_colour", part), win=win)


def _mouth_hole(p: Patch) -> np.ndarray:
    """Coverage of the lips and mouth (a beard leaves them bare)."""
    top, bottom, _, lip_w = _lip_curves(p)
    d = np.maximum(np.maximum(top - p.fy, p.fy - bottom), np.abs(p.fx) - lip_w)
    return p.on_face(d - 0.01 * p.axes[1])


def paint_nose(canvas: Canvas, scene: Scene) -> None:
    """Nose label (bridge widening to the tip, Eq. 1 style) and two nostrils."""
    g, idt = scene.params.geometry, scene.params.identity
    a, b, _ = scene.view.axes
    y0, y1 = (g.eye_y + 0.02) * b, g.nose_y * b
    wb, wt = idt.nose_bridge * a, idt.nose_width * a
    win = scene.face_window(-wt, wt, y0, y1 + 0.05 * b)
    if win is None:
        return
    p = scene.patch(win)
    fx, fy = p.fx, p.fy
    t = np.clip((fy - y0) / (y1 - y0), 0.0, 1.0)
    half = wb + (wt * 0.75 - wb) * t * t
    d_ridge = np.maximum(np.abs(fx) - half, np.maximum(y0 - fy, fy - y1))
    ex, ey = fx / wt, (fy - (y1 - 0.03 * b)) / (0.07 * b)
    d_tip = (np.sqrt(ex * ex + ey * ey) - 1.0) * 0.07 * b
    alpha = p.on_face(np.minimum(d_ridge, d_tip))
    canvas.paint(np.zeros_like(alpha), (0, 0, 0), LABEL_INDEX["nose"], label_alpha=alpha, win=win)
    for side, _ in SIDES:
        nx, ny = side * 0.45 * wt, y1 + 0.012 * b
        ex, ey = (fx - nx) / (0.28 * wt), (fy - ny) / (0.022 * b)
        d = (np.sqrt(ex * ex + ey * ey) - 1.0) * 0.022 * b
        canvas.paint(0.8 * p.on_face(d), p.skin * 0.35, win=win)


def paint_eyes(canvas: Canvas, scene: Scene) -> None:
    """Almond eyes (Eq. 1) with iris, pupil, catch-light and a lash line."""
    g, idt = scene.params.geometry, scene.params.identity
    a, b, _ = scene.view.axes
    ew, eh = idt.eye_width * a, idt.eye_height * b
    for side, prefix in SIDES:
        cx, cy = side * g.eye_spacing * a, g.eye_y * b
        win = scene.face_window(cx - 1.1 * ew, cx + 1.1 * ew, cy - 1.2 * eh, cy + eh)
        if win is None:
            continue
        p = scene.patch(win)
        fx, fy = p.fx, p.fy
        shade = 0.35 + 0.65 * p.irradiance
        dx = fx - cx
        t = np.clip(1.0 - (dx / ew) ** 2, 0.0, 1.0)
        top, bottom = cy - eh * t, cy + 0.7 * eh * t
        d_eye = np.maximum(np.maximum(top - fy, fy - bottom), np.abs(dx) - ew)
        eye = p.on_face(d_eye)
        canvas.paint(eye, SCLERA * shade, LABEL_INDEX[f"{prefix}_eye"], win=win)
        ix, iy, r = cx + idt.gaze_x * ew, cy + 0.1 * eh, idt.iris_radius * a
        dist = np.sqrt((fx - ix) ** 2 + ((fy - iy) * 0.9) ** 2)
        canvas.paint(p.on_face(dist - r) * eye, np.asarray(idt.iris_colour) * shade, win=win)
        canvas.paint(p.on_face(dist - 0.45 * r) * eye, (0.03, 0.03, 0.03), win=win)
        glint = np.sqrt((fx - ix + 0.35 * r) ** 2 + (fy - iy + 0.35 * r) ** 2) - 0.16 * r
        canvas.paint(0.85 * p.on_face(glint) * eye, (1.0, 1.0, 1.0), win=win)
        lash = np.maximum(np.abs(fy - top) - 0.011 * b, np.abs(dx) - 1.08 * ew)
        canvas.paint(0.9 * p.on_face(lash), (0.06, 0.04, 0.04), win=win)


def paint_brows(canvas: Canvas, scene: Scene) -> None:
    """Arched brows, thinning toward the temples."""
    g, idt = scene.params.geometry, scene.params.identity
    a, b, _ = scene.view.axes
    length, thick = idt.brow_length * a, idt.brow_thickness * b
    for side, prefix in SIDES:
        cx, cy = side * (g.eye_spacing * a + 0.01), (g.eye_y - g.brow_gap) * b
        span = idt.brow_arch * b + thick
        win = scene.face_window(cx - length, cx + length, cy - span, cy + thick)
        if win is None:
            continue
        p = scene.patch(win)
        dx = p.fx - cx
        t = np.clip(1.0 - (dx / length) ** 2, 0.0, 1.0)
        centre = cy - idt.brow_arch * b * t
        outward = np.clip(side * dx / length, -1.0, 1.0)
        half = 0.5 * thick * (1.0 - 0.45 * (outward + 1.0) / 2.0)
        d = np.maximum(np.abs(p.fy - centre) - half, np.abs(dx) - length)
        colour = np.asarray(idt.brow_colour, np.float32) * p.irradiance
        canvas.paint(0.95 * p.on_face(d), colour, LABEL_INDEX[f"{prefix}_brow"], win=win)


def _mouth_box(scene: Scene) -> tuple[float, float, float, float]:
    g, idt = scene.params.geometry, scene.params.identity
    a, b, _ = scene.view.axes
    w = idt.lip_width * a * 1.15
    return -w, w, (g.mouth_y - idt.upper_lip - 0.02) * b, (g.mouth_y + idt.lower_lip + 0.1) * b


def _lip_curves(p: Patch) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Upper-lip top, lower-lip bottom and the gap edges along the mouth."""
    g, idt, obj = p.params.geometry, p.params.identity, p.params.objects
    a, b, _ = p.axes
    lip_w = idt.lip_width * a * (1.12 if obj.smiling else 1.0)
    dx = p.fx
    t = np.sqrt(np.clip(1.0 - (dx / lip_w) ** 2, 0.0, 1.0))
    line = g.mouth_y * b - (0.1 * b if obj.smiling else 0.0) * (dx / lip_w) ** 2
    gap = 0.0
    if obj.smiling:
        gap = 0.06 * b
    if obj.mouth_open:
        gap += 0.045 * b
    half_gap = 0.5 * gap * t
    bow = 0.35 * idt.upper_lip * b * np.exp(-((dx / (0.15 * lip_w)) ** 2))
    top = line - half_gap - idt.upper_lip * b * t + bow
    bottom = line + half_gap + idt.lower_lip * b * t
    return top, bottom, np.stack([line - half_gap, line + half_gap]), lip_w


def paint_mouth(canvas: Canvas, scene: Scene) -> None:
    """Lips (upper/lower), and the mouth interior with teeth when smiling or open."""
    obj, idt = scene.params.objects, scene.params.identity
    win = scene.face_window(*_mouth_box(scene))
    if win is None:
        return
    p = scene.patch(win)
    fx, fy = p.fx, p.fy
    top, bottom, (gap_top, gap_bottom), lip_w = _lip_curves(p)
    side = np.abs(fx) - lip_w
    if obj.smiling or obj.mouth_open:
        d_in = np.maximum(np.maximum(gap_top - fy, fy - gap_bottom), side + 0.1 * lip_w)
        inside = p.on_face(d_in)
        colour = MOUTH_INSIDE * p.irradiance
        canvas.paint(inside, colour, LABEL_INDEX["mouth"], tag="mouth", win=win)
        if obj.smiling:
            teeth_line = gap_top + 0.6 * (gap_bottom - gap_top)
            d_teeth = np.maximum(d_in, fy - teeth_line)
            shade = 0.4 + 0.6 * p.irradiance
            canvas.paint(p.on_face(d_teeth), TEETH * shade, tag="mouth", win=win)
    lip = np.asarray(obj.lipstick_colour if obj.lipstick else idt.lip_colour, np.float32)
    sheen = 1.0 + 0.18 * np.clip(1 - ((fy - (bottom - 0.35 * (bottom - gap_bottom))) / 0.01), 0, 1)
    upper = p.on_face(np.maximum(np.maximum(top - fy, fy - gap_top), side))
    lower = p.on_face(np.maximum(np.maximum(gap_bottom - fy, fy - bottom), side))
    colour = lip * p.irradiance
    canvas.paint(upper, colour * 0.9, LABEL_INDEX["u_lip"], tag="lips", win=win)
    canvas.paint(lower, colour * sheen[..., None], LABEL_INDEX["l_lip"], tag="lips", win=win)


def paint_glasses(canvas: Canvas, scene: Scene) -> None:
    """Eyeglasses: tinted lenses, rims, bridge and temple arms (label ``eye_g``).

    The lenses do not overwrite the eyes or brows seen through them (CelebAMask-HQ merges
    ``l_eye``/``r_eye``/brows after ``eye_g``).
    """
    obj, g, idt = scene.params.objects, scene.params.geometry, scene.params.identity
    if not obj.eyeglasses:
        return
    a, b, _ = scene.view.axes
    rx, ry, rim = 1.45 * idt.eye_width * a, 0.11 * b, 0.012 * a
    cy = g.eye_y * b
    win = scene.face_window(-a, a, cy - ry - rim, cy + ry + rim)
    if win is None:
        return
    p = scene.patch(win)
    fx, fy = p.fx, p.fy
    keep = tuple(LABEL_INDEX[n] for n in ("l_eye", "r_eye", "l_brow", "r_brow"))
    frame = np.asarray(obj.glasses_colour, np.float32) * (0.5 + 0.5 * p.irradiance)
    lens_d = []
    for side, _ in SIDES:
        ex, ey = (fx - side * g.eye_spacing * a) / rx, (fy - cy) / ry
        r = np.sqrt(ex * ex + ey * ey)
        lens_d.append((r - 1.0) * min(rx, ry))
    lens_d = np.minimum(*lens_d)
    lens = p.on_face(lens_d)
    eye_g = LABEL_INDEX["eye_g"]
    tint = (0.35, 0.42, 0.5)
    canvas.paint(obj.lens_tint * lens, tint, eye_g, "eyeglasses", keep, lens, win=win)
    inner = g.eye_spacing * a - rx
    bridge = np.maximum(np.abs(fy - (cy - 0.3 * ry)) - rim, np.abs(fx) - inner - rim)
    temples = np.maximum(np.abs(fy - (cy - 0.5 * ry)) - 0.8 * rim, g.eye_spacing * a - np.abs(fx))
    d = np.minimum(np.minimum(np.abs(lens_d) - rim, bridge), temples)
    canvas.paint(p.on_face(d), frame, eye_g, "eyeglasses", keep, win=win)
