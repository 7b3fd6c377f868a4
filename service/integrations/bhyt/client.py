"""The BHXH gateway client (``docs/spec/bhyt-gateway.md``; BHXH Phụ lục 03, 2024; Công văn
2746/BHXH-CNTT for ``Lskcb2025``).

``POST /api/token/take`` (username ``<MaCSKCB>_BV``, MD5 of the password) gives a token,
cached until a minute before it expires (at most 50 minutes). One refresh runs at a time per
account: concurrent checks share it and wait at most ``token_timeout`` seconds, then answer
``unavailable`` -- a hung token call never makes checks queue behind each other.

``POST /api/egw/KQNhanLichSuKCB2024`` checks the card, form-urlencoded by default (what
production HIS tools send) or JSON. The etiquette of HIS tools is kept: a check is sent once;
the only second call is after a token refresh on an HTTP 401 or ``maKetQua`` 401, and a 401
that survives the refresh is the account lacking the lookup right (a configuration error, as
is HTTP 403). Connect and total timeouts default to 15 s and 60 s. When the card is usable the
visit history is asked with ``POST /api/egw/Lskcb2025`` (form only); it is additive: its
failure gives an empty history and a log line, never a failed check. Nothing here raises for
gateway trouble: every outcome is an ``InsuranceCheck``.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from service.integrations.bhyt import codes
from service.integrations.bhyt.answers import (
    InsuranceCheck,
    birth_date_form,
    card_code_form,
    compare,
    failed,
    from_answer,
    history_from_answer,
    lower_keys,
)
from service.integrations.bhyt.officers import Officer, make_officer
from service.integrations.bhyt.wire import Answer, Encoding, GatewayFault, exchange, unavailable
from verify.times import aware

log = logging.getLogger(__name__)

TOKEN_PATH = "/api/token/take"
CHECK_PATH = "/api/egw/KQNhanLichSuKCB2024"
HISTORY_PATH = "/api/egw/Lskcb2025"
TOKEN_CAP_SECONDS = 50 * 60
TOKEN_MARGIN_SECONDS = 60


def md5_hex(password: str) -> str:
    return hashlib.md5(password.encode("utf-8")).hexdigest()  # the gateway's own scheme


@dataclass(slots=True)
class _Token:
    access_token: str
    id_token: str
    username: str
    expires_at: float


class _Attempts:
    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


class BhytClient:
    """Async client for one hospital account. ``transport`` lets the in-process stand-in (or
    a test's transport) serve it; ``clock`` drives token expiry."""

    def __init__(
        self,
        *,
        base_url: str,
        username: str,
        password: str,
        officer_name: str = "",
        officer_id: str = "",
        encoding: Encoding = "form",
        connect_timeout: float = 15.0,
        timeout: float = 60.0,
        token_timeout: float = 20.0,
        history: bool = True,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        observe: Callable[[str, float, str | None], None] | None = None,
    ) -> None:
        if encoding not in ("form", "json"):
            raise ValueError("encoding must be 'form' or 'json'")
        self.username = username
        self.password_md5 = md5_hex(password)
        self.default_officer: Officer | None = (
            make_officer("default", officer_name, officer_id)
            if officer_name and officer_id
            else None
        )
        self.encoding: Encoding = encoding
        self.timeout = timeout
        self.token_timeout = min(token_timeout, timeout)
        self.history = history
        self.clock = clock
        self.observe = observe
        self._client = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(timeout, connect=min(connect_timeout, timeout)),
            transport=transport,
            follow_redirects=False,
        )
        self._token: _Token | None = None
        self._refresh: asyncio.Task[_Token] | None = None
        self.tokens_taken = 0
        self.token_calls = 0

    async def aclose(self) -> None:
        if self._refresh is not None and not self._refresh.done():
            self._refresh.cancel()
        await self._client.aclose()

    # -- token (single flight) --------------------------------------------------------------
    async def _current_token(self, *, stale: _Token | None = None) -> _Token:
        token = self._token
        if token is not None and token is not stale and token.expires_at > self.clock():
            return token
        task = self._refresh
        if task is None or task.done():
            task = self._refresh = asyncio.create_task(self._refresh_token(), name="bhxh-token")
            task.add_done_callback(_retrieve)
        try:
            async with asyncio.timeout(self.token_timeout):
                return await asyncio.shield(task)
        except TimeoutError:
            raise unavailable(
                f"the token call gave no answer within {self.token_timeout:g} s"
            ) from None

    async def _refresh_token(self) -> _Token:
        async with asyncio.timeout(self.token_timeout):
            token = await self._take_token()
        self._token = token
        return token

    async def _take_token(self) -> _Token:
        started = self.clock()
        self.token_calls += 1
        try:
            answer = await exchange(
                self._client,
                TOKEN_PATH,
                fields={"username": self.username, "password": self.password_md5},
                encoding=self.encoding,
            )
        finally:
            self._observe("token", started, None)
        if answer.body is None:
            raise GatewayFault(
                "auth_error",
                f"the gateway refused the login (HTTP {answer.http_status})",
                codes.LOGIN_REFUSED_MESSAGE,
            )
        body = lower_keys(answer.body)
        result = str(body.get("maketqua", "")).strip()
        key = body.get("apikey")
        if result != "200":
            raise GatewayFault(
                "auth_error",
                f"the gateway refused the login (maKetQua {result[:8]!r})",
                codes.LOGIN_REFUSED_MESSAGE,
            )
        if not isinstance(key, dict) or not isinstance(key.get("access_token"), str):
            raise unavailable("the token answer has no access_token")
        lifetime = min(_lifetime_seconds(key.get("expires_in")), TOKEN_CAP_SECONDS)
        self.tokens_taken += 1
        return _Token(
            access_token=key["access_token"][:4096],
            id_token=str(key.get("id_token") or "")[:4096],
            username=str(key.get("username") or self.username)[:64],
            expires_at=self.clock() + max(lifetime - TOKEN_MARGIN_SECONDS, 0.0),
        )

    # -- one call ---------------------------------------------------------------------------
    async def _send(
        self, path: str, token: _Token, fields: dict[str, str], encoding: Encoding
    ) -> Answer:
        started = self.clock()
        code: str | None = None
        try:
            answer = await exchange(
                self._client,
                path,
                fields=fields,
                encoding=encoding,
                params={
                    "token": token.access_token,
                    "id_token": token.id_token,
                    "username": token.username,
                    "password": self.password_md5,
                },
            )
            if answer.body is None:
                code = f"http{answer.http_status}"
            else:
                said = str(lower_keys(answer.body).get("maketqua", "")).strip()
                code = said if said in codes.RESULT_CODES else "other"  # bounded labels
            return answer
        except GatewayFault as fault:
            code = fault.status
            raise
        finally:
            self._observe("check" if path == CHECK_PATH else "history", started, code)

    # -- the card check ---------------------------------------------------------------------
    async def check(
        self,
        *,
        card_code: str,
        full_name: str,
        date_of_birth: str,
        sex: str | None = None,
        officer: Officer | None = None,
    ) -> InsuranceCheck:
        """``card_code``: any ``maThe`` form; ``date_of_birth``: ``dd/MM/yyyy``, ``MM/yyyy``,
        ``yyyy`` (or ISO / ``ddMMyyyy``). Never raises for gateway trouble."""
        officer = officer or self.default_officer
        if officer is None:
            return failed("config_error", "no officer for the check", codes.NO_OFFICER_MESSAGE)
        name = " ".join(full_name.split())
        try:
            code = card_code_form(card_code)
            born = birth_date_form(date_of_birth)
            if not name or len(name) > 255:
                raise ValueError("the name must be 1-255 characters")
        except ValueError as exc:
            return failed("input_error", str(exc), codes.RESULT_CODES["205"].message_vi)
        fields = {
            "maThe": code,
            "hoTen": name,
            "ngaySinh": born,
            "hoTenCb": officer.name,
            "cccdCb": officer.cccd,
        }
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        attempts = _Attempts()
        try:
            async with asyncio.timeout(self.timeout):
                result, token = await self._card(fields, attempts)
        except TimeoutError:
            return unavailable_check(f"no answer within {self.timeout:g} s", attempts.count)
        except GatewayFault as fault:
            return failed(
                fault.status,
                fault.reason,
                fault.message_vi,
                attempts=attempts.count,
                retry_after=fault.retry_after,
            )
        if result.card:
            result = result.but(
                differences=compare(full_name=name, date_of_birth=born, sex=sex, card=result.card)
            )
        if token is None or not (self.history and result.usable_for_checkin):
            return result
        return await self._with_history(result, fields, token, deadline - loop.time())

    async def _card(
        self, fields: dict[str, str], attempts: _Attempts
    ) -> tuple[InsuranceCheck, _Token | None]:
        token = await self._current_token()
        attempts.count += 1
        answer = await self._send(CHECK_PATH, token, fields, self.encoding)
        if _is_401(answer):
            log.info("BHXH check answered 401: taking a new token, asking once more")
            token = await self._current_token(stale=token)
            attempts.count += 1
            answer = await self._send(CHECK_PATH, token, fields, self.encoding)
            if answer.http_status == 401:
                return _no_right(401, attempts.count), None
        if answer.http_status == 403:
            return _no_right(403, attempts.count), None
        assert answer.body is not None
        return from_answer(lower_keys(answer.body), attempts=attempts.count), token

    async def _with_history(
        self, result: InsuranceCheck, fields: dict[str, str], token: _Token, remaining: float
    ) -> InsuranceCheck:
        if remaining < 1.0:
            return result.but(history_status="skipped")
        visits: list[dict[str, Any]] | None = None
        try:
            async with asyncio.timeout(remaining):
                answer = await self._send(HISTORY_PATH, token, fields, "form")
            if answer.body is not None:
                visits = history_from_answer(lower_keys(answer.body))
            reason = "not a 000 answer" if answer.body is not None else "refused"
        except TimeoutError:
            reason = "no answer in time"
        except GatewayFault as fault:
            reason = fault.reason
        if visits is None:
            log.warning("BHXH visit history unavailable (%s): card answer kept", reason)
            return result.but(history_status="failed")
        return result.but(
            history=visits, visits=len(visits), history_status="ok" if visits else "empty"
        )

    def _observe(self, endpoint: str, started: float, code: str | None) -> None:
        if self.observe is not None:
            self.observe(endpoint, self.clock() - started, code)


def unavailable_check(reason: str, attempts: int) -> InsuranceCheck:
    return failed("unavailable", reason, codes.UNAVAILABLE_MESSAGE, attempts=attempts)


def _is_401(answer: Answer) -> bool:
    if answer.http_status == 401:
        return True
    body = lower_keys(answer.body) if answer.body is not None else {}
    return str(body.get("maketqua", "")).strip() == "401"


def _no_right(status: int, attempts: int) -> InsuranceCheck:
    return failed(
        "config_error",
        f"the account logged in but the lookup was refused (HTTP {status})",
        codes.NO_LOOKUP_RIGHT_MESSAGE.format(status=status),
        attempts=attempts,
    )


def _retrieve(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.info("BHXH token call failed: %s", task.exception())


_DATE_FORMS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M:%S", "%m/%d/%Y %H:%M:%S")


def _lifetime_seconds(value: Any) -> float:
    """``expires_in`` as seconds, an epoch (s or ms), or a date-time (deployments differ)."""
    if isinstance(value, bool):
        return float(TOKEN_CAP_SECONDS)
    number: float | None = None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            number = float(text)
        except ValueError:
            return _until(text)
    if number is None or number != number:  # None or NaN
        return float(TOKEN_CAP_SECONDS)
    if number > 1e11:  # epoch milliseconds
        return number / 1000 - time.time()
    if number > 1e9:  # epoch seconds
        return number - time.time()
    return number


def _until(text: str) -> float:
    moment: datetime | None = None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        for form in _DATE_FORMS:
            try:
                moment = datetime.strptime(text[:19], form)
                break
            except ValueError:
                continue
    if moment is None:
        return float(TOKEN_CAP_SECONDS)
    return (aware(moment) - datetime.now(UTC)).total_seconds()
