"""The fast-semantic-style benchmark's JSON record, on a tiny, fast configuration."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_fast_semantic_style.py"


def _load():
    spec = importlib.util.spec_from_file_location("bench_fast_semantic_style", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_json_has_both_ratios_and_ceilings(capsys):
    bench = _load()
    argv = ["--size", "32", "--iterations", "3", "--gatys-iters", "3", "--repeats", "1",
            "--ceiling-repeats", "1", "--probe-iters", "5", "--json"]  # fmt: skip
    bench.main(argv)
    record = json.loads(capsys.readouterr().out)  # stdout holds exactly one JSON object
    for key in ("ratio_published_layers", "ratio_same_layer", "ours_s",
                "gatys_published_layers_s", "gatys_same_layer_s", "ceiling_published_layers",
                "ceiling_same_layer"):  # fmt: skip
        assert key in record and math.isfinite(record[key]), key  # 3 iterations: noisy, maybe < 0
    assert record["gatys_measured"] is False  # 3 iterations: extrapolated, and it says so
    assert record["published_style_layers"] == ["relu1_1", "relu2_1", "relu3_1", "relu4_1",
                                                "relu5_1"]  # fmt: skip
    assert record["published_content_layers"] == ["relu4_2"]
    assert record["ours_s"] > 0 and record["ceiling_same_layer"] > 0
    # ours is timed before Gatys (--repeats 1) and once per interleaved round (1): the
    # ratio uses the median of all its runs
    runs = sorted(record["ours_runs_s"])
    assert len(runs) == 2 and record["ours_s"] == runs[len(runs) // 2]
    assert record["ratio_published_layers"] == pytest.approx(
        record["gatys_published_layers_s"] / record["ours_s"]
    )


def test_too_few_gatys_iterations_is_refused():
    with pytest.raises(SystemExit):
        _load().parse_args(["--gatys-iters", "2"])
