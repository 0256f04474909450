"""One seeded source of randomness: manual_seed, states that round-trip through JSON, independent Generators."""

from __future__ import annotations

import json

import numpy as np
import pytest

import cnnlab
from cnnlab.random import Generator, default_generator


def test_manual_seed_makes_runs_reproducible() -> None:
    cnnlab.manual_seed(7)
    first = (
        cnnlab.rand(5).tolist(),
        cnnlab.randn(2, 2).tolist(),
        cnnlab.randint(0, 100, (4,)).tolist(),
        cnnlab.zeros(3).normal_().tolist(),
    )
    cnnlab.manual_seed(7)
    second = (
        cnnlab.rand(5).tolist(),
        cnnlab.randn(2, 2).tolist(),
        cnnlab.randint(0, 100, (4,)).tolist(),
        cnnlab.zeros(3).normal_().tolist(),
    )
    assert first == second
    cnnlab.manual_seed(8)
    assert cnnlab.rand(5).tolist() != first[0]


def test_manual_seed_returns_the_default_generator_and_sets_initial_seed() -> None:
    assert cnnlab.manual_seed(42) is default_generator
    assert cnnlab.initial_seed() == 42
    fresh = cnnlab.seed()
    assert isinstance(fresh, int) and cnnlab.initial_seed() == fresh


def test_rng_state_round_trips_through_json() -> None:
    cnnlab.manual_seed(3)
    cnnlab.rand(10)
    state = json.loads(json.dumps(cnnlab.get_rng_state()))
    expected = cnnlab.randn(6).tolist()
    cnnlab.rand(100)  # move on
    cnnlab.set_rng_state(state)
    assert cnnlab.randn(6).tolist() == expected
    assert cnnlab.initial_seed() == 3


def test_a_state_is_a_snapshot_not_a_live_view() -> None:
    cnnlab.manual_seed(0)
    state = cnnlab.get_rng_state()
    snapshot = json.dumps(state)
    cnnlab.rand(10)
    assert json.dumps(state) == snapshot


def test_generators_are_independent_of_the_default() -> None:
    cnnlab.manual_seed(0)
    expected = cnnlab.rand(4).tolist()
    cnnlab.manual_seed(0)
    g = Generator(123)
    cnnlab.rand(50, generator=g)  # drawing from g leaves the default stream alone
    cnnlab.randn(3, generator=g)
    assert cnnlab.rand(4).tolist() == expected


def test_a_generator_seeded_alike_gives_the_same_numbers() -> None:
    a, b = Generator(5), Generator().manual_seed(5)
    assert cnnlab.randn(4, generator=a).tolist() == cnnlab.randn(4, generator=b).tolist()
    assert (
        cnnlab.randint(10, size=(5,), generator=a).tolist()
        == cnnlab.randint(10, size=(5,), generator=b).tolist()
    )
    x, y = cnnlab.empty(3), cnnlab.empty(3)
    assert x.uniform_(-2, 2, generator=a).tolist() == y.uniform_(-2, 2, generator=b).tolist()
    assert a.initial_seed() == 5 and repr(a) == "Generator(seed=5)"


def test_generator_state_round_trip() -> None:
    g = Generator(9)
    g.numpy.random(3)
    state = json.loads(json.dumps(g.get_state()))
    expected = g.numpy.standard_normal(4)
    g.set_state(state)
    np.testing.assert_array_equal(g.numpy.standard_normal(4), expected)
    other = Generator(0)
    other.set_state(state)
    assert other.initial_seed() == 9
    np.testing.assert_array_equal(other.numpy.standard_normal(4), expected)


def test_unseeded_generators_differ() -> None:
    assert Generator().initial_seed() != Generator().initial_seed()


def test_bad_seeds_and_states_are_refused() -> None:
    with pytest.raises(TypeError, match="manual_seed: seed must be an int, got float"):
        cnnlab.manual_seed(1.5)
    with pytest.raises(TypeError, match="manual_seed: seed must be an int, got bool"):
        Generator().manual_seed(True)
    with pytest.raises(
        ValueError, match="set_state: expected a dictionary from get_state\\(\\), with a 'bit_generator'"
    ):
        cnnlab.set_rng_state({"seed": 1})
    with pytest.raises(ValueError, match="set_state: expected a dictionary"):
        cnnlab.set_rng_state([1, 2])
    with pytest.raises(ValueError, match="set_state: the 'bit_generator' entry is not a PCG64 state"):
        cnnlab.set_rng_state({"seed": 1, "bit_generator": {"bit_generator": "MT19937"}})
    with pytest.raises(
        ValueError, match=r"manual_seed: seed must be in \[-2\*\*63, 2\*\*64\), got 18446744073709551616"
    ):
        cnnlab.manual_seed(2**64)
    assert cnnlab.manual_seed(np.int64(4)).initial_seed() == 4


def test_negative_seeds_wrap_like_torch() -> None:
    import torch

    assert cnnlab.manual_seed(-1).initial_seed() == torch.manual_seed(-1).initial_seed() == 2**64 - 1
    torch.manual_seed(0)
