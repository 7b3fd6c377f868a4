"""Service settings: one class, read by pydantic-settings from an optional TOML file and
``CCCD_*`` environment variables ("App factory and settings"; the twelve-factor "config in the
environment"; docs/operations.md "Settings").

Precedence, lowest first: defaults, the config file (``--config`` or ``CCCD_CONFIG``), the
environment, then command-line flags (``cccd serve --host/--port``). A higher source replaces
a setting whole (a table in the file is not merged with the same setting from the
environment). Desk keys are kept only as SHA-256 digests, made where a key is read: the
secrets themselves never sit in memory after start-up. ``repr``/``str`` (what a log or an
error would show) mask every secret; ``model_dump`` is the values themselves, not for printing.

pydantic-settings does the reading and the typing (int, float, path, literal choices); what is
ours is only what the existing formats need: the environment's comma lists and ``name=value``
pairs (field validators below), the config file's ``[cccd]``, ``[bhxh]`` and ``[webhook]``
tables and its unknown-key check (``_ConfigFile``), and an environment given as a mapping
(``Settings.load(environ=...)``, ``_Environment``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import tomllib
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, InstanceOf, ValidationError
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

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


# -- value formats: the environment writes text, a TOML file lists and tables -----------------
# Each takes either form (and an already-typed value, for ``Settings(...)`` in code).

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


def _flag(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("not a valid bool: use true or false (1/0, yes/no, on/off)")


def _auto_flag(raw: Any) -> bool | None:
    if raw is None or str(raw).strip().lower() in ("auto", ""):
        return None
    return _flag(raw)


def _items(raw: Any) -> tuple[str, ...]:
    """``"a, b"`` or ``["a", "b"]`` -> ``("a", "b")``: stripped, empty entries dropped."""
    values = raw if isinstance(raw, list | tuple | set | frozenset) else str(raw).split(",")
    return tuple(str(x).strip() for x in values if str(x).strip())


def _pairs(raw: Any) -> dict[str, Any]:
    """``"a=1,b=2"`` or a table -> ``{"a": "1", "b": "2"}`` (keys stripped)."""
    if isinstance(raw, Mapping):
        return {str(k).strip(): v for k, v in raw.items()}
    return {
        k.strip(): v.strip()
        for k, _, v in (p.partition("=") for p in str(raw).split(","))
        if k.strip()
    }


def _desk_readers(raw: Any) -> dict[str, tuple[str, ...]]:
    """``desk-1=ACS ACR1252|Virtual PCD,desk-2=...`` or a table of lists."""
    if not isinstance(raw, Mapping):
        raw = dict(part.split("=", 1) for part in str(raw).split(",") if "=" in part)
    return {
        str(k).strip(): tuple(
            str(x).strip()
            for x in (v if isinstance(v, list | tuple) else str(v).split("|"))
            if str(x).strip()
        )
        for k, v in raw.items()
    }


def _api_keys(raw: Any) -> Any:
    """The environment form ``desk=SECRET,...``, hashed at once; a table from the config file
    was hashed where it was read (``_file_values``), and code passes digests."""
    if isinstance(raw, str):
        return parse_api_keys(raw)
    return dict(raw) if isinstance(raw, Mapping) else raw


def _officers(raw: Any) -> dict[str, tuple[str, str]]:
    from service.integrations.bhyt.officers import parse_officers

    if isinstance(raw, Mapping) and all(isinstance(v, tuple) for v in raw.values()):
        raw = {k: {"name": v[0], "cccd": v[1]} for k, v in raw.items()}  # typed, from code
    return parse_officers(raw)


def _desk_officers(raw: Any) -> dict[str, str]:
    from service.integrations.bhyt.officers import parse_desk_officers

    return parse_desk_officers(raw)


def _profiles(raw: Any) -> dict[str, dict[str, str]]:
    """A TOML table of tables, or JSON in the environment."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise ValueError("not valid JSON") from None
    if not isinstance(raw, Mapping) or not all(isinstance(v, Mapping) for v in raw.values()):
        raise ValueError("not a table of tables")
    return {str(k): {str(a): str(b) for a, b in v.items()} for k, v in raw.items()}


Flag = Annotated[bool, BeforeValidator(_flag)]
AutoFlag = Annotated[bool | None, BeforeValidator(_auto_flag)]
Items = Annotated[tuple[str, ...], BeforeValidator(_items)]
ItemSet = Annotated[frozenset[str], BeforeValidator(_items)]
Pairs = Annotated[Mapping[str, str], BeforeValidator(_pairs)]
UserPath = Annotated[Path, AfterValidator(Path.expanduser)]
DeskKeys = Annotated[Mapping[str, str], BeforeValidator(_api_keys)]
DeskReaders = Annotated[Mapping[str, tuple[str, ...]], BeforeValidator(_desk_readers)]
Officers = Annotated[Mapping[str, tuple[str, str]], BeforeValidator(_officers)]
DeskOfficers = Annotated[Mapping[str, str], BeforeValidator(_desk_officers)]
Profiles = Annotated[Mapping[str, Mapping[str, str]], BeforeValidator(_profiles)]


# -- the settings ------------------------------------------------------------------------------

# Settings that no environment variable sets (``desks`` comes from ``[desks.NAME]`` tables, or
# from CCCD_API_KEYS with CCCD_DESK_READERS and CCCD_KEY_ROLES), and those only code sets.
_NOT_FROM_ENV = frozenset({"scan_history", "demo_key", "desks"})
_RENAMED = {"rate_limit_per_minute": "CCCD_RATE_LIMIT"}  # the one variable not CCCD_ + name
_NOT_FROM_FILE = frozenset({"scan_history", "demo_key"})
_SECRETS = ("bhxh_password", "demo_key", "bhxh_officer_id", "audit_key", "webhook_secret")


@dataclass
class _Origin:
    """Where ``Settings.load`` reads from, and where each value it found came from (so an
    error names the variable or the file key that holds the bad value)."""

    environ: Mapping[str, str]
    config_file: Path | None
    overrides: frozenset[str]
    from_env: dict[str, str] = field(default_factory=dict)  # field -> variable
    from_file: set[str] = field(default_factory=set)

    def where(self, name: str) -> str:
        if name in self.overrides:
            return name
        if name in self.from_env:
            return self.from_env[name]
        if name in self.from_file:
            return f"{self.config_file}:{name}"
        return name


_LOADING: ContextVar[_Origin | None] = ContextVar("cccd_settings_loading", default=None)


class Settings(BaseSettings):
    """Everything the service can be told. Build with ``Settings.load()``; ``Settings(...)``
    in code takes the values given and the defaults, and reads nothing."""

    model_config = SettingsConfigDict(
        frozen=True,
        extra="forbid",
        env_prefix="CCCD_",
        enable_decoding=False,  # the environment's own formats, not JSON (field validators)
        coerce_numbers_to_str=True,  # password = 12345678 in the file is a string
        hide_input_in_errors=True,  # a bad value may be a secret
    )

    host: str = "127.0.0.1"
    port: int = 8080
    simulated: Flag = False
    data_dir: UserPath = Field(default_factory=_default_data_dir)
    database_url: str | None = None  # default: SQLite file in data_dir
    trust_store: UserPath | None = None
    # Serve reads only when anchored at a CSCA. None ("auto"): required as soon as the trust
    # store holds a CSCA; until then a valid signature is served as "issuer_not_checked".
    require_anchor: AutoFlag = None
    retention_hours: float = 12.0
    purge_interval_seconds: float = 60.0
    store_photos: Flag = False  # False: face images in memory only, for photo_ttl_seconds
    photo_ttl_seconds: float = 900.0
    api_keys: DeskKeys = {}  # desk -> "sha256:<hex>" (pydantic copies each default)
    rate_limit_per_minute: int = 600  # CCCD_RATE_LIMIT
    rate_limit_burst: int = 120
    audit_subject: AuditSubject = "hash"
    cors_origins: Items = ()
    readers: Items = ()  # PC/SC reader name filters (substring); empty: all
    simulated_readers: Items = ("Simulated reader 1", "Simulated reader 2")
    simulated_link: Flag = True  # simulated chips take a realistic time per APDU
    # simulated chips in a process of their own, as a real card's work is not the service's
    simulated_cards_process: Flag = False
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
    bhxh_officers: Officers = {}
    bhxh_desk_officers: DeskOfficers = {}
    bhxh_encoding: str = "form"  # or "json": the body of the token and card calls
    bhxh_connect_timeout_seconds: float = 15.0
    bhxh_timeout_seconds: float = 60.0  # total, per check (token + card + visit history)
    bhxh_token_timeout_seconds: float = 20.0  # the longest a check waits for a token
    bhxh_history: Flag = True  # ask Lskcb2025 for the visit history of a usable card
    demo_key: str | None = None  # set when simulated mode generated a key (printed once)
    # -- desks, roles and privacy (docs/operations.md "Desks, roles and readers") --------
    desks: tuple[InstanceOf[DeskConfig], ...] = ()  # [desks.NAME] tables, plus api_keys
    desk_readers: DeskReaders = {}  # env form
    key_roles: Pairs = {}  # env form: name -> role
    stored_fields: ItemSet = frozenset()  # optional card fields kept at all
    audit_key_file: UserPath | None = None  # default: data_dir/audit.key (created 0600)
    audit_key: str | None = None  # or the key itself (CCCD_AUDIT_KEY), hex or text
    trusted_proxies: Items = ()  # X-Forwarded-For only from these addresses
    allowed_hosts: Items = ()  # Host header names besides the bound ones
    tls_cert: UserPath | None = None
    tls_key: UserPath | None = None
    allow_insecure_network: Flag = False  # bind off loopback without TLS (not advised)
    max_body_bytes: int = 16_384
    purpose: str = "Xác định người bệnh khi tiếp đón khám bệnh, chữa bệnh và tra cứu thẻ BHYT"
    legal_basis: str = ""
    # The desk page: idle time after which a shown result is cleared, this hospital's
    # MaCSKCB (for "đúng tuyến"; default: the prefix of a "<MaCSKCB>_BV" gateway username)
    # and the operator's clinic list (CSV, see service/integrations/clinics.py).
    desk_idle_seconds: float = 120.0
    hospital_code: str = ""
    clinic_list: UserPath | None = None
    # -- HIS: field-name profiles and the signed webhook (service.integrations.his) --------
    his_profiles: Profiles = {}
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
        """Defaults < the config file < the environment (``os.environ`` unless given) <
        ``overrides`` (command-line flags; None means "not given"). Every error is a
        ``SettingsError`` naming the variable or file key."""
        env = os.environ if environ is None else environ
        path = config_file or env.get("CCCD_CONFIG")
        if path is None and environ is None and user_config_file().is_file():
            path = user_config_file()
        given = {k: v for k, v in overrides.items() if v is not None}
        origin = _Origin(env, Path(path) if path else None, frozenset(given))
        token = _LOADING.set(origin)
        try:
            settings = cls(**given)
        except ValidationError as exc:
            raise SettingsError(_explain(exc, origin)) from None
        finally:
            _LOADING.reset(token)
        settings = settings.with_desks()
        settings.check_rules()
        return settings

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Highest first: the values given, the environment, the config file. Outside
        ``load`` only the values given (``Settings(...)`` in code and tests reads nothing)."""
        origin = _LOADING.get()
        if origin is None:
            return (init_settings,)
        sources: list[PydanticBaseSettingsSource] = [
            init_settings,
            _Environment(settings_cls, origin),
        ]
        if origin.config_file is not None:
            sources.append(_ConfigFile(settings_cls, origin.config_file, origin))
        return tuple(sources)

    def _replace(self, **changes: Any) -> Settings:
        return self.model_copy(update=changes)

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
        return self._replace(desks=tuple(desks))

    @property
    def reading_desks(self) -> tuple[DeskConfig, ...]:
        return tuple(d for d in self.desks if d.role == "desk")

    def with_demo_key(self) -> Settings:
        """Simulated mode with no key configured: a fresh key for a ``demo`` desk."""
        if self.desks or self.api_keys:
            return self
        key = generate_key()
        return self._replace(api_keys={"demo": hash_key(key)}, demo_key=key).with_desks()

    def check_rules(self) -> None:
        """The rules across settings and the ranges, named by their variables."""
        if not 0 < self.port < 65536:
            raise SettingsError("CCCD_PORT must be 1-65535")
        if self.retention_hours <= 0:
            raise SettingsError("CCCD_RETENTION_HOURS must be positive")
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
        """The officers as a ``service.integrations.bhyt.OfficerBook``: the configured list,
        the legacy single officer as ``default`` (the fallback for desks without their own),
        or, when nothing is configured, ``simulated_defaults`` with the first as fallback."""
        from service.integrations.bhyt.officers import LEGACY_ID, OfficerBook, make_officer

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
        from service.integrations.his.fields import ProfileError, validate_profiles

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

    # -- showing: never a secret -----------------------------------------------------------
    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        """What ``repr``/``str`` show (pydantic builds both from this): desk names without
        their keys, officer ids without their CCCDs, ``***`` for each secret set, and the
        database URL without its password."""
        for name, value in super().__repr_args__():
            if name == "api_keys":
                value = sorted(self.api_keys)
            elif name == "desks":
                value = [f"{d.name}:{d.role}" for d in self.desks]
            elif name == "bhxh_officers":
                value = sorted(self.bhxh_officers)
            elif name in _SECRETS:
                value = "***" if value else ""
            elif name == "database_url" and value:
                value = _without_password(value)
            yield name, value


def _without_password(url: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "***"


# -- sources: pydantic-settings' own, fitted to these names and formats -------------------------


class _Environment(EnvSettingsSource):
    """pydantic-settings' environment source over the mapping ``Settings.load`` was given,
    reading only the documented variables: ``CCCD_`` + the setting's name in upper case
    (``CCCD_RATE_LIMIT`` for ``rate_limit_per_minute``), none for the settings without one."""

    def __init__(self, settings_cls: type[BaseSettings], origin: _Origin) -> None:
        self._origin = origin
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        # only the documented names, exactly (upper case: Windows upper-cases them itself),
        # given as the library looks them up (lower case, CCCD_ + the setting's name)
        environ = self._origin.environ
        return {
            _ENV_NAMES[k.lower()]: v
            for k, v in environ.items()
            if k.lower() in _ENV_NAMES and k == k.upper()
        }

    def __call__(self) -> dict[str, Any]:
        values = super().__call__()
        self._origin.from_env.update({name: _VARIABLES[name] for name in values})
        return values


class _ConfigFile(TomlConfigSettingsSource):
    """pydantic-settings' TOML source: keys as the setting names, flat or under ``[cccd]``;
    ``[bhxh]`` and ``[webhook]`` tables stand for the ``bhxh_`` and ``webhook_`` settings
    (``[bhxh] url = ...`` is ``bhxh_url``); an unknown key is an error."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path, origin: _Origin) -> None:
        self._origin = origin
        try:  # an explicit file must exist (pydantic-settings would skip a missing one)
            path.open("rb").close()
        except OSError as exc:
            raise SettingsError(f"cannot read config file {path}: {exc.strerror}") from None
        super().__init__(settings_cls, toml_file=path)

    def _read_file(self, path: Any) -> dict[str, Any]:
        try:
            data = super()._read_file(path)
        except OSError as exc:
            raise SettingsError(f"cannot read config file {path}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"config file {path}: {exc}") from None
        values = _file_values(data, path)
        self._origin.from_file.update(values)
        return values


def _file_values(data: Mapping[str, Any], path: Path) -> dict[str, Any]:
    data = dict(data.get("cccd", data))
    for table in ("bhxh", "webhook"):
        section = data.pop(table, None)
        if isinstance(section, dict):
            data.update({f"{table}_{k}": v for k, v in section.items()})
    values: dict[str, Any] = {}
    for key, raw in data.items():
        if key not in _FILE_KEYS:
            raise SettingsError(f"config file {path}: unknown setting {key!r}")
        source = f"{path}:{key}"
        if key == "api_keys":  # hashed here, as read
            if isinstance(raw, Mapping):
                raw = {str(k): _stored(str(v)) for k, v in raw.items()}
            else:
                raw = parse_api_keys(str(raw), source=source)
        elif key == "desks":
            raw = _desks(raw, source)
        # a table replaces the same setting from a lower source whole: pydantic-settings
        # merges only plain dicts, and the field validators make a dict of it again
        values[key] = MappingProxyType(raw) if isinstance(raw, dict) else raw
    return values


def _desks(raw: Any, source: str) -> tuple[DeskConfig, ...]:
    if not isinstance(raw, Mapping):
        raise SettingsError(f"{source}: [desks.NAME] tables are needed")
    try:
        return tuple(
            desk_from_mapping(
                str(n), d if isinstance(d, Mapping) else {}, source=f"{source}.{n}", stored=_stored
            )
            for n, d in raw.items()
        )
    except DeskConfigError as exc:
        raise SettingsError(str(exc)) from None


def _explain(error: ValidationError, origin: _Origin) -> str:
    """Each bad value named by where it came from, with pydantic's reason (never the value)."""
    parts = []
    for item in error.errors(include_input=False, include_url=False):
        key = str(item["loc"][0]) if item["loc"] else ""
        where = origin.where(key)
        message = str(item["msg"]).removeprefix("Value error, ")
        parts.append(message if message.startswith(f"{where}:") else f"{where}: {message}")
    return "; ".join(parts)


# Each setting's environment variable, and the library's (lower-case) name for it.
_VARIABLES = {
    name: _RENAMED.get(name, f"CCCD_{name.upper()}")
    for name in Settings.model_fields
    if name not in _NOT_FROM_ENV
}
_ENV_NAMES = {variable.lower(): f"cccd_{name}" for name, variable in _VARIABLES.items()}
_FILE_KEYS = frozenset(Settings.model_fields) - _NOT_FROM_FILE
