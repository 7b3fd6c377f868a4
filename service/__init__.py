"""The desk service: HTTP API, CLI, persistence and the BHXH gateway client.

``service.create_app(settings)`` builds the FastAPI app; ``service.Settings.load()`` reads
the ``CCCD_*`` environment and an optional TOML config file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from service.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["Settings", "create_app"]


def create_app(settings: Settings, **kwargs: Any) -> FastAPI:
    """See ``service.app.create_app`` (imported lazily: the CLI loads faster without it)."""
    from service.app import create_app as factory

    return factory(settings, **kwargs)
