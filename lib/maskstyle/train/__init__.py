"""Training toolkit shared by every paper's loop: atomic resumable checkpoints, a loss
history, a NaN/inf guard, resumable data order, a small ``Trainer`` and torchrun/DDP helpers
(:mod:`maskstyle.train.distributed`; example: ``python -m maskstyle.train.example_ddp``)."""

from maskstyle._lazy import lazy_exports

_EXPORTS = {
    "save_checkpoint": ".checkpoint",
    "load_checkpoint": ".checkpoint",
    "latest_checkpoint": ".checkpoint",
    "list_checkpoints": ".checkpoint",
    "prune_checkpoints": ".checkpoint",
    "checkpoint_path": ".checkpoint",
    "branch_checkpoint": ".checkpoint",
    "Resumed": ".checkpoint",
    "LossHistory": ".history",
    "check_finite": ".guard",
    "NonFiniteLossError": ".guard",
    "ResumableSampler": ".sampler",
    "ResumableLoader": ".sampler",
    "Trainer": ".trainer",
    "SettingsMismatch": ".settings",
    "check_settings": ".settings",
    "read_settings": ".settings",
    "init_distributed": ".distributed",
    "is_main_process": ".distributed",
    "wrap_ddp": ".distributed",
    "unwrap_model": ".distributed",
    "barrier": ".distributed",
    "cleanup": ".distributed",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
