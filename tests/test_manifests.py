"""Dataset manifests, the layout verifier and the ``maskstyle data`` CLI, on tiny fakes."""

from __future__ import annotations

import hashlib
import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from maskstyle.cli import main
from maskstyle.data.manifests import (
    MANIFESTS_ENV,
    STATUSES,
    ManifestError,
    list_manifests,
    load_manifest,
    md5sum,
    verify_dataset,
)

EXPECTED = {
    "celeba",
    "celebamask_hq",
    "ffhq",
    "lapa",
    "fpb",
    "coco2017",
    "painter_by_numbers",
    "multi_pie",
    "emotionet",
    "wider_face",
}
PAPERS = {
    "lomit",
    "genegan",
    "lrnet",
    "harmonized_regional_style_transfer",
    "fast_semantic_style_transfer",
}


def _write_image(path: Path, size: int = 16, seed: int = 0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(path)


def _fake_celeba(root: Path, n: int = 3) -> Path:
    for name in (
        "list_attr_celeba.txt",
        "list_eval_partition.txt",
        "identity_CelebA.txt",
        "list_bbox_celeba.txt",
        "list_landmarks_align_celeba.txt",
    ):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(f"fake {name}\n")
    for k in range(1, n + 1):
        _write_image(root / "img_align_celeba" / f"{k:06d}.jpg", seed=k)
    return root


@pytest.fixture
def custom_manifests(tmp_path, monkeypatch):
    """A manifest folder of our own, selected through MASKSTYLE_MANIFESTS."""
    folder = tmp_path / "manifests"
    folder.mkdir()
    monkeypatch.setenv(MANIFESTS_ENV, str(folder))

    def write(name: str, layout: list[dict]) -> str:
        manifest = {
            "name": name,
            "title": name,
            "what": "a test set",
            "homepage": "https://example.org",
            "licence": "test",
            "citation": "none",
            "obtain": ["make it"],
            "used_by": [{"paper": "lrnet", "use": "test"}],
            "layout": layout,
        }
        (folder / f"{name}.yaml").write_text(yaml.safe_dump(manifest))
        return name

    return write


# --- the bundled manifests ---------------------------------------------------------------


def test_all_bundled_manifests_load_and_name_papers():
    assert EXPECTED <= set(list_manifests())
    for name in EXPECTED:
        manifest = load_manifest(name)
        assert manifest["homepage"] and manifest["licence"] and manifest["citation"]
        assert manifest["obtain"], name
        assert {u["paper"] for u in manifest["used_by"]} <= PAPERS, name
        assert manifest["layout"], name


def test_every_paper_has_a_dataset():
    used = {u["paper"] for name in EXPECTED for u in load_manifest(name)["used_by"]}
    assert used == PAPERS


def test_celeba_checksums_match_torchvision_source():
    """The md5s in celeba.yaml are those torchvision's CelebA records (read from its source)."""
    spec = importlib.util.find_spec("torchvision")
    source = (Path(spec.origin).parent / "datasets" / "celeba.py").read_text()
    recorded = dict((f, m) for m, f in re.findall(r'"([0-9a-f]{32})",\s*"([\w.]+)"', source))
    rules = {r["path"]: r["md5"] for r in load_manifest("celeba")["layout"] if r.get("md5")}
    assert len(rules) == 6
    for path, md5 in rules.items():
        assert recorded[path] == md5, path


def test_paper_split_facts():
    hq = load_manifest("celebamask_hq")
    assert "28,000" in hq["splits"]["harmonized_regional_style_transfer"]
    lapa = load_manifest("lapa")
    assert "19,770" in lapa["splits"]["harmonized_regional_style_transfer"]
    assert "1,930" in lapa["splits"]["harmonized_regional_style_transfer"]
    assert load_manifest("celeba")["counts"]["images"] == 202599
    assert load_manifest("wider_face")["counts"] == {
        "train": 12880,
        "val": 3226,
        "test": 16097,
        "events": 61,
    }
    assert "not public" in load_manifest("fpb")["homepage"]


def test_unknown_manifest_lists_known_names():
    with pytest.raises(KeyError, match="celebamask_hq"):
        load_manifest("celebb")


def test_malformed_manifest_is_rejected(tmp_path, monkeypatch):
    monkeypatch.setenv(MANIFESTS_ENV, str(tmp_path))
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump({"name": "bad", "title": "x"}))
    with pytest.raises(ManifestError, match="missing required keys"):
        load_manifest("bad")


# --- md5 -----------------------------------------------------------------------------------


def test_md5sum_matches_hashlib_in_any_chunk_size(tmp_path):
    data = bytes(range(256)) * 37
    path = tmp_path / "blob"
    path.write_bytes(data)
    assert md5sum(path) == hashlib.md5(data).hexdigest()
    assert md5sum(path, chunk_size=7) == hashlib.md5(data).hexdigest()
    (tmp_path / "empty").write_bytes(b"")
    assert md5sum(tmp_path / "empty") == "d41d8cd98f00b204e9800998ecf8427e"  # RFC 1321


# --- verification on fake layouts ---------------------------------------------------------


def test_tiny_fake_celeba_passes_structure_mode(tmp_path):
    report = verify_dataset("celeba", _fake_celeba(tmp_path))
    assert report.ok, report.format()
    statuses = {r.rule: r.status for r in report}
    assert statuses["file img_align_celeba.zip"] == "skipped"
    assert all(r.status in STATUSES for r in report)


def test_tiny_fake_celeba_fails_full_mode(tmp_path):
    report = verify_dataset("celeba", _fake_celeba(tmp_path), full=True)
    statuses = {r.rule: r.status for r in report}
    assert statuses["file list_attr_celeba.txt"] == "corrupt"
    assert statuses["dir img_align_celeba/*.jpg"] == "count-mismatch"
    assert "202599" in next(r.message for r in report if r.rule.startswith("dir"))
    assert not report.ok


def test_missing_file_names_it_and_the_fix(tmp_path):
    root = _fake_celeba(tmp_path)
    (root / "list_eval_partition.txt").unlink()
    report = verify_dataset("celeba", root)
    (failure,) = report.failures()
    assert failure.status == "missing"
    assert str(root / "list_eval_partition.txt") in failure.message
    assert "mmlab.ie.cuhk.edu.hk" in failure.message


def test_extra_folder_level_is_diagnosed(tmp_path):
    _fake_celeba(tmp_path / "celeba")
    report = verify_dataset("celeba", tmp_path)
    assert not report.ok
    assert f"pass --root {tmp_path / 'celeba'}" in report.failures()[0].message


def test_checksums_counts_and_corrupt_images(tmp_path, custom_manifests):
    data = tmp_path / "data"
    (data / "imgs").mkdir(parents=True)
    (data / "index.txt").write_text("hello\n")
    for k in range(3):
        _write_image(data / "imgs" / f"{k}.png", seed=k)
    good = hashlib.md5(b"hello\n").hexdigest()
    name = custom_manifests(
        "toy",
        [
            {"kind": "file", "path": "index.txt", "md5": good},
            {"kind": "dir", "path": "imgs", "glob": "*.png", "count": 3, "sample": 3},
        ],
    )
    assert verify_dataset(name, data, full=True).ok

    (data / "index.txt").write_text("hello!\n")
    report = verify_dataset(name, data, full=True)
    assert [r.status for r in report] == ["corrupt", "ok"]
    assert good in report.results[0].message
    assert verify_dataset(name, data, full=False).ok  # structure mode skips checksums

    (data / "index.txt").write_text("hello\n")
    _write_image(data / "imgs" / "3.png", seed=3)
    assert [r.status for r in verify_dataset(name, data, full=True)] == ["ok", "count-mismatch"]
    assert verify_dataset(name, data).ok  # counts are minimums in structure mode

    blob = (data / "imgs" / "0.png").read_bytes()
    (data / "imgs" / "0.png").write_bytes(blob[: len(blob) // 2])  # truncated PNG
    report = verify_dataset(name, data)
    assert report.results[1].status == "corrupt"
    assert "0.png" in report.results[1].message


def test_empty_folder_is_missing_its_files(tmp_path, custom_manifests):
    (tmp_path / "data" / "imgs").mkdir(parents=True)
    name = custom_manifests("toy", [{"kind": "dir", "path": "imgs", "glob": "*.png"}])
    (result,) = verify_dataset(name, tmp_path / "data").results
    assert result.status == "missing"
    assert "at least 1" in result.message


def test_missing_root_raises(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        verify_dataset("celeba", tmp_path / "nowhere")


# --- CLI -----------------------------------------------------------------------------------


def test_cli_list(capsys):
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    for name in EXPECTED:
        assert name in out
    assert "harmonized_regional_style_transfer" in out


def test_cli_verify_exit_codes(tmp_path, capsys):
    root = _fake_celeba(tmp_path / "ok")
    assert main(["data", "verify", "celeba", "--root", str(root)]) == 0
    assert "OK" in capsys.readouterr().out
    assert main(["data", "verify", "celeba", "--root", str(root), "--full"]) == 1
    assert "count-mismatch" in capsys.readouterr().out
    assert main(["data", "verify", "nope", "--root", str(root)]) == 2
    assert "known manifests" in capsys.readouterr().err
    assert main(["data", "verify", "celeba", "--root", str(tmp_path / "absent")]) == 2
    assert "does not exist" in capsys.readouterr().err
