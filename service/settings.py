"""Service settings: one class, read from an optional TOML file and ``CCCD_*`` environment
variables ("App factory and settings"; the twelve-factor "config in the environment").

Precedence, lowest first: defaults, the config file (``--config`` or ``CCCD_CONFIG``), the
environment, then command-line flags (``cccd serve --host/--port``). Desk keys are kept only
as SHA-256 digests: the secrets themselves never sit in memory after start-up.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from service.desks import (
    OPTIONAL_FIELDS,
    DeskConfig,
    DeskConfigError,
    check_desks,
    desk_from_mapping,
)

AuditSubject = Literal["hash", "mask", "none"]
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


class SettingsError(ValueError):
    """A setting that cannot be used, named with the variable or key that holds it."""


def hash_key(secret: str) -> str:
    """The stored form of a desk key. Keys are long random tokens, so a plain SHA-256 is
    enough (no password stretching needed) and keeps each request cheap."""
    return "sha256:" + hashlib.sha256(secret.encode("utf-8")).hexdigest()


def generate_key() -> str:
    return secrets.token_urlsafe(24)


def parse_api_keys(text: str, *, source: str = "CCCD_API_KEYS") -> dict[str, str]:
    """``"desk-1=SECRET,desk-2=sha256:<hex>"`` -> ``{desk: stored hash}``."""
    keys: dict[str, str] = {}
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        desk, sep, secret = item.partition("=")
        desk, secret = desk.strip(), secret.strip()
        if not sep or not desk or not secret:
            raise SettingsError(f"{source}: each entry must be desk=SECRET")
        keys[desk] = _stored(secret)
    return keys


MIN_KEY_LENGTH = 16
# Digests of secrets nobody should use (a digest cannot show its key's length, so the
# well-known weak ones are refused by name; `cccd key new` makes proper ones).
_WEAK_SECRETS = (
    "test",
    "password",
    "secret",
    "admin",
    "changeme",
    "123456",
    "12345678",
    "1234567890",
    "desk",
    "desk-1",
    "demo",
    "cccd",
    "qwerty",
    "letmein",
    "hospital",
    "benhvien",
)
WEAK_DIGESTS = frozenset(hashlib.sha256(w.encode()).hexdigest() for w in _WEAK_SECRETS)


def _stored(secret: str) -> str:
    if secret.startswith("sha256:") and len(secret) == 7 + 64:
        digest = secret[7:].lower()
        if digest in WEAK_DIGESTS:
            raise SettingsError(
                "a desk key digest is that of a well-known weak secret: make a new key with "
                "`cccd key new`"
            )
        return "sha256:" + digest
    if len(secret) < MIN_KEY_LENGTH or len(set(secret)) < 8:
        raise SettingsError(
            f"desk keys must be at least {MIN_KEY_LENGTH} random characters "
            "(make one with `cccd key new`)"
        )
    return hash_key(secret)


def user_data_dir() -> Path:
    """The per-user data folder, as each OS has it (``platformdirs``): ``~/.local/share/cccd``
    on Linux (``$XDG_DATA_HOME`` respected), ``%LOCALAPPDATA%\\cccd`` on Windows,
    ``~/Library/Application Support/cccd`` on macOS."""
    import platformdirs

    return Path(platformdirs.user_data_dir("cccd", appauthor=False))


def user_config_file() -> Path:
    """The config file read when no ``--config``/``CCCD_CONFIG`` is given and it exists:
    ``~/.config/cccd/cccd.toml`` on Linux, ``%LOCALAPPDATA%\\cccd\\cccd.toml`` on Windows."""
    import platformdirs

    return Path(platformdirs.user_config_dir("cccd", appauthor=False)) / "cccd.toml"


def default_trust_dir() -> Path:
    """The trust directory ``cccd trust`` manages, under the user's data folder."""
    return user_data_dir() / "trust"


def _default_data_dir() -> Path:
    return user_data_dir()


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """Everything the service can be told. Build with ``Settings.load()``."""

    host: str = "127.0.0.1"
    port: int = 8080
    simulated: bool = False
    data_dir: Path = field(default_factory=_default_data_dir)
    database_url: str | None = None  # default: SQLite file in data_dir
    trust_store: Path | None = None
    # Serve reads only when anchored at a CSCA. None ("auto"): required as soon as the trust
    # store holds a CSCA; until then a valid signature is served as "issuer_not_checked".
    require_anchor: bool | None = None
    retention_hours: float = 12.0
    purge_interval_seconds: float = 60.0
    store_photos: bool = False  # False: face images in memory only, for photo_ttl_seconds
    photo_ttl_seconds: float = 900.0
    api_keys: Mapping[str, str] = field(default_factory=dict)  # desk -> "sha256:<hex>"
    rate_limit_per_minute: int = 600
    rate_limit_burst: int = 120
    audit_subject: AuditSubject = "hash"
    cors_origins: tuple[str, ...] = ()
    readers: tuple[str, ...] = ()  # PC/SC reader name filters (substring); empty: all
    simulated_readers: tuple[str, ...] = ("Simulated reader 1", "Simulated reader 2")
    simulated_link: bool = True  # simulated chips take a realistic time per APDU
    # simulated chips in a process of their own, as a real card's work is not the service's
    simulated_cards_process: bool = False
    card_wait_seconds: float = 15.0
    resume_wait_seconds: float = 10.0  # a card that left mid-read may come back this long
    queue_limit: int = 16
    scan_history: int = 500
    bhxh_url: str | None = None  # None in simulated mode: the in-process stand-in
    bhxh_username: str = ""
    bhxh_password: str = ""
    bhxh_officer_name: str = ""  # one hospital-wide officer (fallback for desks without one)
    bhxh_officer_id: str = ""
    # officers registered with BHXH: id -> (full name, 12-digit CCCD); desk -> officer id
    bhxh_officers: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    bhxh_desk_officers: Mapping[str, str] = field(default_factory=dict)
    bhxh_encoding: str = "form"  # or "json": the body of the token and card calls
    bhxh_connect_timeout_seconds: float = 15.0
    bhxh_timeout_seconds: float = 60.0  # total, per check (token + card + visit history)
    bhxh_token_timeout_seconds: float = 20.0  # the longest a check waits for a token
    bhxh_history: bool = True  # ask Lskcb2025 for the visit history of a usable card
    demo_key: str | None = None  # set when simulated mode generated a key (printed once)
    # -- desks, roles and privacy (docs/operations.md "Desks, roles and readers") --------
    desks: tuple[DeskConfig, ...] = ()  # from [desks.NAME] tables, plus api_keys as desks
    desk_readers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # env form
    key_roles: Mapping[str, str] = field(default_factory=dict)  # env form: name -> role
    stored_fields: frozenset[str] = frozenset()  # optional card fields kept at all
    audit_key_file: Path | None = None  # default: data_dir/audit.key (created 0600)
    audit_key: str | None = None  # or the key itself (CCCD_AUDIT_KEY), hex or text
    trusted_proxies: tuple[str, ...] = ()  # X-Forwarded-For only from these addresses
    allowed_hosts: tuple[str, ...] = ()  # Host header names besides the bound ones
    tls_cert: Path | None = None
    tls_key: Path | None = None
    allow_insecure_network: bool = False  # bind off loopback without TLS (not advised)
    max_body_bytes: int = 16_384
    purpose: str = "Xác định người bệnh khi tiếp đón khám bệnh, chữa bệnh và tra cứu thẻ BHYT"
    legal_basis: str = ""
    # The desk page: idle time after which a shown result is cleared, this hospital's
    # MaCSKCB (for "đúng tuyến"; default: the prefix of a "<MaCSKCB>_BV" gateway username)
    # and the operator's clinic list (CSV, see service/clinics.py).
    desk_idle_seconds: float = 120.0
    hospital_code: str = ""
    clinic_list: Path | None = None
    # -- HIS: field-name profiles and the signed webhook (service.his) ---------------------
    his_profiles: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    webhook_url: str | None = None  # POST each accepted result here (None: no webhook)
    webhook_secret: str = ""  # HMAC-SHA256 key shared with the HIS
    webhook_profile: str = "qd130"
    webhook_timeout_seconds: float = 10.0
    webhook_max_attempts: int = 50  # then the entry is kept as failed (visible in /healthz)
    webhook_stuck_seconds: float = 300.0  # /healthz reports the outbox stuck past this

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def load(
        cls,
        *,
        environ: Mapping[str, str] | None = None,
        config_file: str | os.PathLike[str] | None = None,
        **overrides: Any,
    ) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        path = config_file or env.get("CCCD_CONFIG")
        if path is None and environ is None and user_config_file().is_file():
            path = user_config_file()
        if path:
            values.update(_from_toml(Path(path)))
        values.update(_from_env(env))
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)
        settings = settings.with_desks()
        settings.validate()
        return settings

    def with_desks(self) -> Settings:
        """``desks`` completed with the ``api_keys`` entries (environment form), their
        ``desk_readers`` and ``key_roles``; checked across desks."""
        desks = list(self.desks)
        known = {d.name for d in desks}
        for name, digest in self.api_keys.items():
            if name in known:
                continue
            role = self.key_roles.get(name, "desk")
            if role not in ("desk", "lookup", "admin"):
                raise SettingsError(f"CCCD_KEY_ROLES: role of {name} must be desk, lookup or admin")
            desks.append(
                DeskConfig(
                    name=name,
                    role=role,  # type: ignore[arg-type]
                    keys=(digest,),
                    readers=self.desk_readers.get(name, ()) if role == "desk" else (),
                )
            )
        try:
            check_desks(desks)
        except DeskConfigError as exc:
            raise SettingsError(str(exc)) from None
        return replace(self, desks=tuple(desks))

    @property
    def reading_desks(self) -> tuple[DeskConfig, ...]:
        return tuple(d for d in self.desks if d.role == "desk")

    def with_demo_key(self) -> Settings:
        """Simulated mode with no key configured: a fresh key for a ``demo`` desk."""
        if self.desks or self.api_keys:
            return self
        key = generate_key()
        return replace(self, api_keys={"demo": hash_key(key)}, demo_key=key).with_desks()

    def validate(self) -> None:
        if not 0 < self.port < 65536:
            raise SettingsError("CCCD_PORT must be 1-65535")
        if self.retention_hours <= 0:
            raise SettingsError("CCCD_RETENTION_HOURS must be positive")
        if self.audit_subject not in ("hash", "mask", "none"):
            raise SettingsError("CCCD_AUDIT_SUBJECT must be hash, mask or none")
        if not 0 <= self.resume_wait_seconds <= 120:
            raise SettingsError("CCCD_RESUME_WAIT_SECONDS must be 0-120")
        if self.rate_limit_per_minute <= 0 or self.rate_limit_burst <= 0:
            raise SettingsError("rate limits must be positive")
        if self.max_body_bytes < 1024:
            raise SettingsError("max_body_bytes must be at least 1024")
        if bool(self.tls_cert) != bool(self.tls_key):
            raise SettingsError("TLS needs both CCCD_TLS_CERT and CCCD_TLS_KEY")
        unknown = self.stored_fields - OPTIONAL_FIELDS
        if unknown:
            raise SettingsError(f"stored_fields: {sorted(unknown)} are not optional card fields")
        if not 5 <= self.desk_idle_seconds <= 3600:
            raise SettingsError("CCCD_DESK_IDLE_SECONDS must be 5-3600")
        if self.hospital_code and not re.fullmatch(r"[0-9A-Z]{5}", self.hospital_code):
            raise SettingsError("CCCD_HOSPITAL_CODE must be the 5-character MaCSKCB, e.g. 01001")
        self._validate_his()
        if self.bhxh_officer_id and not (
            self.bhxh_officer_id.isdigit() and len(self.bhxh_officer_id) == 12
        ):
            raise SettingsError("CCCD_BHXH_OFFICER_ID must be the officer's 12-digit CCCD")
        if self.bhxh_encoding not in ("form", "json"):
            raise SettingsError("CCCD_BHXH_ENCODING must be form or json")
        if (
            min(
                self.bhxh_connect_timeout_seconds,
                self.bhxh_timeout_seconds,
                self.bhxh_token_timeout_seconds,
            )
            <= 0
        ):
            raise SettingsError("BHXH timeouts must be positive")
        try:
            # a desk naming an officer not in the list is refused; with no list at all the
            # checks are blocked at the desk ("no BHXH officers are configured")
            self.officer_book()
        except ValueError as exc:
            raise SettingsError(f"BHXH officers: {exc}") from None

    def officer_book(self, simulated_defaults: Mapping[str, tuple[str, str]] | None = None) -> Any:
        """The officers as a ``service.bhyt.OfficerBook``: the configured list, the legacy
        single officer as ``default`` (the fallback for desks without their own), or, when
        nothing is configured, ``simulated_defaults`` with the first as fallback."""
        from service.bhyt.officers import LEGACY_ID, OfficerBook, make_officer

        entries = dict(self.bhxh_officers)
        fallback: str | None = None
        if self.bhxh_officer_name and self.bhxh_officer_id:
            entries.setdefault(LEGACY_ID, (self.bhxh_officer_name, self.bhxh_officer_id))
            fallback = LEGACY_ID
        if not entries and simulated_defaults:
            entries = dict(simulated_defaults)
            fallback = next(iter(entries))
        officers = {k: make_officer(k, name, cccd) for k, (name, cccd) in entries.items()}
        # each desk's default: its own ``officer`` ([desks.NAME]), else the desk mapping
        defaults = {**self.bhxh_desk_officers}
        defaults.update({d.name: d.officer for d in self.desks if d.officer})
        return OfficerBook(officers, defaults if officers else {}, fallback=fallback)

    def _validate_his(self) -> None:
        from service.his.fields import ProfileError, validate_profiles

        try:
            validate_profiles(self.his_profiles)
        except ProfileError as exc:
            raise SettingsError(str(exc)) from None
        if self.webhook_url is not None:
            if not self.webhook_url.startswith(("https://", "http://")):
                raise SettingsError("CCCD_WEBHOOK_URL must be an http(s) URL")
            if len(self.webhook_secret) < 16:
                raise SettingsError("CCCD_WEBHOOK_SECRET must be at least 16 characters")
            if self.webhook_profile not in ("qd130", "qd130-old", *self.his_profiles):
                raise SettingsError("CCCD_WEBHOOK_PROFILE names no known HIS profile")
        if self.webhook_timeout_seconds <= 0 or self.webhook_max_attempts < 1:
            raise SettingsError("webhook timeout and attempts must be positive")

    @property
    def effective_hospital_code(self) -> str:
        """This hospital's MaCSKCB: configured, else from the gateway username."""
        if self.hospital_code:
            return self.hospital_code
        prefix, _, suffix = self.bhxh_username.partition("_")
        if suffix.upper() == "BV" and re.fullmatch(r"[0-9A-Z]{5}", prefix):
            return prefix
        return ""

    @property
    def loopback_only(self) -> bool:
        return self.host in LOOPBACK

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None and self.tls_key is not None

    @property
    def effective_audit_key_file(self) -> Path:
        return self.audit_key_file or self.data_dir / "audit.key"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'cccd.sqlite3'}"

    def __repr__(self) -> str:  # never print secrets
        shown = {f.name: getattr(self, f.name) for f in fields(self)}
        shown["api_keys"] = sorted(self.api_keys)
        shown["desks"] = [f"{d.name}:{d.role}" for d in self.desks]
        for secret in (
            "bhxh_password",
            "demo_key",
            "bhxh_officer_id",
            "audit_key",
            "webhook_secret",
        ):
            shown[secret] = "***" if shown[secret] else ""
        shown["bhxh_officers"] = sorted(self.bhxh_officers)
        return f"Settings({', '.join(f'{k}={v!r}' for k, v in shown.items())})"


# -- sources --------------------------------------------------------------------------------

_ENV: dict[str, tuple[str, str]] = {
    # variable -> (field, kind)
    "CCCD_HOST": ("host", "str"),
    "CCCD_PORT": ("port", "int"),
    "CCCD_SIMULATED": ("simulated", "bool"),
    "CCCD_DATA_DIR": ("data_dir", "path"),
    "CCCD_DATABASE_URL": ("database_url", "str"),
    "CCCD_TRUST_STORE": ("trust_store", "path"),
    "CCCD_REQUIRE_ANCHOR": ("require_anchor", "auto_bool"),
    "CCCD_RETENTION_HOURS": ("retention_hours", "float"),
    "CCCD_PURGE_INTERVAL_SECONDS": ("purge_interval_seconds", "float"),
    "CCCD_STORE_PHOTOS": ("store_photos", "bool"),
    "CCCD_PHOTO_TTL_SECONDS": ("photo_ttl_seconds", "float"),
    "CCCD_API_KEYS": ("api_keys", "keys"),
    "CCCD_RATE_LIMIT": ("rate_limit_per_minute", "int"),
    "CCCD_RATE_LIMIT_BURST": ("rate_limit_burst", "int"),
    "CCCD_AUDIT_SUBJECT": ("audit_subject", "str"),
    "CCCD_CORS_ORIGINS": ("cors_origins", "list"),
    "CCCD_READERS": ("readers", "list"),
    "CCCD_SIMULATED_READERS": ("simulated_readers", "list"),
    "CCCD_SIMULATED_LINK": ("simulated_link", "bool"),
    "CCCD_SIMULATED_CARDS_PROCESS": ("simulated_cards_process", "bool"),
    "CCCD_CARD_WAIT_SECONDS": ("card_wait_seconds", "float"),
    "CCCD_RESUME_WAIT_SECONDS": ("resume_wait_seconds", "float"),
    "CCCD_QUEUE_LIMIT": ("queue_limit", "int"),
    "CCCD_BHXH_URL": ("bhxh_url", "str"),
    "CCCD_BHXH_USERNAME": ("bhxh_username", "str"),
    "CCCD_BHXH_PASSWORD": ("bhxh_password", "str"),
    "CCCD_BHXH_OFFICER_NAME": ("bhxh_officer_name", "str"),
    "CCCD_BHXH_OFFICER_ID": ("bhxh_officer_id", "str"),
    "CCCD_BHXH_OFFICERS": ("bhxh_officers", "officers"),
    "CCCD_BHXH_DESK_OFFICERS": ("bhxh_desk_officers", "desk_officers"),
    "CCCD_BHXH_ENCODING": ("bhxh_encoding", "str"),
    "CCCD_BHXH_CONNECT_TIMEOUT_SECONDS": ("bhxh_connect_timeout_seconds", "float"),
    "CCCD_BHXH_TIMEOUT_SECONDS": ("bhxh_timeout_seconds", "float"),
    "CCCD_DESK_READERS": ("desk_readers", "desk_readers"),
    "CCCD_KEY_ROLES": ("key_roles", "roles"),
    "CCCD_STORED_FIELDS": ("stored_fields", "fieldset"),
    "CCCD_AUDIT_KEY_FILE": ("audit_key_file", "path"),
    "CCCD_AUDIT_KEY": ("audit_key", "str"),
    "CCCD_TRUSTED_PROXIES": ("trusted_proxies", "list"),
    "CCCD_ALLOWED_HOSTS": ("allowed_hosts", "list"),
    "CCCD_TLS_CERT": ("tls_cert", "path"),
    "CCCD_TLS_KEY": ("tls_key", "path"),
    "CCCD_ALLOW_INSECURE_NETWORK": ("allow_insecure_network", "bool"),
    "CCCD_MAX_BODY_BYTES": ("max_body_bytes", "int"),
    "CCCD_PURPOSE": ("purpose", "str"),
    "CCCD_LEGAL_BASIS": ("legal_basis", "str"),
    "CCCD_DESK_IDLE_SECONDS": ("desk_idle_seconds", "float"),
    "CCCD_HOSPITAL_CODE": ("hospital_code", "str"),
    "CCCD_CLINIC_LIST": ("clinic_list", "path"),
    # HIS (service.his)
    "CCCD_HIS_PROFILES": ("his_profiles", "profiles"),
    "CCCD_WEBHOOK_URL": ("webhook_url", "str"),
    "CCCD_WEBHOOK_SECRET": ("webhook_secret", "str"),
    "CCCD_WEBHOOK_PROFILE": ("webhook_profile", "str"),
    "CCCD_WEBHOOK_TIMEOUT_SECONDS": ("webhook_timeout_seconds", "float"),
    "CCCD_WEBHOOK_MAX_ATTEMPTS": ("webhook_max_attempts", "int"),
    "CCCD_WEBHOOK_STUCK_SECONDS": ("webhook_stuck_seconds", "float"),
    "CCCD_BHXH_TOKEN_TIMEOUT_SECONDS": ("bhxh_token_timeout_seconds", "float"),
    "CCCD_BHXH_HISTORY": ("bhxh_history", "bool"),
}
_KINDS = {name: kind for name, kind in _ENV.values()}
_KINDS["desks"] = "desks"


def _convert(name: str, kind: str, raw: Any, source: str) -> Any:
    try:
        if kind in ("officers", "desk_officers"):
            from service.bhyt import officers

            parse = officers.parse_officers if kind == "officers" else officers.parse_desk_officers
            try:
                return parse(raw, source=source)
            except officers.OfficerError as exc:
                raise SettingsError(str(exc)) from None
        if kind == "desks":
            if not isinstance(raw, Mapping):
                raise SettingsError(f"{source}: [desks.NAME] tables are needed")
            try:
                return tuple(
                    desk_from_mapping(
                        str(n),
                        d if isinstance(d, Mapping) else {},
                        source=f"{source}.{n}",
                        stored=_stored,
                    )
                    for n, d in raw.items()
                )
            except DeskConfigError as exc:
                raise SettingsError(str(exc)) from None
        if kind == "desk_readers":
            if isinstance(raw, Mapping):
                items = {str(k): v for k, v in raw.items()}
            else:
                items = dict(part.split("=", 1) for part in str(raw).split(",") if "=" in part)
            return {
                k.strip(): tuple(
                    x.strip()
                    for x in (v if isinstance(v, list) else str(v).split("|"))
                    if str(x).strip()
                )
                for k, v in items.items()
            }
        if kind == "roles":
            if isinstance(raw, Mapping):
                return {str(k): str(v) for k, v in raw.items()}
            return {
                k.strip(): v.strip()
                for k, _, v in (p.partition("=") for p in str(raw).split(",") if p.strip())
            }
        if kind == "fieldset":
            values = raw if isinstance(raw, list | tuple) else str(raw).split(",")
            return frozenset(str(x).strip() for x in values if str(x).strip())
        if kind == "keys":
            if isinstance(raw, Mapping):
                return {str(k): _stored(str(v)) for k, v in raw.items()}
            return parse_api_keys(str(raw), source=source)
        if kind == "profiles":  # a TOML table of tables, or JSON in the environment
            value = json.loads(raw) if isinstance(raw, str) else raw
            if not isinstance(value, Mapping) or not all(
                isinstance(v, Mapping) for v in value.values()
            ):
                raise ValueError("not a table of tables")
            return {str(k): {str(a): str(b) for a, b in v.items()} for k, v in value.items()}
        if kind == "list":
            if isinstance(raw, list | tuple):
                return tuple(str(x).strip() for x in raw if str(x).strip())
            return tuple(x.strip() for x in str(raw).split(",") if x.strip())
        if kind == "auto_bool" and (raw is None or str(raw).strip().lower() in ("auto", "")):
            return None
        if kind in ("bool", "auto_bool"):
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(text)
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "path":
            return Path(str(raw)).expanduser()
        return str(raw)
    except SettingsError:
        raise
    except (TypeError, ValueError):
        raise SettingsError(f"{source}: not a valid {kind} for {name}") from None


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for variable, (name, kind) in _ENV.items():
        if variable in env:
            values[name] = _convert(name, kind, env[variable], variable)
    return values


def _from_toml(path: Path) -> dict[str, Any]:
    """Keys as the field names, flat or under ``[cccd]``; ``[api_keys]`` and ``[bhxh]``
    tables are accepted too (``[bhxh] url = ...`` is ``bhxh_url``)."""
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise SettingsError(f"cannot read config file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"config file {path}: {exc}") from None
    data = dict(data.get("cccd", data))
    bhxh = data.pop("bhxh", None)
    if isinstance(bhxh, dict):
        data.update({f"bhxh_{k}": v for k, v in bhxh.items()})
    webhook = data.pop("webhook", None)  # [webhook] url = ... is webhook_url
    if isinstance(webhook, dict):
        data.update({f"webhook_{k}": v for k, v in webhook.items()})
    values: dict[str, Any] = {}
    for key, raw in data.items():
        if key not in _KINDS:
            raise SettingsError(f"config file {path}: unknown setting {key!r}")
        values[key] = _convert(key, _KINDS[key], raw, f"{path}:{key}")
    return values
