"""Overview figures of the face world (faces and masks, pairs, lights, paintings).

Every figure's title names its data ("face world, synthetic, seed k") so no figure can pass
for one made from real photographs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from maskstyle.data.labels import LABELS, PALETTE
from maskstyle.data.synth.painted import PAINT_STYLES, painted_portrait
from maskstyle.data.synth.pairs import (
    COUNTERFACTUALS,
    blend_pair,
    counterfactual_pair,
    lighting_series,
)
from maskstyle.data.synth.renderer import render_face

_PALETTE = np.asarray(PALETTE, np.float32) / 255.0


def colour_mask(mask: torch.Tensor) -> np.ndarray:
    """Label map ``[H, W]`` -> RGB ``[H, W, 3]`` with :data:`PALETTE`."""
    return _PALETTE[mask.numpy()]


def _rgb(image: torch.Tensor) -> np.ndarray:
    return image.permute(1, 2, 0).numpy()


def _grid(rows: list[list[np.ndarray]], titles: list[list[str]], suptitle: str, path: Path):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    nr, nc = len(rows), max(len(r) for r in rows)
    fig, axes = plt.subplots(nr, nc, figsize=(1.6 * nc, 1.75 * nr + 0.4), squeeze=False)
    for i, row in enumerate(rows):
        for j in range(nc):
            ax = axes[i][j]
            ax.axis("off")
            if j < len(row):
                ax.imshow(row[j], interpolation="nearest")
                ax.set_title(titles[i][j], fontsize=7)
    fig.suptitle(suptitle, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def save_overview_figures(out_dir: str | Path, seed: int = 0, size: int = 128) -> list[Path]:
    """Save the five overview PNGs into ``out_dir``; returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tag = f"face world (synthetic), seed {seed}, {size} px"
    paths = []

    faces = [render_face(seed * 1000 + i, size) for i in range(8)]
    rows = [[_rgb(f["image"]) for f in faces], [colour_mask(f["mask"]) for f in faces]]
    titles = [[_pose_title(f) for f in faces], ["mask"] * len(faces)]
    legend = ", ".join(f"{i} {n}" for i, n in enumerate(LABELS))
    paths.append(_grid(rows, titles, f"Faces and label maps - {tag}\n{legend}", out / "faces.png"))

    rows, titles = [], []
    for k in range(4):
        p = blend_pair(seed * 1000 + k, size)
        diff = (p["target"]["image"] - p["b"]["image"]).abs().sum(0).clamp(0, 1).numpy()
        rows.append([_rgb(p["a"]["image"]), _rgb(p["b"]["image"]), _rgb(p["target"]["image"]),
                     colour_mask(p["target"]["mask"]), diff])  # fmt: skip
        titles.append(["A (identity)", "B (environment)", "target: A onto B", "target mask",
                       "|target - B|"])  # fmt: skip
    paths.append(_grid(rows, titles, f"Blend pairs - {tag}", out / "blend_pairs.png"))

    rows, titles = [], []
    for k, attribute in enumerate(COUNTERFACTUALS):
        p = counterfactual_pair(seed * 1000 + k, size, attribute)
        diff = (p["with"]["image"] - p["without"]["image"]).abs().sum(0).clamp(0, 1).numpy()
        region = p["region"].numpy().astype(np.float32)
        rows.append([_rgb(p["without"]["image"]), _rgb(p["with"]["image"]), diff, region])
        titles.append([f"no {attribute}", f"{attribute}", "|difference|", "allowed region"])
    half = (len(rows) + 1) // 2
    wide = [rows[i] + (rows[i + half] if i + half < len(rows) else []) for i in range(half)]
    wide_t = [titles[i] + (titles[i + half] if i + half < len(rows) else []) for i in range(half)]
    paths.append(_grid(wide, wide_t, f"Counterfactual pairs - {tag}", out / "counterfactuals.png"))

    rows, titles = [], []
    for k in range(2):
        series = lighting_series(seed * 1000 + k, size, 6)
        rows.append([_rgb(s["image"]) for s in series] + [colour_mask(series[0]["mask"])])
        azimuths = [s["params"]["environment"]["light_azimuth"] for s in series]
        titles.append([f"light {a:+.0f} deg" for a in azimuths] + ["mask (all equal)"])
    paths.append(_grid(rows, titles, f"Lighting series - {tag}", out / "lighting.png"))

    rows, titles = [], []
    for k in range(2):
        styled = [painted_portrait(seed * 1000 + k, size, style) for style in PAINT_STYLES]
        rows.append([_rgb(styled[0]["photo"])] + [_rgb(s["image"]) for s in styled])
        rows[-1].append(colour_mask(styled[0]["mask"]))
        titles.append(["photo render", *PAINT_STYLES, "mask"])
    paths.append(_grid(rows, titles, f"Painted portraits - {tag}", out / "painted.png"))
    return paths


def _pose_title(sample: dict) -> str:
    yaw, pitch, roll = sample["pose"].tolist()
    return f"y{yaw:+.0f} p{pitch:+.0f} r{roll:+.0f}"
