"""The one source of randomness: a seeded NumPy Generator behind ``cnnlab.manual_seed``.

Everything random in cnnlab (initialisation, dropout, shuffling, augmentation) draws from
:data:`default_generator` unless it is handed a :class:`Generator` of its own, so one seed fixes a run.
States are plain dictionaries of integers, so they can be saved as JSON.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "Generator",
    "default_generator",
    "get_rng_state",
    "initial_seed",
    "manual_seed",
    "seed",
    "set_rng_state",
]


class Generator:
    """A seedable random generator (PCG64), as ``torch.Generator`` is for PyTorch.

    >>> g = Generator().manual_seed(0)
    >>> a = g.numpy.random()
    >>> _ = g.manual_seed(0)
    >>> a == g.numpy.random()
    True
    """

    def __init__(self, seed: int | None = None) -> None:
        self.manual_seed(int(np.random.SeedSequence().entropy % 2**63) if seed is None else seed)

    def manual_seed(self, seed: int) -> Generator:
        """Reset to the stream of ``seed``; negative seeds wrap to 2**64 + seed, as in PyTorch."""
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise TypeError(f"manual_seed: seed must be an int, got {type(seed).__name__}")
        seed = int(seed)
        if not -(2**63) <= seed < 2**64:
            raise ValueError(f"manual_seed: seed must be in [-2**63, 2**64), got {seed}")
        self._seed = seed % 2**64
        self.numpy = np.random.default_rng(self._seed)
        return self

    def seed(self) -> int:
        """Reseed from fresh entropy and return the new seed."""
        self.manual_seed(int(np.random.SeedSequence().entropy % 2**63))
        return self._seed

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> dict[str, Any]:
        """The generator's state as a JSON-serialisable dictionary."""
        return {"seed": self._seed, "bit_generator": self.numpy.bit_generator.state}

    def set_state(self, state: dict[str, Any]) -> None:
        if not isinstance(state, dict) or "bit_generator" not in state:
            raise ValueError(
                "set_state: expected a dictionary from get_state(), with a 'bit_generator' entry"
            )
        bit_generator = np.random.PCG64()
        try:
            bit_generator.state = state["bit_generator"]
        except (TypeError, ValueError, KeyError) as e:
            raise ValueError(
                f"set_state: the 'bit_generator' entry is not a PCG64 state from get_state(): {e}"
            ) from None
        self._seed = int(state.get("seed", self._seed))
        self.numpy = np.random.Generator(bit_generator)

    def __repr__(self) -> str:
        return f"Generator(seed={self._seed})"


default_generator = Generator(0)


def manual_seed(seed: int) -> Generator:
    """Seed the default generator; the same seed gives the same run."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> dict[str, Any]:
    return default_generator.get_state()


def set_rng_state(state: dict[str, Any]) -> None:
    default_generator.set_state(state)
