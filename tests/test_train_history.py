"""Loss history: CSV append, new columns, truncation on resume, torn lines, plotting."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from maskstyle.train.history import LossHistory  # noqa: E402


def test_rows_are_appended_and_pandas_reads_them(tmp_path):
    path = tmp_path / "history.csv"
    history = LossHistory(path)
    history.append(1, {"rec": torch.tensor(0.5), "adv": 1.25}, wall_time=100.0)
    history.append(2, {"rec": 0.25, "adv": 1.0}, wall_time=101.5)
    frame = pd.read_csv(path)
    assert list(frame.columns) == ["step", "wall_time", "rec", "adv"]
    assert frame["step"].tolist() == [1, 2]
    assert frame["rec"].tolist() == [0.5, 0.25]
    assert frame["wall_time"].tolist() == [100.0, 101.5]
    pd.testing.assert_frame_equal(history.to_frame(), frame, check_dtype=False)


def test_a_new_term_rewrites_the_file_with_the_new_column(tmp_path):
    path = tmp_path / "history.csv"
    history = LossHistory(path)
    history.append(1, {"g": 1.0})
    history.append(5, {"g": 0.5, "d": 0.75})  # D logged only from step 5
    frame = pd.read_csv(path)
    assert list(frame.columns) == ["step", "wall_time", "g", "d"]
    assert pd.isna(frame.loc[0, "d"]) and frame.loc[1, "d"] == 0.75
    assert [p.name for p in tmp_path.iterdir()] == ["history.csv"]  # no temp file left


def test_resume_truncates_rows_after_the_checkpoint_step(tmp_path):
    path = tmp_path / "history.csv"
    history = LossHistory(path)
    for step in range(1, 8):
        history.append(step, {"loss": 1.0 / step})
    # the run crashed after step 7; the newest checkpoint is at step 4
    resumed = LossHistory.resume(path, step=4)
    assert [row["step"] for row in resumed.rows] == [1, 2, 3, 4]
    for step in range(5, 9):
        resumed.append(step, {"loss": 2.0 / step})
    frame = pd.read_csv(path)
    assert frame["step"].tolist() == list(range(1, 9))  # no duplicates
    assert frame["loss"].tolist()[3:5] == [1.0 / 4, 2.0 / 5]
    assert LossHistory.load(path).rows == resumed.rows


def test_resume_without_a_file_starts_empty(tmp_path):
    history = LossHistory.resume(tmp_path / "history.csv", step=10)
    assert len(history) == 0


def test_torn_last_line_is_dropped_on_load(tmp_path):
    path = tmp_path / "history.csv"
    history = LossHistory(path)
    history.append(1, {"loss": 0.5}, wall_time=1.0)
    with open(path, "a") as f:
        f.write("12")  # a crash in the middle of appending step 120
    assert [row["step"] for row in LossHistory.load(path).rows] == [1]


def test_values_round_trip_exactly(tmp_path):
    path = tmp_path / "history.csv"
    value = 0.1 + 0.2  # needs 17 significant digits
    LossHistory(path).append(3, {"loss": value}, wall_time=1.0)
    assert LossHistory.load(path).rows[0]["loss"] == value


def test_steps_must_increase_and_names_must_not_clash(tmp_path):
    history = LossHistory(tmp_path / "history.csv")
    history.append(5, {"loss": 1.0})
    with pytest.raises(ValueError, match="truncate"):
        history.append(5, {"loss": 1.0})
    with pytest.raises(ValueError, match="reserved"):
        history.append(6, {"step": 1.0})
    with pytest.raises(FileNotFoundError, match="no loss history"):
        LossHistory.load(tmp_path / "missing.csv")
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not a loss history"):
        LossHistory.load(tmp_path / "other.csv")


def test_in_memory_history_writes_nothing(tmp_path):
    history = LossHistory()
    history.append(1, {"loss": 1.0})
    assert len(history) == 1 and list(tmp_path.iterdir()) == []


def test_plot_one_panel_per_term_with_log_scale():
    history = LossHistory()
    for step in range(1, 11):
        history.append(step, {"rec": 1.0 / step, "adv": 0.5 - 0.1 * step})
    fig = history.plot(log_scale=True, smooth=3)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["rec", "adv"]
    assert visible[0].get_yscale() == "log"
    assert visible[1].get_yscale() == "linear"  # it has values <= 0
    assert len(visible[0].lines) == 2  # raw + rolling mean
    plt.close(fig)
    with pytest.raises(KeyError, match="no loss term"):
        history.plot(["gp"])
    with pytest.raises(ValueError, match="no loss terms"):
        LossHistory().plot()
