"""Checkpoints that know their settings: a resume with other settings is refused, the same
settings resume bit-exactly, ``fresh=True`` starts over, and notebooks can check a run."""

from __future__ import annotations

import io
import json

import pytest
import torch
from tests.test_train_trainer import build

from maskstyle.train.checkpoint import list_checkpoints
from maskstyle.train.settings import (
    SettingsMismatch,
    check_settings,
    read_settings,
    settings_differences,
)
from maskstyle.train.trainer import ProgressLog, Trainer, format_duration

SETTINGS = {"arch": "mlp-4-8-1", "lr": 0.05, "data": {"n": 10, "seed": 11}, "profile": "cpu"}


def test_same_settings_resume_bit_exactly(tmp_path):
    reference, ref_model = build(tmp_path / "a", total_steps=8, settings=SETTINGS)
    reference.run()
    first, _ = build(tmp_path / "b", total_steps=5, settings=SETTINGS)
    first.run()
    second, model = build(tmp_path / "b", total_steps=8, settings=dict(SETTINGS))
    second.run()
    for a, b in zip(ref_model.parameters(), model.parameters(), strict=True):
        assert torch.equal(a, b)
    assert json.loads((tmp_path / "b" / "settings.json").read_text()) == json.loads(
        json.dumps(SETTINGS, sort_keys=True))


def test_other_settings_are_refused_with_the_keys_and_the_fix(tmp_path):
    build(tmp_path, total_steps=3, settings=SETTINGS)[0].run()
    changed = {**SETTINGS, "lr": 0.01, "data": {"n": 20, "seed": 11}}
    trainer, _ = build(tmp_path, total_steps=6, settings=changed)
    with pytest.raises(SettingsMismatch) as err:
        trainer.run()
    message = str(err.value)
    assert "lr: checkpoint 0.05 vs now 0.01" in message
    assert "data" in message and "--fresh" in message and "another output folder" in message
    assert set(err.value.differences) == {"data", "lr"}
    # nothing was trained or overwritten by the refused run
    assert [s for s, _ in list_checkpoints(tmp_path / "checkpoints")] == [3]


def test_a_finished_run_with_other_settings_is_not_silently_reused(tmp_path):
    build(tmp_path, total_steps=3, settings=SETTINGS)[0].run()
    trainer, _ = build(tmp_path, total_steps=3, settings={**SETTINGS, "arch": "mlp-4-16-1"})
    with pytest.raises(SettingsMismatch, match="arch"):
        trainer.run()


def test_a_run_that_recorded_no_settings_is_refused_when_settings_are_asked(tmp_path):
    build(tmp_path, total_steps=3)[0].run()
    with pytest.raises(SettingsMismatch, match="not recorded"):
        build(tmp_path, total_steps=6, settings=SETTINGS)[0].run()


def test_fresh_discards_the_old_run_and_trains_from_scratch(tmp_path):
    build(tmp_path / "ref", total_steps=4, settings={**SETTINGS, "lr": 0.01})[0].run()
    build(tmp_path / "run", total_steps=6, settings=SETTINGS)[0].run()
    changed = {**SETTINGS, "lr": 0.01}
    trainer, model = build(tmp_path / "run", total_steps=4, settings=changed, fresh=True)
    history = trainer.run()
    assert history.to_frame()["step"].tolist()[0] == 1  # trained from step 0 again
    ref_model = build(tmp_path / "ref2", total_steps=4, settings=changed)[1]
    state = torch.load(list_checkpoints(tmp_path / "ref" / "checkpoints")[-1][1],
                       weights_only=True)["models"]["mlp"]
    ref_model.load_state_dict(state)
    for a, b in zip(ref_model.parameters(), model.parameters(), strict=True):
        assert torch.equal(a, b)
    assert read_settings(tmp_path / "run")["lr"] == 0.01


def test_check_settings_for_a_notebook_that_loads_a_trained_model(tmp_path):
    build(tmp_path, total_steps=3, settings=SETTINGS)[0].run()
    assert check_settings(tmp_path, SETTINGS)["arch"] == "mlp-4-8-1"
    assert check_settings(tmp_path / "checkpoints", {"lr": 0.05}, keys=["lr"])["lr"] == 0.05
    with pytest.raises(SettingsMismatch, match="profile: checkpoint 'cpu' vs now 'smoke'"):
        check_settings(tmp_path, {**SETTINGS, "profile": "smoke"})
    with pytest.raises(FileNotFoundError, match="no training run"):
        check_settings(tmp_path / "nowhere", SETTINGS)


def test_settings_differences_normalises_tuples_and_reports_absent_keys():
    assert settings_differences({"size": [64, 64]}, {"size": (64, 64)}) == {}
    assert settings_differences({"a": 1}, {"b": 2}) == {
        "a": (1, "<not recorded>"), "b": ("<not recorded>", 2)}


def test_settings_given_twice_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="settings once"):
        build(tmp_path, total_steps=2, settings=SETTINGS, extra={"settings": SETTINGS})


def test_progress_log_lines_carry_step_losses_speed_and_eta():
    stream = io.StringIO()
    log = ProgressLog(0, 100, stream=stream)
    line = log.line(25, {"rec": 0.5, "gan": 1.25}, now=log.started + 10.0)
    assert line == "step 25/100 (25%) | rec 0.5 gan 1.25 | 0.4 s/step | ETA 30s"
    log.maybe_print(100, {"rec": 0.1})  # the last step always prints
    assert stream.getvalue().startswith("step 100/100 (100%) | rec 0.1")
    assert format_duration(3 * 3600 + 125) == "3h02m" and format_duration(float("nan")) == "?"


def test_trainer_in_log_mode_prints_plain_lines(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MASKSTYLE_PROGRESS", "log")
    trainer, _ = build(tmp_path, total_steps=4, settings=SETTINGS)
    trainer.progress = "log"
    trainer.run()
    out = capsys.readouterr().out
    assert "step 4/4 (100%)" in out and "s/step" in out and "ETA" in out


def test_progress_true_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("MASKSTYLE_PROGRESS", "log")
    model = torch.nn.Linear(1, 1)
    trainer = Trainer(models={"m": model}, optimizers={}, step_fn=lambda b, s: {},
                      data=[0], total_steps=1, out_dir=tmp_path)
    assert trainer.progress == "log"
    monkeypatch.delenv("MASKSTYLE_PROGRESS")
    trainer = Trainer(models={"m": model}, optimizers={}, step_fn=lambda b, s: {},
                      data=[0], total_steps=1, out_dir=tmp_path)
    assert trainer.progress == "bar"
