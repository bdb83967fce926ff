"""The demos the browser tests open, the controls they change, and the page-side helpers."""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "results" / "browser"


@dataclass(frozen=True)
class Control:
    """One control change: ``kind`` says how (slider, dropdown, toggle, buttons, checkbox,
    upload, painter); ``selector`` finds the widget (a DOM class the widget sets); ``value`` is
    the dropdown option, the button's text (a ``ToggleButtons`` choice) or the upload's file
    name(s)."""

    name: str
    kind: str
    selector: str
    value: tuple[str, ...] = ()


@dataclass(frozen=True)
class Demo:
    name: str
    path: str  # relative to the repository root
    controls: tuple[Control, ...] = field(default_factory=tuple)


DEMOS = (
    Demo(
        "face_world",
        "notebooks/00_face_world.ipynb",
        (
            Control("seed slider", "slider", ".maskstyle-seed"),
            Control("attribute dropdown", "dropdown", ".maskstyle-attribute", ("Black_Hair",)),
            Control("with-attribute toggle", "toggle", ".maskstyle-with_attribute"),
        ),
    ),
    Demo(
        "fast_semantic_style",
        "notebooks/fast_semantic_style/06_demo.ipynb",
        (
            Control("content seed slider", "slider", ".maskstyle-content_seed"),
            Control("paint style dropdown", "dropdown", ".maskstyle-paint_style", ("watercolour",)),
            Control("mask painter stroke", "painter", ".maskstyle-painter-view"),
            Control("photo upload (astronaut)", "upload", ".maskstyle-upload", ("astronaut",)),
        ),
    ),
    Demo(
        "lrnet",
        "notebooks/lrnet/06_demo.ipynb",
        (
            Control("pair seed slider", "slider", ".maskstyle-pair_seed"),
            Control("reshuffle branch checkbox", "checkbox", ".maskstyle-box-reshuffle"),
            Control("mask painter stroke", "painter", ".maskstyle-painter-view"),
            Control(
                "photo A and B upload (astronaut, mirrored)",
                "upload",
                ".maskstyle-upload_a",
                ("astronaut", ".maskstyle-upload_b", "astronaut_mirrored"),
            ),
        ),
    ),
    Demo(
        "genegan",
        "notebooks/genegan/07_demo.ipynb",
        (
            # the notebook leaves the demo in "interpolate" mode: the subspace slider acts
            Control("object-subspace x slider", "slider", ".maskstyle-x"),
            Control("face A slider", "slider", ".maskstyle-face_a"),
            Control("remove button", "buttons", ".maskstyle-mode", ("remove",)),
            Control("photo A upload (astronaut)", "upload", ".maskstyle-upload", ("astronaut",)),
        ),
    ),
    Demo(
        "lomit",
        "notebooks/lomit/06_demo.ipynb",
        (
            Control("input slider", "slider", ".maskstyle-input_index"),
            Control("exemplar slider", "slider", ".maskstyle-exemplar_index"),
            Control("mask painter stroke", "painter", ".maskstyle-painter-view"),
            Control(
                "input photo upload (astronaut)", "upload", ".maskstyle-upload", ("astronaut",)
            ),
        ),
    ),
    Demo(
        "regional_style",
        "notebooks/regional_style/07_demo.ipynb",
        (
            Control("target seed slider", "slider", ".maskstyle-target_seed"),
            Control("skin region checkbox", "checkbox", ".maskstyle-box-skin"),
            Control("sample group dropdown", "dropdown", ".maskstyle-sample_group", ("hair",)),
            Control("fine-tune slider", "slider", ".maskstyle-eta"),
            Control("mask painter stroke", "painter", ".maskstyle-painter-view"),
            Control(
                "target and reference photo upload (astronaut, mirrored)",
                "upload",
                ".maskstyle-upload_target",
                ("astronaut", ".maskstyle-upload_reference", "astronaut_mirrored"),
            ),
        ),
    ),
)


def write_photos(folder: Path) -> dict[str, Path]:
    """scikit-image's astronaut (a real photo) and its mirror image as PNG files."""
    import skimage.data
    from PIL import Image

    photo = skimage.data.astronaut()
    paths = {}
    for name, array in (("astronaut", photo), ("astronaut_mirrored", photo[:, ::-1])):
        paths[name] = folder / f"{name}.png"
        Image.fromarray(np.ascontiguousarray(array)).save(paths[name])
    return paths


# Page-side recorder: timestamps (performance.now()) of each new output-image source and of
# each appearance of a busy indicator, so a control's time is measured in the browser.
RECORDER_JS = """
() => {
  if (window.__maskstyle) return;
  const rec = {images: [], busy: [], lastBusy: false};
  window.__maskstyle = rec;
  const scan = () => {
    const now = performance.now();
    document.querySelectorAll('img.maskstyle-output').forEach((img) => {
      if (img.dataset.msSeen !== img.src) {
        img.dataset.msSeen = img.src;
        rec.images.push({t: now, src: img.src});
      }
    });
    const busy = document.querySelector('.maskstyle-busy') !== null;
    if (busy && !rec.lastBusy) rec.busy.push(now);
    rec.lastBusy = busy;
  };
  new MutationObserver(scan).observe(document.body,
    {subtree: true, childList: true, attributes: true, attributeFilter: ['src']});
  scan();
}
"""


def output_sources(page) -> list[str]:
    return page.eval_on_selector_all("img.maskstyle-output", "els => els.map(e => e.src)")


def wait_new_output(page, before: list[str], timeout_ms: int) -> None:
    """Wait until the demo's output image shows a new picture and the kernel is done (busy
    indicator gone)."""
    page.wait_for_function(
        """(before) => {
            const now = Array.from(document.querySelectorAll('img.maskstyle-output'))
                .map(e => e.src);
            return now.length > 0 && now.some((s, i) => s !== before[i] && s.startsWith('blob:'))
                && document.querySelector('.maskstyle-busy') === null;
        }""",
        arg=before,
        timeout=timeout_ms,
    )


def change(page, demo_root, control: Control, photos: dict[str, Path]) -> None:
    """Do one control change in the page (inside ``demo_root``, a Playwright locator)."""
    widget = demo_root.locator(control.selector).first
    if control.kind == "slider":
        handle = widget.locator(".noUi-handle").first
        handle.focus()
        handle.press("ArrowRight")
    elif control.kind == "dropdown":
        widget.locator("select").select_option(label=control.value[0])
    elif control.kind == "toggle":
        widget.click()
    elif control.kind == "buttons":
        widget.locator("button", has_text=control.value[0]).first.click()
    elif control.kind == "checkbox":
        widget.locator("input[type=checkbox]").click()
    elif control.kind == "upload":
        pairs = [(control.selector, control.value[0])]
        if len(control.value) == 3:
            pairs.append((control.value[1], control.value[2]))
        for selector, photo in pairs:
            with page.expect_file_chooser() as chooser:
                demo_root.locator(selector).first.click()
            chooser.value.set_files(str(photos[photo]))
    elif control.kind == "painter":
        widget.evaluate("e => e.scrollIntoView({block: 'center', inline: 'center'})")
        box = widget.bounding_box()
        assert box is not None, "the painter canvas has no box on the page"
        y = box["y"] + box["height"] * 0.45
        page.mouse.move(box["x"] + box["width"] * 0.5, y)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.12, box["y"] + box["height"] * 0.2, steps=12)
        page.mouse.up()
    else:
        raise ValueError(f"unknown control kind {control.kind!r}")


def shrink_png(path: Path) -> None:
    """Re-save a screenshot with a 256-colour palette (small files for git)."""
    from PIL import Image

    with Image.open(path) as img:
        small = img.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    buffer = io.BytesIO()
    small.save(buffer, format="PNG", optimize=True)
    path.write_bytes(buffer.getvalue())


def now() -> float:
    return time.perf_counter()
