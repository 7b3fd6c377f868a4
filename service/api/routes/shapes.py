"""Shapes the route groups share: the 12-digit CCCD number pattern, and face images
as JPEG that the browser never caches (they are personal data)."""

from __future__ import annotations

from typing import Any

from fastapi import Response

ID_NUMBER = r"^\d{12}$"

JPEG_RESPONSES: dict[int | str, dict[str, Any]] = {200: {"content": {"image/jpeg": {}}}}


def jpeg_response(jpeg: bytes) -> Response:
    return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "no-store"})
