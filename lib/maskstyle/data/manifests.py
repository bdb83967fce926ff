"""Dataset manifests: what each real dataset is, where it comes from, and how to check a copy.

The papers this workbook replicates train and evaluate on datasets that cannot ship with
it (licences, sizes). Each one gets a manifest, ``data_manifests/<name>.yaml``, that records
its homepage, licence, citation, the steps to obtain it, which paper uses it and with which
split, and a list of **layout rules** that :func:`verify_dataset` checks against a local copy:

- ``kind: file`` - ``path`` must exist; with ``md5`` (published checksums only) the file's
  MD5 is compared in ``full`` mode; ``optional: true`` files (e.g. archives) may be absent.
- ``kind: dir`` - ``path`` must be a folder; with ``glob`` the matches are counted against
  ``count`` (``null`` = not published); with ``sample: N`` the first ``N`` matches (sorted)
  are opened as images to catch truncated or corrupt files.

Two modes. ``full=True`` checks everything: exact counts and checksums. ``full=False``
(structure only, the default) checks that the files and folders exist and that each counted
folder holds at least ``min_count`` matches (default 1): a tiny copy with the real layout
(a fake in a test, a first-N subset) passes, checksums are not computed.

Manifests are found in ``data_manifests/`` next to the package's repository, or in the
folder named by the environment variable ``MASKSTYLE_MANIFESTS``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

MANIFESTS_ENV = "MASKSTYLE_MANIFESTS"
"""Environment variable naming a folder of manifests that replaces the bundled one."""

STATUSES: tuple[str, ...] = ("ok", "missing", "corrupt", "count-mismatch", "skipped")
"""Per-rule outcomes of :func:`verify_dataset`."""

_REQUIRED_KEYS = ("name", "title", "homepage", "licence", "citation", "obtain", "layout")
_RULE_KINDS = ("file", "dir")
_CHUNK = 1 << 20


class ManifestError(ValueError):
    """A manifest file is missing a key or has a malformed rule."""


def manifests_dir() -> Path:
    """The folder holding ``<name>.yaml`` manifests (``$MASKSTYLE_MANIFESTS`` overrides)."""
    override = os.environ.get(MANIFESTS_ENV)
    if override:
        return Path(override)
    import maskstyle

    return Path(maskstyle.__file__).resolve().parents[2] / "data_manifests"


def list_manifests() -> list[str]:
    """Names of all available manifests, sorted."""
    folder = manifests_dir()
    if not folder.is_dir():
        raise FileNotFoundError(
            f"manifest folder {folder} does not exist; set {MANIFESTS_ENV} to a folder of "
            "<name>.yaml manifests or run from a checkout that has data_manifests/"
        )
    return sorted(p.stem for p in folder.glob("*.yaml"))


def load_manifest(name: str) -> dict[str, Any]:
    """Read and validate ``<name>.yaml``; unknown names raise a ``KeyError`` listing the known."""
    path = manifests_dir() / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(list_manifests()) or "(none)"
        raise KeyError(f"unknown dataset manifest {name!r}; known manifests: {known}")
    with path.open(encoding="utf-8") as f:
        manifest = yaml.safe_load(f)
    _validate(manifest, path)
    return manifest


def _validate(manifest: Any, path: Path) -> None:
    if not isinstance(manifest, dict):
        raise ManifestError(f"{path}: a manifest must be a YAML mapping, got {type(manifest)}")
    missing = [k for k in _REQUIRED_KEYS if k not in manifest]
    if missing:
        raise ManifestError(f"{path}: missing required keys {missing}")
    if manifest["name"] != path.stem:
        raise ManifestError(f"{path}: name {manifest['name']!r} differs from the file name")
    if not isinstance(manifest["layout"], list):
        raise ManifestError(f"{path}: 'layout' must be a list of rules")
    for i, rule in enumerate(manifest["layout"]):
        if not isinstance(rule, dict) or rule.get("kind") not in _RULE_KINDS or "path" not in rule:
            raise ManifestError(
                f"{path}: layout rule {i} must be a mapping with 'kind' in {_RULE_KINDS} "
                f"and a 'path', got {rule!r}"
            )
        count = rule.get("count")
        if count is not None and not isinstance(count, int):
            raise ManifestError(f"{path}: layout rule {i} count must be an int or null")


@dataclass(frozen=True)
class RuleResult:
    """Outcome of one layout rule: ``status`` is one of :data:`STATUSES`."""

    rule: str
    status: str
    message: str


@dataclass
class VerifyReport:
    """All rule results of one :func:`verify_dataset` call."""

    name: str
    root: Path
    full: bool
    results: list[RuleResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no rule failed (``skipped`` rules do not fail)."""
        return all(r.status in ("ok", "skipped") for r in self.results)

    def failures(self) -> list[RuleResult]:
        return [r for r in self.results if r.status not in ("ok", "skipped")]

    def __iter__(self) -> Iterator[RuleResult]:
        return iter(self.results)

    def format(self) -> str:
        """A human-readable table, one line per rule, and a summary line."""
        mode = "full" if self.full else "structure only (counts as minimums, no checksums)"
        lines = [f"{self.name} at {self.root} [{mode}]"]
        width = max((len(r.rule) for r in self.results), default=0)
        for r in self.results:
            lines.append(f"  {r.status:<14} {r.rule:<{width}}  {r.message}")
        verdict = "OK" if self.ok else f"FAILED ({len(self.failures())} rule(s))"
        lines.append(verdict)
        return "\n".join(lines)


def md5sum(path: str | Path, chunk_size: int = _CHUNK) -> str:
    """MD5 hex digest of a file, read in chunks."""
    digest = hashlib.md5()
    with open(path, "rb") as f:
        while block := f.read(chunk_size):
            digest.update(block)
    return digest.hexdigest()


def verify_dataset(name: str, root: str | Path, full: bool = False) -> VerifyReport:
    """Check a local copy of dataset ``name`` at ``root`` against its manifest's layout rules.

    ``full=False`` checks structure (existence, at least ``min_count`` matches, a sample of
    images opens); ``full=True`` also checks exact counts and MD5 checksums.
    """
    manifest = load_manifest(name)
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(
            f"dataset root {root} does not exist or is not a folder; obtain {name} "
            f"from {manifest['homepage']} and pass the folder that holds it"
        )
    report = VerifyReport(name=name, root=root, full=full)
    for rule in manifest["layout"]:
        report.results.append(_check_rule(rule, root, manifest, full))
    return report


def _fix_hint(manifest: dict[str, Any], root: Path, rel: str) -> str:
    hint = (
        f"download {manifest['name']} from {manifest['homepage']} and extract it so that "
        f"{root / rel} exists"
    )
    # A common mistake: the archive extracted into an extra folder level.
    for child in sorted(p for p in root.iterdir() if p.is_dir()):
        if (child / rel).exists():
            return f"{hint} (found {child / rel}: pass --root {child} instead)"
    return hint


def _rule_label(rule: dict[str, Any]) -> str:
    label = f"{rule['kind']} {rule['path']}"
    if rule.get("glob"):
        label += f"/{rule['glob']}"
    return label


def _check_rule(
    rule: dict[str, Any], root: Path, manifest: dict[str, Any], full: bool
) -> RuleResult:
    label = _rule_label(rule)
    path = root / rule["path"]
    if rule["kind"] == "file":
        return _check_file(rule, label, path, root, manifest, full)
    return _check_dir(rule, label, path, root, manifest, full)


def _check_file(rule, label, path: Path, root: Path, manifest, full: bool) -> RuleResult:
    if not path.is_file():
        if rule.get("optional"):
            return RuleResult(label, "skipped", f"optional file {path} not present")
        hint = _fix_hint(manifest, root, rule["path"])
        return RuleResult(label, "missing", f"{path} is missing; {hint}")
    expected = rule.get("md5")
    if not expected:
        return RuleResult(label, "ok", "present (no published checksum)")
    if not full:
        return RuleResult(label, "ok", "present (md5 not checked: structure mode; use --full)")
    actual = md5sum(path)
    if actual != expected:
        return RuleResult(
            label,
            "corrupt",
            f"{path} has md5 {actual}, expected {expected}; the file is damaged or a different "
            f"version: download it again from {manifest['homepage']}",
        )
    return RuleResult(label, "ok", f"md5 {actual} matches")


def _check_dir(rule, label, path: Path, root: Path, manifest, full: bool) -> RuleResult:
    if not path.is_dir():
        if rule.get("optional"):
            return RuleResult(label, "skipped", f"optional folder {path} not present")
        hint = _fix_hint(manifest, root, rule["path"])
        return RuleResult(label, "missing", f"folder {path} is missing; {hint}")
    pattern = rule.get("glob")
    if not pattern:
        return RuleResult(label, "ok", "folder present")
    matches = sorted(path.glob(pattern))
    found = len(matches)
    expected = rule.get("count")
    minimum = int(rule.get("min_count", 1))
    if full and expected is not None and found != expected:
        return RuleResult(
            label,
            "count-mismatch",
            f"{path} holds {found} entries matching {pattern!r}, expected {expected}; "
            f"the copy is incomplete or extracted twice: re-extract from {manifest['homepage']}",
        )
    if found < minimum:
        return RuleResult(
            label,
            "count-mismatch" if found else "missing",
            f"{path} holds {found} entries matching {pattern!r}, need at least {minimum}; "
            + _fix_hint(manifest, root, rule["path"]),
        )
    corrupt = _first_corrupt_image(matches[: int(rule.get("sample", 0))])
    if corrupt is not None:
        bad, why = corrupt
        return RuleResult(
            label,
            "corrupt",
            f"{bad} cannot be decoded as an image ({why}); re-extract it from the archive "
            f"downloaded from {manifest['homepage']}",
        )
    if full and expected is None:
        return RuleResult(label, "ok", f"{found} entries (expected count not published)")
    if full:
        return RuleResult(label, "ok", f"{found} entries as expected")
    want = f" (full copy: {expected})" if expected is not None else ""
    return RuleResult(label, "ok", f"{found} entries{want}")


def _first_corrupt_image(paths: list[Path]) -> tuple[Path, str] | None:
    from PIL import Image

    for p in paths:
        if not p.is_file():
            continue
        try:
            with Image.open(p) as im:
                im.load()  # decodes all pixel data: catches truncation that verify() misses
        except Exception as err:  # PIL raises many types for broken files
            return p, f"{type(err).__name__}: {err}"
    return None
