"""Errors as RFC 9457 problem details (``application/problem+json``), with one table that maps
``reader.errors.CardError`` subclasses to what the desk clerk should do next
(docs/architecture.md "Errors": the service maps CardError subclasses in one handler).

Problem ``detail`` texts never contain personal data: they describe the situation only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from reader.errors import (
    AccessDeniedError,
    CardError,
    CardRemovedError,
    ParseError,
    ProtocolError,
    SecureMessagingError,
    StatusWordError,
    TransportError,
    TransportTimeoutError,
    UnsupportedError,
)

PROBLEM_TYPE = "https://cccd.invalid/problems/"  # not resolvable; a stable namespace
MEDIA_TYPE = "application/problem+json"


@dataclass(frozen=True, slots=True, kw_only=True)
class ProblemKind:
    slug: str
    title: str
    status: int
    clerk_message: str  # Vietnamese, what to do next
    retry: bool = False


@dataclass(slots=True)
class Problem(Exception):
    """Raise anywhere in a route: the handler turns it into a problem document."""

    status: int
    slug: str
    title: str
    detail: str | None = None
    clerk_message: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def to_json(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_TYPE + self.slug,
            "title": self.title,
            "status": self.status,
        }
        if self.detail:
            body["detail"] = self.detail
        if instance:
            body["instance"] = instance
        if self.clerk_message:
            body["clerk_message"] = self.clerk_message
        body.update(self.extra)
        return body


class FieldError(Protocol):
    """A desk-input error whose message names the wrong field and the rule, never the value."""

    field: str


def invalid_input(exc: FieldError, *, slug: str, title: str, clerk_message: str) -> Problem:
    """422 for desk input the service cannot use, naming the field (``extra["field"]``)."""
    return Problem(
        status=422,
        slug=slug,
        title=title,
        detail=str(exc),
        clerk_message=clerk_message,
        extra={"field": exc.field},
    )


# Most specific first: the first isinstance match wins.
CARD_ERRORS: tuple[tuple[type[CardError], ProblemKind], ...] = (
    (
        AccessDeniedError,
        ProblemKind(
            slug="wrong-access-key",
            title="The card refused the access key",
            status=422,
            clerk_message="Sai số CCCD: kiểm tra lại 12 số",
        ),
    ),
    (
        CardRemovedError,
        ProblemKind(
            slug="card-removed",
            title="The card left the reader during the read",
            status=409,
            clerk_message="Thẻ bị rút ra khi đang đọc: đặt lại thẻ",
            retry=True,
        ),
    ),
    (
        TransportTimeoutError,
        ProblemKind(
            slug="card-timeout",
            title="The card stopped answering",
            status=504,
            clerk_message="Thẻ không phản hồi: nhấc thẻ lên, đặt lại và đọc lại",
            retry=True,
        ),
    ),
    (
        TransportError,
        ProblemKind(
            slug="reader-error",
            title="The reader or the card connection failed",
            status=503,
            clerk_message="Lỗi đầu đọc: đặt lại thẻ; nếu vẫn lỗi, kiểm tra dây cắm đầu đọc",
            retry=True,
        ),
    ),
    (
        SecureMessagingError,
        ProblemKind(
            slug="secure-messaging",
            title="The protected channel to the chip broke",
            status=502,
            clerk_message="Kết nối với chip bị lỗi: đặt lại thẻ và đọc lại",
            retry=True,
        ),
    ),
    (
        ProtocolError,
        ProblemKind(
            slug="card-protocol",
            title="The card answered in a way the reader does not accept",
            status=502,
            clerk_message="Thẻ trả lời không đúng chuẩn: đọc lại; nếu vẫn lỗi, dùng mã QR trên thẻ",
        ),
    ),
    (
        ParseError,
        ProblemKind(
            slug="card-data-malformed",
            title="A file on the chip does not parse",
            status=502,
            clerk_message="Dữ liệu trên chip bị lỗi: dùng mã QR và kiểm tra giấy tờ",
        ),
    ),
    (
        UnsupportedError,
        ProblemKind(
            slug="card-unsupported",
            title="The card needs a protocol this reader does not speak",
            status=501,
            clerk_message="Loại thẻ này chưa được hỗ trợ: dùng mã QR trên thẻ",
        ),
    ),
    (
        StatusWordError,
        ProblemKind(
            slug="card-refused",
            title="The card refused a command",
            status=502,
            clerk_message="Thẻ từ chối lệnh đọc: đặt lại thẻ và đọc lại",
            retry=True,
        ),
    ),
    (
        CardError,
        ProblemKind(
            slug="card-error",
            title="The card could not be read",
            status=502,
            clerk_message="Không đọc được thẻ: đặt lại thẻ và đọc lại",
            retry=True,
        ),
    ),
)


def problem_for_card_error(exc: CardError) -> Problem:
    for kind, problem in CARD_ERRORS:
        if isinstance(exc, kind):
            extra: dict[str, Any] = {"retry": problem.retry}
            if isinstance(exc, StatusWordError):
                extra["sw"] = f"{exc.sw:04X}"
            return Problem(
                status=problem.status,
                slug=problem.slug,
                title=problem.title,
                detail=_safe_detail(exc),
                clerk_message=problem.clerk_message,
                extra=extra,
            )
    raise AssertionError("CardError is the last row")  # pragma: no cover


def _safe_detail(exc: CardError) -> str:
    # Card errors are written by reader/, which keeps personal data out of messages.
    text = str(exc)
    return text[:300]


def problem_response(problem: Problem, request: Request | None = None) -> JSONResponse:
    instance = request.url.path if request is not None else None
    return JSONResponse(
        problem.to_json(instance),
        status_code=problem.status,
        media_type=MEDIA_TYPE,
        headers=problem.headers or None,
    )


_HTTP_TITLES = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "A desk API key is needed"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    409: ("conflict", "Conflict"),
    413: ("too-large", "Request too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("invalid-request", "The request is not valid"),
    429: ("rate-limited", "Too many requests"),
}


def install_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem_response(exc, request)

    async def on_card_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, CardError)
        return problem_response(problem_for_card_error(exc), request)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        slug, title = _HTTP_TITLES.get(exc.status_code, ("http-error", "HTTP error"))
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else None
        problem = Problem(
            status=exc.status_code,
            slug=slug,
            title=title,
            detail=detail,
            headers=dict(exc.headers or {}),
        )
        return problem_response(problem, request)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {"location": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")}
            for e in exc.errors()[:20]
        ]  # the offending input values are left out: they may be ID numbers
        problem = Problem(
            status=422,
            slug="invalid-request",
            title="The request is not valid",
            detail="; ".join(f"{e['location']}: {e['message']}" for e in errors),
            extra={"errors": errors},
        )
        return problem_response(problem, request)

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        problem = Problem(
            status=500,
            slug="internal",
            title="Internal error",
            detail="the service failed; the error is in its log",
        )
        return problem_response(problem, request)

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(CardError, on_card_error)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(Exception, on_unexpected)
