"""Pretrained weight files: where they live, whether they are intact, what made a result.

Nothing in maskstyle downloads weights. A network that needs a published checkpoint (the
ImageNet VGG19 of Gatys/AdaIN/style-swap, the LPIPS backbones, the FID Inception) looks
for the file where ``torch.hub`` would have cached it,

    ``torch.hub.get_dir()/checkpoints/<file name of the URL>``   (``$TORCH_HOME/hub/...``),

or at a path the user gives, and raises :class:`WeightsNotFoundError` naming the file, the
URL it comes from and the folder to put it in when it is absent.

torchvision names its files ``<name>-<first 8 hex digits of the sha256>.pth``;
:func:`check_file_hash` verifies that prefix (the check ``torch.hub`` does on download), so
a truncated or substituted file is caught before it silently changes every number.
Every loaded file is described by :func:`file_provenance` so results can say which
weights made them.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import torch

# torch.hub's convention: the hash prefix sits between the last "-" and the extension.
_HASH_IN_NAME = re.compile(r"-([a-f0-9]{8,64})\.[A-Za-z0-9]+$")
_SHA256_CACHE: dict[tuple[str, int, int], str] = {}


class WeightsNotFoundError(FileNotFoundError):
    """A weight file maskstyle needs is not on disk (and is never downloaded)."""


def hub_checkpoint_path(url: str) -> Path:
    """Where ``torch.hub.load_state_dict_from_url(url)`` caches ``url``'s file."""
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(url)


def missing_weights_message(path: Path | str, url: str | None, what: str) -> str:
    """The text of a :class:`WeightsNotFoundError`: the file, its source, where it goes."""
    path = Path(path)
    lines = [f"{what}: weight file not found: {path}"]
    if url:
        lines += [
            f"It is published at {url}",
            "maskstyle never downloads weights. On a machine with internet, fetch it with",
            f"    curl -L -o {path.name} {url}",
            f"and put it at exactly {path}",
            f"(i.e. into the folder {path.parent}; set TORCH_HOME to use another hub cache),",
            "or pass the file's path explicitly.",
        ]
    return "\n".join(lines)


def require_file(path: Path | str, url: str | None, what: str) -> Path:
    """Return ``path`` if it is a file, else raise :class:`WeightsNotFoundError`."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise WeightsNotFoundError(missing_weights_message(path, url, what))
    return path


def sha256_file(path: Path | str) -> str:
    """Hex sha256 of a file (cached per process by path, size and modification time)."""
    path = Path(path)
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _SHA256_CACHE:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 22), b""):
                digest.update(block)
        _SHA256_CACHE[key] = digest.hexdigest()
    return _SHA256_CACHE[key]


def expected_hash_prefix(path: Path | str) -> str | None:
    """The sha256 prefix a torchvision-style name ``name-<hex>.pth`` promises, else None."""
    match = _HASH_IN_NAME.search(Path(path).name)
    return match.group(1) if match else None


def check_file_hash(path: Path | str) -> str:
    """Verify the sha256 prefix in a torchvision-style file name; return the full sha256.

    Files whose name carries no hash are hashed but not checked.
    """
    digest = sha256_file(path)
    prefix = expected_hash_prefix(path)
    if prefix is not None and not digest.startswith(prefix):
        raise ValueError(
            f"weight file {path} is corrupt or not the published file: its name promises a "
            f"sha256 starting with {prefix}, but the file's sha256 is {digest}. "
            "Download it again (or rename it if it is a different checkpoint on purpose)."
        )
    return digest


def file_provenance(path: Path | str) -> str:
    """``"file /abs/path (sha256 0123456789ab)"`` for a weight file."""
    path = Path(path)
    return f"file {path.resolve()} (sha256 {sha256_file(path)[:12]})"


def load_state_dict_file(path: Path | str) -> dict[str, torch.Tensor]:
    """Load a state dict saved with ``torch.save`` (tensors only; memory-mapped when possible).

    Accepts a plain state dict or a checkpoint dict holding one under ``"state_dict"`` or
    ``"model"``.
    """
    path = Path(path)
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except RuntimeError:
        # Old (non-zip) serialisation cannot be memory-mapped.
        obj = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(obj, dict):
        for key in ("state_dict", "model"):
            if key in obj and isinstance(obj[key], dict):
                obj = obj[key]
                break
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise ValueError(
            f"{path} does not hold a state dict (a dict of name -> tensor); got "
            f"{type(obj).__name__}. Save weights with torch.save(model.state_dict(), path)."
        )
    return obj
