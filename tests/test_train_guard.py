"""NaN/inf guard: the error names the step, the bad terms and their values."""

from __future__ import annotations

import math

import pytest
import torch

from maskstyle.train.guard import NonFiniteLossError, check_finite


def test_finite_losses_come_back_as_floats():
    values = check_finite({"rec": torch.tensor(0.25), "adv": 2, "tv": torch.tensor([1.5])}, 3)
    assert values == {"rec": 0.25, "adv": 2.0, "tv": 1.5}
    assert all(type(v) is float for v in values.values())


def test_error_names_step_terms_and_values():
    losses = {
        "rec": torch.tensor(0.5),
        "adv": torch.tensor(float("nan")),
        "gp": torch.tensor(float("inf")),
        "cls": 1.0,
    }
    with pytest.raises(NonFiniteLossError) as caught:
        check_finite(losses, step=42)
    error = caught.value
    assert error.step == 42
    assert set(error.terms) == {"adv", "gp"}
    assert math.isnan(error.terms["adv"]) and error.terms["gp"] == math.inf
    message = str(error)
    assert "step 42" in message and "'adv'=nan" in message and "'gp'=inf" in message
    assert "rec" not in message and "cls" not in message
    assert isinstance(error, FloatingPointError)


def test_negative_infinity_is_caught():
    with pytest.raises(NonFiniteLossError, match=r"'d_fake'=-inf"):
        check_finite({"d_fake": -math.inf}, step=0)


def test_bad_inputs_get_clear_errors():
    with pytest.raises(ValueError, match=r"loss 'rec' must be a scalar.*\(2, 3\).*mean"):
        check_finite({"rec": torch.zeros(2, 3)}, step=1)
    with pytest.raises(TypeError, match="loss 'rec' must be a tensor or a number, got str"):
        check_finite({"rec": "0.1"}, step=1)
    with pytest.raises(TypeError, match="dict of name -> loss"):
        check_finite(torch.tensor(1.0), step=1)


def test_package_exports_resolve():
    import maskstyle.train as train

    for name in train.__all__:
        assert getattr(train, name) is not None, name
    assert train.check_finite is check_finite
