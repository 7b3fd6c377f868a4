"""Shared test settings: hypothesis profiles sized for a 2-core CI machine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci")

VECTORS = Path(__file__).parent / "vectors"


def load_vector(name: str) -> dict[str, object]:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


@pytest.fixture
def bac_vector() -> dict[str, object]:
    return load_vector("icao-9303-11-appendix-D-bac.json")
