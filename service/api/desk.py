"""The desk page: ``GET /desk`` serves one static page and its assets from
``service/static/``; the page talks to the ``/api/v1`` routes with the desk key the clerk types
once (kept in the browser's sessionStorage, never in a cookie, so nothing outlives the tab).

The HTML needs no key: it holds no data. Everything personal comes from ``/api/v1`` with
``Authorization: Bearer``. Server-sent events are read with ``fetch()`` and a stream reader,
because ``EventSource`` cannot send that header. A strict Content-Security-Policy keeps the
page to its own origin (no CDN, no inline script), as a reception PC may have no internet.

``/`` redirects to ``/desk``. ``GET /desk/config`` (desk key) tells the page its idle time,
this hospital's MaCSKCB and whether a clinic list is loaded; ``GET /api/v1/clinics/{code}``
names a clinic from the operator's list (``service.integrations.clinics``).

In simulated mode ``GET /desk/demo/cards`` lists a few fictional citizens for the demo panel,
the clinic list is the fictional one in ``fixtures/data/clinics.csv`` unless one is configured,
and the hospital is ``DEMO_HOSPITAL_CODE`` (the first demo card is registered there).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from service.api.deps import require_desk
from service.api.problems import Problem
from service.integrations.clinics import ClinicList, ClinicListError, load_clinics
from service.settings import Settings, SettingsError

STATIC = Path(str(resources.files("service").joinpath("static")))
DEMO_HOSPITAL_CODE = "17514"

CSP = (
    "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

# Fictional citizens for the demo panel, each showing the desk something different
# (fixtures/data/citizens.json and insurance_cards.json hold their data).
DEMO_CARDS: tuple[tuple[str, str, str], ...] = (
    ("017072769692", "Thẻ hợp lệ, BHYT dùng được", "valid card, insurance usable"),
    ("079198409238", "BHYT: đã cấp thẻ mới", "insurance: a new card was issued"),
    ("001185483324", "CCCD đã hết hạn", "ID card expired"),
    ("017160905911", "Thẻ căn cước 2024, không thời hạn", "2024 card, no expiry"),
    ("001088100493", "BHYT hết hạn", "insurance card expired"),
    ("046196643573", "Tên dài; BHYT sai họ tên", "long name; insurance name differs"),
    ("066192808101", "Tên có dấu nháy", "name with an apostrophe"),
    ("017070031050", "Cổng BHXH lỗi máy chủ", "insurance gateway server error"),
)

# The faults the demo panel offers (names the service's demo route accepts).
DEMO_FAULTS: tuple[tuple[str, str, str], ...] = (
    ("", "Không lỗi", "none"),
    ("forged", "Giả mạo (dữ liệu bị sửa)", "forged (data tampered)"),
    ("clone", "Chip sao chép", "cloned chip"),
    ("unknown_dsc", "Chữ ký không tin cậy", "untrusted signer"),
    ("dg13_tcvn3", "Chữ cũ TCVN3 (được sửa)", "legacy TCVN3 text (repaired)"),
    ("removed_after=12", "Rút thẻ khi đang đọc", "card removed mid-read"),
    ("lost_at=13:2000", "Thẻ rời đầu đọc 2 giây rồi đặt lại", "card off the reader for 2 s"),
)


def install_desk(app: FastAPI, settings: Settings) -> None:
    """Serve the desk page at ``/desk`` and its assets at ``/desk/static``. A clinic list
    that cannot be read stops the start (``SettingsError`` naming the file and line)."""
    clinics = clinic_list_for(settings)
    app.include_router(desk_router(settings, clinics))
    app.include_router(clinics_router(clinics), prefix="/api/v1")
    app.mount("/desk/static", StaticFiles(directory=STATIC), name="desk-static")


def clinic_list_for(settings: Settings) -> ClinicList:
    path = settings.clinic_list
    if path is None and settings.simulated:
        path = demo_clinics()
    if path is None:
        return ClinicList()
    try:
        return load_clinics(path)
    except ClinicListError as exc:
        raise SettingsError(f"CCCD_CLINIC_LIST: {exc}") from None


def demo_clinics() -> Path:
    """Simulated mode: the fictional clinic list shipped with the test doubles."""
    return Path(str(resources.files("fixtures").joinpath("data", "clinics.csv")))


def hospital_code_for(settings: Settings) -> str:
    code = settings.effective_hospital_code
    if settings.simulated and not settings.hospital_code:
        return DEMO_HOSPITAL_CODE
    return code


def clinics_router(clinics: ClinicList) -> APIRouter:
    router = APIRouter()

    @router.get(
        "/clinics/{code}",
        summary="A clinic's name from the operator's clinic list (by MaCSKCB)",
        dependencies=[Depends(require_desk)],
    )
    def clinic(code: Annotated[str, PathParam(pattern=r"^[0-9A-Za-z]{5}$")]) -> dict[str, Any]:
        found = clinics.get(code)
        if found is None:
            raise Problem(
                status=404,
                slug="unknown-clinic",
                title="No clinic with that code in the clinic list",
                clerk_message="Không có mã cơ sở KCB này trong danh mục",
                extra={"clinic_list": len(clinics) > 0},
            )
        return found.to_json()

    return router


def desk_router(settings: Settings, clinics: ClinicList | None = None) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    clinics = clinics or ClinicList()

    @router.get("/")
    def root() -> RedirectResponse:
        return RedirectResponse("/desk", status_code=307)

    @router.get("/desk/config", dependencies=[Depends(require_desk)])
    def config() -> dict[str, Any]:
        return {
            "idle_seconds": settings.desk_idle_seconds,
            "hospital_code": hospital_code_for(settings) or None,
            "clinic_list": {"loaded": len(clinics) > 0, "clinics": len(clinics)},
            "simulated": settings.simulated,
        }

    @router.get("/desk", response_class=HTMLResponse)
    def page() -> HTMLResponse:
        html = (STATIC / "index.html").read_text("utf-8")
        return HTMLResponse(html, headers=PAGE_HEADERS)

    @router.get("/desk/")
    def page_slash() -> RedirectResponse:
        return RedirectResponse("/desk", status_code=308)

    if settings.simulated:

        @router.get("/desk/demo/cards", dependencies=[Depends(require_desk)])
        def demo_cards(request: Request) -> dict[str, Any]:
            return demo_catalogue()

    return router


def demo_catalogue() -> dict[str, Any]:
    """Fictional citizens and card faults for the demo panel (simulated mode only)."""
    from fixtures.citizens import citizen

    cards = []
    for id_number, note_vi, note_en in DEMO_CARDS:
        try:
            person = citizen(id_number)
        except KeyError:
            continue  # the data set changed; offer what is there
        cards.append(
            {
                "id_number": id_number,
                "full_name": person.full_name,
                "note": {"vi": note_vi, "en": note_en},
            }
        )
    faults = [{"value": value, "label": {"vi": vi, "en": en}} for value, vi, en in DEMO_FAULTS]
    return {"cards": cards, "faults": faults}
