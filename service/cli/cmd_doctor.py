"""``cccd doctor``: check what a desk PC needs and print each fix in Vietnamese
(``docs/windows.md`` "Kiểm tra máy"): the settings, the PC/SC service and readers, the CSCA
trust store, the data folder and database, the BHXH gateway's credentials and reachability,
the port and bind address, and the clock. Exit status 0 when nothing failed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Literal

import httpx

from verify.times import aware

Level = Literal["ok", "warn", "fail", "skip"]
LABELS = {"ok": "OK", "warn": "CẢNH BÁO", "fail": "LỖI", "skip": "BỎ QUA"}
VIETNAM_OFFSET = timedelta(hours=7)
MAX_SKEW_SECONDS = 60


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    level: Level
    detail: str  # what was found (English, for the log)
    fix: str = ""  # what to do, in Vietnamese


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "doctor",
        help="check this PC for the desk service and say how to fix what is wrong",
        description="Check the settings, PC/SC service and readers, trust store, data folder, "
        "BHXH gateway, port and clock; print each fix in Vietnamese.",
    )
    parser.add_argument("--config", help="TOML config file (or CCCD_CONFIG)")
    parser.add_argument("--offline", action="store_true", help="do not contact the BHXH gateway")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run_doctor)


def run_doctor(args: argparse.Namespace) -> int:
    from service.settings import Settings, SettingsError

    try:
        settings = Settings.load(config_file=args.config)
    except SettingsError as exc:
        checks = [
            Check(
                "settings",
                "fail",
                str(exc),
                "Sửa tệp cấu hình hoặc biến môi trường CCCD_* được nêu ở trên rồi chạy lại "
                "`cccd doctor`.",
            )
        ]
    else:
        checks = run_checks(settings, offline=args.offline)
    print_checks(checks, as_json=args.json)
    return 1 if any(c.level == "fail" for c in checks) else 0


def print_checks(checks: list[Check], *, as_json: bool = False) -> None:
    if as_json:
        print(json.dumps([asdict(c) for c in checks], ensure_ascii=False, indent=2))
        return
    for check in checks:
        print(f"[{LABELS[check.level]}] {check.name}: {check.detail}")
        if check.fix:
            print(f"    Cách sửa: {check.fix}")


def run_checks(
    settings: Any,
    *,
    offline: bool = False,
    bhyt_transport: httpx.AsyncBaseTransport | None = None,
    list_readers: Callable[[], list[str]] | None = None,
    platform: str = sys.platform,
) -> list[Check]:
    checks = [Check("settings", "ok", "settings loaded")]
    if not settings.api_keys and not settings.simulated:
        checks.append(
            Check(
                "desk_keys",
                "fail",
                "no desk API keys configured",
                "Đặt CCCD_API_KEYS=quay-1=<khoá ngẫu nhiên dài>,quay-2=<khoá khác> (mỗi quầy "
                "một khoá, ít nhất 12 ký tự) trong tệp cấu hình hoặc biến môi trường.",
            )
        )
    checks += check_pcsc(settings, list_readers=list_readers, platform=platform)
    checks.append(check_trust(settings))
    checks.append(check_data(settings))
    checks.append(check_audit_key(settings))
    gateway_date: datetime | None = None
    gateway, gateway_date = check_bhxh(settings, offline=offline, transport=bhyt_transport)
    checks += gateway
    checks += check_port(settings)
    checks += check_clock(gateway_date)
    return checks


# -- PC/SC ------------------------------------------------------------------------------------


NO_PYSCARD = Check(
    "pcsc",
    "fail",
    "PC/SC support (pyscard) is not installed",
    'Cài hỗ trợ đầu đọc: `py -m pip install "cccd[pcsc]"` (Windows) hoặc '
    '`python3 -m pip install "cccd[pcsc]"`.',
)


def _pcsc_service_fix(platform: str) -> str:
    if platform.startswith("win"):
        return (
            'Bật dịch vụ Smart Card: mở services.msc, chọn "Smart Card" (SCardSvr), đặt '
            "Startup type = Automatic rồi bấm Start; hoặc chạy PowerShell quyền quản trị: "
            "`Set-Service SCardSvr -StartupType Automatic; Start-Service SCardSvr`."
        )
    if platform == "darwin":
        return "macOS có sẵn dịch vụ PC/SC: cắm lại đầu đọc và khởi động lại máy nếu vẫn lỗi."
    return "Cài và bật pcscd: `sudo apt install pcscd` rồi `sudo systemctl enable --now pcscd`."


def check_pcsc(
    settings: Any, *, list_readers: Callable[[], list[str]] | None, platform: str
) -> list[Check]:
    if settings.simulated and list_readers is None:
        return [Check("pcsc", "skip", "simulated mode: no PC/SC readers are used")]
    if list_readers is None:
        try:
            from reader.drivers import pcsc

            list_readers = pcsc.list_readers
        except ImportError:
            return [NO_PYSCARD]
    try:
        names = list_readers()
    except ImportError:
        return [NO_PYSCARD]
    except Exception as exc:
        return [
            Check("pcsc", "fail", f"PC/SC service unavailable: {exc}", _pcsc_service_fix(platform))
        ]
    wanted = [n for n in names if not settings.readers or any(f in n for f in settings.readers)]
    if not names:
        return [
            Check(
                "pcsc",
                "ok",
                "the PC/SC service answers",
            ),
            Check(
                "readers",
                "fail",
                "no smart-card reader is connected",
                "Cắm đầu đọc thẻ (loại hỗ trợ thẻ không tiếp xúc ISO 14443, PC/SC/CCID) vào cổng "
                "USB; trên Windows chờ cài driver xong rồi chạy lại `cccd doctor`.",
            ),
        ]
    if not wanted:
        return [
            Check("pcsc", "ok", "the PC/SC service answers"),
            Check(
                "readers",
                "fail",
                f"{len(names)} reader(s) connected, none matches CCCD_READERS",
                "Sửa CCCD_READERS cho khớp tên đầu đọc (xem `cccd readers`), hoặc bỏ trống để "
                "dùng mọi đầu đọc.",
            ),
        ]
    return [
        Check("pcsc", "ok", "the PC/SC service answers"),
        Check("readers", "ok", f"{len(wanted)} reader(s): " + "; ".join(wanted)),
    ]


# -- trust store, data ----------------------------------------------------------------------


def check_trust(settings: Any) -> Check:
    from service.settings import default_trust_dir
    from verify.trust import TrustStore

    fix = (
        "Cài chứng thư CSCA của Bộ Công an: `cccd trust add <tệp .cer/.der/.pem hoặc master "
        "list>`; nếu không có kho tin cậy, không thẻ nào được xác thực là thật."
    )
    directory = settings.trust_store or default_trust_dir()
    if settings.simulated and settings.trust_store is None:
        return Check("trust_store", "skip", "simulated mode uses the test PKI")
    if not Path(directory).is_dir():
        return Check("trust_store", "fail", f"no trust store at {directory}", fix)
    try:
        store = TrustStore.from_directory(directory)
    except Exception as exc:
        return Check("trust_store", "fail", f"trust store unreadable: {type(exc).__name__}", fix)
    anchors = store.anchors
    if not anchors:
        return Check("trust_store", "fail", f"{directory} holds no CSCA certificate", fix)
    now = datetime.now(UTC)
    valid = [a for a in anchors if a.not_before <= now <= a.not_after]
    detail = f"{len(anchors)} CSCA certificate(s), {len(valid)} valid today"
    if store.problems:
        return Check(
            "trust_store",
            "warn",
            f"{detail}; {len(store.problems)} file(s) not usable",
            "Xem `cccd trust list`; xoá hoặc thay các tệp hỏng trong kho tin cậy.",
        )
    return Check("trust_store", "ok", detail)


def check_data(settings: Any) -> Check:
    fix = (
        "Cho phép tài khoản chạy dịch vụ ghi vào thư mục dữ liệu, hoặc đặt CCCD_DATA_DIR sang "
        "thư mục khác (ví dụ C:\\ProgramData\\cccd khi chạy như dịch vụ Windows)."
    )
    if not settings.database_url:
        try:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            probe = settings.data_dir / ".cccd-doctor"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            return Check("data", "fail", f"cannot write {settings.data_dir}: {exc.strerror}", fix)
    from sqlalchemy import create_engine, text

    engine = create_engine(settings.effective_database_url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        dialect = engine.dialect.name
    except Exception as exc:
        return Check(
            "data",
            "fail",
            f"database unreachable: {type(exc).__name__}",
            "Kiểm tra CCCD_DATABASE_URL (máy chủ PostgreSQL, tài khoản, mật khẩu), hoặc bỏ trống "
            "để dùng tệp SQLite trong thư mục dữ liệu.",
        )
    finally:
        engine.dispose()
    where = "SQLite file" if dialect == "sqlite" else dialect
    return Check("data", "ok", f"{where} reachable at the configured database")


def check_audit_key(settings: Any) -> Check:
    from service.storage.audit_key import AuditKeyError, load_audit_keys

    path = settings.effective_audit_key_file
    if settings.audit_key is None and not Path(path).exists():
        return Check("audit_key", "ok", f"{path} is created at the first start of `cccd serve`")
    try:
        load_audit_keys(key=settings.audit_key, key_file=path, create=False)
    except (AuditKeyError, OSError) as exc:
        return Check(
            "audit_key",
            "fail",
            f"audit key unusable: {exc}",
            "Khôi phục tệp khoá nhật ký (audit.key) từ bản sao lưu, hoặc sửa CCCD_AUDIT_KEY / "
            "CCCD_AUDIT_KEY_FILE; không tạo khoá mới cho cơ sở dữ liệu đang có nhật ký.",
        )
    return Check("audit_key", "ok", "audit key readable")


# -- BHXH gateway ---------------------------------------------------------------------------


def check_bhxh(
    settings: Any, *, offline: bool, transport: httpx.AsyncBaseTransport | None
) -> tuple[list[Check], datetime | None]:
    if not settings.bhxh_url:
        if settings.simulated:
            return [Check("bhxh", "skip", "simulated mode uses the local stand-in")], None
        return [
            Check(
                "bhxh",
                "warn",
                "no BHXH gateway configured: insurance cannot be checked",
                "Đặt CCCD_BHXH_URL, CCCD_BHXH_USERNAME (MaCSKCB_BV), CCCD_BHXH_PASSWORD, "
                "CCCD_BHXH_OFFICER_NAME và CCCD_BHXH_OFFICER_ID (CCCD cán bộ đã đăng ký với BHXH).",
            )
        ], None
    checks: list[Check] = []
    missing = [
        name
        for name, value in (
            ("CCCD_BHXH_USERNAME", settings.bhxh_username),
            ("CCCD_BHXH_PASSWORD", settings.bhxh_password),
            ("CCCD_BHXH_OFFICER_NAME", settings.bhxh_officer_name),
            ("CCCD_BHXH_OFFICER_ID", settings.bhxh_officer_id),
        )
        if not value
    ]
    if missing:
        checks.append(
            Check(
                "bhxh_credentials",
                "fail",
                "missing: " + ", ".join(missing),
                "Điền đủ tài khoản cổng BHXH và họ tên, số CCCD của cán bộ tiếp đón đã đăng ký.",
            )
        )
        return checks, None
    if offline:
        checks.append(Check("bhxh", "skip", "--offline: the gateway was not contacted"))
        return checks, None
    return asyncio.run(_gateway(settings, transport))


async def _gateway(
    settings: Any, transport: httpx.AsyncBaseTransport | None
) -> tuple[list[Check], datetime | None]:
    from service.integrations.bhyt import TOKEN_PATH, md5_hex

    started = time.monotonic()
    try:
        async with httpx.AsyncClient(
            base_url=settings.bhxh_url,
            timeout=httpx.Timeout(15.0, connect=10.0),
            transport=transport,
        ) as client:
            response = await client.post(
                TOKEN_PATH,
                json={
                    "username": settings.bhxh_username,
                    "password": md5_hex(settings.bhxh_password),
                },
            )
    except httpx.HTTPError as exc:
        return [
            Check(
                "bhxh",
                "fail",
                f"gateway unreachable: {type(exc).__name__}",
                "Kiểm tra mạng và tường lửa: máy (hoặc IP của bệnh viện) phải được BHXH cho phép "
                "gọi cổng giám định; thử mở CCCD_BHXH_URL từ trình duyệt trên máy này.",
            )
        ], None
    seconds = time.monotonic() - started
    date = _header_date(response.headers.get("date"))
    try:
        body = {str(k).lower(): v for k, v in response.json().items()}
    except (ValueError, AttributeError):
        body = {}
    if response.status_code >= 500 or not body:
        return [
            Check(
                "bhxh",
                "fail",
                f"gateway answered HTTP {response.status_code} without a usable body",
                "Cổng BHXH đang lỗi: thử lại sau; nếu kéo dài, báo bộ phận CNTT của BHXH tỉnh.",
            )
        ], date
    if str(body.get("maketqua")) != "200":
        return [
            Check("bhxh", "ok", f"gateway reachable ({seconds:.1f} s)"),
            Check(
                "bhxh_credentials",
                "fail",
                f"the gateway refused the login (maKetQua {body.get('maketqua')!r})",
                "Sai tài khoản hoặc mật khẩu cổng BHXH: kiểm tra CCCD_BHXH_USERNAME "
                "(dạng MaCSKCB_BV) và CCCD_BHXH_PASSWORD.",
            ),
        ], date
    return [
        Check("bhxh", "ok", f"gateway reachable ({seconds:.1f} s)"),
        Check("bhxh_credentials", "ok", "the gateway accepted the facility login"),
    ], date


def _header_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return aware(moment)


# -- port and clock -------------------------------------------------------------------------


def check_port(settings: Any) -> list[Check]:
    checks: list[Check] = []
    if not settings.loopback_only:
        checks.append(
            Check(
                "bind",
                "warn",
                f"the service listens on {settings.host}: reachable from other machines",
                "Nếu HIS chạy trên chính máy này, đặt CCCD_HOST=127.0.0.1; nếu cần mở ra mạng, "
                "bật TLS và chỉ cho phép máy HIS qua tường lửa.",
            )
        )
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((settings.host, settings.port))
        except OSError as exc:
            in_use = _cccd_running(settings)
            if in_use:
                checks.append(Check("port", "ok", f"cccd already answers on port {settings.port}"))
            else:
                checks.append(
                    Check(
                        "port",
                        "fail",
                        f"cannot listen on {settings.host}:{settings.port}: {exc.strerror}",
                        f"Cổng {settings.port} đang bị chương trình khác dùng hoặc địa chỉ "
                        f"{settings.host} không có trên máy: đổi CCCD_PORT/CCCD_HOST, hoặc tắt "
                        "chương trình đang chiếm cổng (`netstat -ano | findstr :"
                        f"{settings.port}` trên Windows).",
                    )
                )
            return checks
    checks.append(Check("port", "ok", f"{settings.host}:{settings.port} is free"))
    return checks


def _cccd_running(settings: Any) -> bool:
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "localhost") else settings.host
    host = f"[{host}]" if ":" in host else host
    try:
        response = httpx.get(f"http://{host}:{settings.port}/healthz", timeout=2)
        return response.status_code in (200, 503) and "schema_version" in response.text
    except httpx.HTTPError:
        return False


def check_clock(reference: datetime | None, *, now: datetime | None = None) -> list[Check]:
    checks: list[Check] = []
    local = (now or datetime.now(UTC)).astimezone()
    offset = local.utcoffset()
    if offset != VIETNAM_OFFSET:
        checks.append(
            Check(
                "timezone",
                "warn",
                f"the PC's time zone is UTC{_offset(offset)}, not Việt Nam's UTC+07:00",
                "Đặt múi giờ (UTC+07:00) Bangkok, Hanoi, Jakarta trong Settings → Time & "
                "language; giờ đọc thẻ và giờ gửi HIS sẽ đúng giờ Việt Nam.",
            )
        )
    if reference is None:
        checks.append(
            Check("clock", "skip", "no reference time (the BHXH gateway was not reached)")
        )
        return checks
    skew = (local - reference).total_seconds()
    if abs(skew) > MAX_SKEW_SECONDS:
        checks.append(
            Check(
                "clock",
                "fail",
                f"the PC's clock is {skew:+.0f} s off the BHXH gateway's",
                "Đồng bộ đồng hồ: Settings → Time & language → Sync now, hoặc chạy "
                "`w32tm /resync` (quyền quản trị); trên Linux bật `timedatectl set-ntp true`. "
                "Đồng hồ sai làm hỏng kiểm tra hạn chứng thư và chữ ký webhook.",
            )
        )
    else:
        checks.append(Check("clock", "ok", f"within {abs(skew):.0f} s of the BHXH gateway"))
    return checks


def _offset(offset: timedelta | None) -> str:
    if offset is None:
        return "?"
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
