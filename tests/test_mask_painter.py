"""The mask painter: its NumPy state against brute-force references, and the widget headless."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
import torch

from maskstyle.data.labels import LABEL_INDEX, LABELS, PALETTE
from maskstyle.widgets.mask_painter import (
    ALPHA,
    MaskPainter,
    MaskPainterState,
    brush_footprint,
    legend_html,
    overlay,
)

H, W = 12, 15


def brute_footprint(shape, points, radius):
    """Pixel by pixel: distance from the pixel centre to the nearest point of the polyline."""
    out = np.zeros(shape, dtype=bool)
    segs = list(zip(points[:-1], points[1:])) if len(points) > 1 else [(points[0], points[0])]
    for i in range(shape[0]):
        for j in range(shape[1]):
            best = math.inf
            for (x0, y0), (x1, y1) in segs:
                dx, dy = x1 - x0, y1 - y0
                length2 = dx * dx + dy * dy
                t = 0.0 if length2 == 0 else ((j - x0) * dx + (i - y0) * dy) / length2
                t = min(1.0, max(0.0, t))
                best = min(best, math.hypot(j - (x0 + t * dx), i - (y0 + t * dy)))
            out[i, j] = best <= radius
    return out


@pytest.mark.parametrize(
    "points, radius",
    [([(4.0, 5.0)], 2.5), ([(1.0, 1.0), (12.3, 9.7)], 1.2), ([(0, 11), (7, 2), (14, 11)], 2.0)],
)
def test_brush_footprint_matches_brute_force(points, radius):
    np.testing.assert_array_equal(
        brush_footprint((H, W), points, radius), brute_footprint((H, W), points, radius)
    )


def test_a_dot_is_a_disc_of_the_right_area():
    hit = brush_footprint((101, 101), [(50, 50)], 20)
    assert abs(hit.sum() - math.pi * 400) / (math.pi * 400) < 0.02


def base_map() -> np.ndarray:
    labels = np.zeros((H, W), dtype=np.int64)
    labels[2:10, 3:12] = LABEL_INDEX["skin"]
    labels[4:6, 5:7] = LABEL_INDEX["l_eye"]
    return labels


def test_paint_erase_undo_reset():
    state = MaskPainterState(torch.from_numpy(base_map()))
    first = base_map()
    changed = state.paint([(6.0, 5.0), (10.0, 5.0)], "hair", 1.0)
    hit = brute_footprint((H, W), [(6.0, 5.0), (10.0, 5.0)], 1.0)
    expected = np.where(hit, LABEL_INDEX["hair"], first)
    np.testing.assert_array_equal(state.label_map(), expected)
    assert changed == int((expected != first).sum()) > 0
    assert state.edited_pixels == changed and state.can_undo

    # erase removes only the chosen label under the brush
    before = state.label_map()
    state.erase([(5.0, 4.0)], "l_eye", 3.0)
    hit = brute_footprint((H, W), [(5.0, 4.0)], 3.0)
    was_eye = before == LABEL_INDEX["l_eye"]
    np.testing.assert_array_equal(state.label_map(), np.where(hit & was_eye, 0, before))
    assert (state.label_map()[hit & ~was_eye] == before[hit & ~was_eye]).all()

    # painting what is already there is no edit (nothing to undo for it)
    depth = len(state._undo)
    assert state.paint([(0.0, 0.0)], "background", 0.5) == 0 and len(state._undo) == depth

    assert state.undo()
    np.testing.assert_array_equal(state.label_map(), before)
    assert state.reset() > 0
    np.testing.assert_array_equal(state.label_map(), first)
    assert state.undo()  # reset is undoable
    np.testing.assert_array_equal(state.label_map(), before)
    assert state.undo() and not state.undo()
    np.testing.assert_array_equal(state.label_map(), first)


def test_label_map_is_an_int64_copy():
    state = MaskPainterState(base_map().astype(np.uint8))
    out = state.label_map()
    assert out.dtype == np.int64 and out.shape == (H, W)
    out[:] = 5
    assert (state.label_map() != 5).any()


def test_undo_depth_is_bounded():
    state = MaskPainterState(base_map(), max_undo=3)
    for k in range(6):
        state.paint([(float(k), 0.0)], "hair", 0.6)
    assert sum(state.undo() for _ in range(10)) == 3


def test_bad_input_is_named():
    with pytest.raises(ValueError, match=r"\[H, W\]"):
        MaskPainterState(np.zeros((2, 3, 4), np.int64))
    with pytest.raises(TypeError, match="integer labels"):
        MaskPainterState(np.zeros((3, 3), np.float32))
    with pytest.raises(ValueError, match="labels are 0..18"):
        MaskPainterState(np.full((3, 3), 19))
    state = MaskPainterState(base_map())
    with pytest.raises(ValueError, match="unknown label 'beard'"):
        state.paint([(1, 1)], "beard", 1)
    with pytest.raises(ValueError, match="radius must be >= 0"):
        state.paint([(1, 1)], "hair", -1)
    with pytest.raises(ValueError, match="at least one"):
        state.paint([], "hair", 1)


def test_overlay_colours_labels_and_keeps_background():
    image = np.full((H, W, 3), 200, dtype=np.uint8)
    labels = base_map()
    out = overlay(image, labels, alpha=0.5)
    skin = labels == LABEL_INDEX["skin"]
    expected = np.round(0.5 * 200 + 0.5 * np.asarray(PALETTE[LABEL_INDEX["skin"]]))
    np.testing.assert_array_equal(out[skin], np.broadcast_to(expected, out[skin].shape))
    np.testing.assert_array_equal(out[labels == 0], image[labels == 0])


def test_legend_names_all_19_classes():
    html = legend_html()
    assert all(f"{i} {name}<" in html for i, name in enumerate(LABELS))
    assert html.count("background:rgb") == 19


def test_widget_headless_stroke_undo_reset_and_callback():
    labels = base_map()
    image = torch.rand(3, H, W)
    painter = MaskPainter(image, labels, label="hair", brush=2, display_size=60)
    assert painter.scale == 4
    from PIL import Image

    assert Image.open(io.BytesIO(painter.view.value)).size == (W * 4, H * 4)
    calls = []
    painter.on_edit(lambda p: calls.append(p.label_map().clone()))
    # a mouse drag in canvas pixels: (x, y) = ((j + 0.5) * scale, (i + 0.5) * scale)
    painter._on_event({"type": "mousedown", "dataX": 6.5 * 4, "dataY": 5.5 * 4})
    painter._on_event({"type": "mousemove", "dataX": 9.5 * 4, "dataY": 5.5 * 4})
    assert not calls  # committed on mouse up, not while dragging
    assert painter.state.edited_pixels == 0 and "hair" not in painter.info.value
    painter._on_event({"type": "mouseup", "dataX": 9.5 * 4, "dataY": 5.5 * 4})
    expected = np.where(brute_footprint((H, W), [(6, 5), (9, 5)], 2), LABEL_INDEX["hair"], labels)
    assert len(calls) == 1
    out = painter.label_map()
    assert out.dtype == torch.int64 and out.shape == (H, W)
    np.testing.assert_array_equal(out.numpy(), expected)
    assert "pixels edited" in painter.info.value
    painter.mode.value = "erase"
    painter.stroke([(7, 5)])  # radius 2: hair around (7, 5) becomes background
    assert (painter.label_map().numpy()[4:7, 6:9] == 0).all()
    painter.undo_button.click()
    np.testing.assert_array_equal(painter.label_map().numpy(), expected)
    painter.reset_button.click()
    np.testing.assert_array_equal(painter.label_map().numpy(), labels)
    assert len(calls) == 4
    painter.undo()
    np.testing.assert_array_equal(painter.label_map().numpy(), expected)
    np.testing.assert_array_equal(painter.picture(), overlay(painter.image, expected))


def test_widget_parses_a_photo_without_a_map():
    import skimage.data
    from PIL import Image

    photo = np.asarray(Image.fromarray(skimage.data.astronaut()).resize((96, 96)))
    painter = MaskPainter(photo, display_size=96)
    out = painter.label_map()
    assert out.shape == (96, 96) and out.dtype == torch.int64
    assert (out == LABEL_INDEX["skin"]).sum() > 100  # parse_face found the face
    with pytest.raises(ValueError, match="sizes differ"):
        painter.set_image(photo, np.zeros((10, 10), np.int64))


def test_other_class_sets():
    classes, palette = ("keep", "translate"), ((0, 0, 0), (250, 0, 0))
    first = np.zeros((H, W), np.int64)
    painter = MaskPainter(np.zeros((H, W, 3), np.uint8), first, label="translate", brush=1,
                          classes=classes, palette=palette)
    assert [o[0] for o in painter.label.options] == ["0 keep", "1 translate"]
    assert "1 translate<" in painter.legend.value and painter.legend.value.count("rgb") == 2
    painter.stroke([(3, 3)])
    assert painter.label_map()[3, 3] == 1
    # the overlay uses the given palette: 0.45 * 250 over black
    assert tuple(painter.picture()[3, 3]) == (round(ALPHA * 250), 0, 0)
    with pytest.raises(ValueError, match="labels are 0..1"):
        MaskPainterState(np.full((3, 3), 2), classes=classes)
    with pytest.raises(ValueError, match="unknown label 'hair'"):
        painter.state.paint([(1, 1)], "hair", 1)
    with pytest.raises(ValueError, match="one RGB colour per class"):
        MaskPainter(np.zeros((H, W, 3), np.uint8), first, label="keep", classes=classes,
                    palette=((0, 0, 0),))
    with pytest.raises(ValueError, match="parse_face makes the 19-class face map only"):
        MaskPainter(np.zeros((H, W, 3), np.uint8), None, label="keep", classes=classes,
                    palette=palette)
