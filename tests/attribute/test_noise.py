"""The noise model: how far a leaf moves by chance sets how surprising a move is."""

from __future__ import annotations

import numpy as np
import pytest

from agent.attribute.noise import fit_noise


def _rates_near_one_and_not(leaves: int) -> tuple[np.ndarray, ...]:
    """Leaves of 1,000 at rates 0.7 and 0.99, each forecast 1 % off its rate, up or down."""
    den = np.full(leaves, 1000.0)
    rate = np.where(np.arange(leaves) % 2 == 0, 0.7, 0.99)
    sign = np.where(np.arange(leaves) % 4 < 2, 1.0, -1.0)
    expected = den * rate
    actual = expected * (1 + 0.01 * sign)
    base = den * rate * (1 - rate)
    return actual, expected, base, (base, den * rate, den * (1 - rate))


def test_a_forecast_of_a_rate_near_one_errs_as_much_as_one_further_from_it():
    actual, expected, base, errors = _rates_near_one_and_not(2000)
    variance = fit_noise(actual, expected, base, base, errors).variance
    near_one, lower = variance[1], variance[0]
    assert near_one / lower == pytest.approx((0.99 / 0.7) ** 2, rel=0.05)


def test_with_few_leaves_the_variance_keeps_its_first_error_shape():
    actual, expected, base, errors = _rates_near_one_and_not(200)
    variance = fit_noise(actual, expected, base, base, errors).variance
    assert variance[1] / variance[0] < 0.1  # log-odds shape: a 99 % rate barely moves


def test_too_few_leaves_means_sampling_noise_alone():
    actual, expected, base, errors = _rates_near_one_and_not(20)
    noise = fit_noise(actual, expected, base, base, errors)
    assert noise.variance == pytest.approx(base)
