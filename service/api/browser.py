"""What the service serves to hospital-system (HIS) pages in the browser (docs/his-integration.md
"Load the client and fill the form", "Allow the HIS page's origin"): the client script
and the example registration page under ``/sdk/`` (files from ``service/sdk/``), and the
diagnostics page ``/desk/diagnostics`` that an HIS page can open (or embed) to see whether its
origin may reach the service, which readers and trust store the service has, and what to fix.

None of these needs a key: they hold no personal data. ``/desk/diagnostics/status`` tells
configuration only (origins, reader names, counts), never a card's data.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse

from service.api.cors import OriginPolicy, normalize_origin
from service.context import ctx_of
from service.settings import Settings

SDK = Path(str(resources.files("service").joinpath("sdk")))
SDK_FILES = {
    "cccd.js": "text/javascript; charset=utf-8",
    "example.html": "text/html; charset=utf-8",
    "example.js": "text/javascript; charset=utf-8",
    "example.css": "text/css; charset=utf-8",
    "diagnostics.js": "text/javascript; charset=utf-8",
    "diagnostics.css": "text/css; charset=utf-8",
}
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})


def page_csp(frame_ancestors: str = "'none'") -> str:
    # connect-src: 'self' covers the service's own ws:/http: address (CSP level 3).
    return (
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; "
        f"frame-ancestors {frame_ancestors}; form-action 'self'"
    )


def install_browser_pages(app: FastAPI, settings: Settings) -> None:
    app.include_router(browser_router(settings))


def browser_router(settings: Settings) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    policy = OriginPolicy(settings.cors_origins)
    # The diagnostics page may be embedded by the configured HIS pages (an <iframe>).
    ancestors = " ".join(["'self'", *sorted(policy.origins)])

    @router.get("/sdk/{name}")
    def sdk_file(name: str) -> FileResponse:
        media = SDK_FILES.get(name)
        if media is None:
            raise HTTPException(status_code=404)
        headers = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
        if name.endswith(".html"):
            headers |= {"Content-Security-Policy": page_csp(), "Referrer-Policy": "no-referrer"}
        return FileResponse(SDK / name, media_type=media, headers=headers)

    @router.get("/desk/diagnostics", response_class=HTMLResponse)
    def diagnostics_page() -> HTMLResponse:
        html = (SDK / "diagnostics.html").read_text("utf-8")
        return HTMLResponse(
            html,
            headers={
                "Content-Security-Policy": page_csp(ancestors),
                "Cache-Control": "no-cache",
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
            },
        )

    @router.get("/desk/diagnostics/status")
    def diagnostics_status(
        request: Request, origin: Annotated[str | None, Query(max_length=300)] = None
    ) -> dict[str, Any]:
        return diagnose(request, origin or request.headers.get("origin"))

    return router


def diagnose(request: Request, origin: str | None) -> dict[str, Any]:
    """The checks the diagnostics page shows, each failing one with its fix."""
    ctx = ctx_of(request)
    settings = ctx.settings
    policy = OriginPolicy(settings.cors_origins)
    fixes: list[dict[str, str]] = []
    page: dict[str, Any] = {"origin": None}
    if origin:
        normal = normalize_origin(origin)
        same = policy.same_origin(origin, request.headers.get("host"), secure=False)
        allowed = policy.allows(origin)
        host = urlsplit(normal).hostname or "" if normal else ""
        page = {
            "origin": normal or origin[:300],
            "valid": bool(normal),
            "allowed": allowed or same,
            "same_origin": same,
            "private_network_preflight": allowed,
            "loopback": host in LOOPBACK_HOSTS,
        }
        if not normal:
            fixes.append(
                _fix(
                    "origin-invalid",
                    "Địa chỉ trang không hợp lệ: dạng đúng là https://his.benhvien.vn",
                    "Not an origin: the form is https://his.hospital.vn",
                )
            )
        elif not (allowed or same):
            fixes.append(
                _fix(
                    "origin-not-allowed",
                    f"Thêm {normal} vào CCCD_CORS_ORIGINS rồi khởi động lại cccd",
                    f"Add {normal} to CCCD_CORS_ORIGINS and restart cccd",
                )
            )
        if normal and not page["loopback"]:
            fixes.append(
                _fix(
                    "local-network-permission",
                    "Chrome sẽ hỏi quyền truy cập mạng cục bộ cho trang này: bấm Cho phép, "
                    "hoặc cấp sẵn bằng chính sách LocalNetworkAccessAllowedForUrls",
                    "Chrome asks for the local-network permission for this page: allow it, "
                    "or pre-grant it with the LocalNetworkAccessAllowedForUrls policy",
                )
            )
    readers = [
        {"name": r["name"], "kind": r["kind"], "card_present": r.get("card_present")}
        for r in ctx.registry.describe()
    ]
    if not readers:
        fixes.append(
            _fix(
                "no-reader",
                "Không thấy đầu đọc: cắm đầu đọc thẻ và kiểm tra dịch vụ PC/SC (Smart Card)",
                "No reader: plug the card reader in and check the PC/SC (Smart Card) service",
            )
        )
    anchors = len(getattr(ctx.trust, "anchors", ()) or ()) if ctx.trust is not None else 0
    if ctx.trust is None:
        fixes.append(
            _fix(
                "no-trust-store",
                "Chưa cài chứng thư gốc (CSCA): chạy cccd trust để cài, thẻ mới được xác thực",
                "No CSCA trust store: install one with cccd trust so cards can be verified",
            )
        )
    if ctx.bhyt is None:
        fixes.append(
            _fix(
                "no-bhxh-gateway",
                "Chưa cấu hình cổng BHXH: không tra cứu được thẻ BHYT",
                "No BHXH gateway configured: BHYT cards cannot be checked",
            )
        )
    return {
        "service": "cccd",
        "simulated": settings.simulated,
        "page": page,
        "cors_origins": sorted(policy.origins),
        "readers": readers,
        "pcsc": ctx.registry.pcsc_status,
        "trust": {"configured": ctx.trust is not None, "cscas": anchors},
        "bhxh_gateway": "configured" if ctx.bhyt is not None else "not_configured",
        "fixes": fixes,
        "ok": not any(f["code"] != "local-network-permission" for f in fixes),
    }


def _fix(code: str, vi: str, en: str) -> dict[str, str]:
    return {"code": code, "vi": vi, "en": en}
