"""The officers (cán bộ tra cứu) a hospital registered with BHXH (``docs/spec/bhyt-gateway.md``:
every check carries ``hoTenCb`` and ``cccdCb``, an empty one is refused, an unregistered one
answers 054/055). The list is configured; each desk may have a default officer; the desk page
may choose another at sign-in. Only ids and names ever leave the service: an officer's CCCD
goes to the gateway and nowhere else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

OFFICER_ID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
LEGACY_ID = "default"


class OfficerError(ValueError):
    """An officer list or desk mapping that cannot be used."""


@dataclass(frozen=True, slots=True)
class Officer:
    id: str
    name: str
    cccd: str

    def public(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name}

    def __repr__(self) -> str:  # the CCCD is personal data: never printed
        return f"Officer(id={self.id!r}, name=<{len(self.name)} chars>, cccd=***)"


def make_officer(officer_id: str, name: str, cccd: str) -> Officer:
    name = " ".join(str(name).split())
    cccd = str(cccd).strip()
    if not OFFICER_ID.match(officer_id):
        raise OfficerError(f"officer id {officer_id!r}: 1-32 letters, digits, '_', '.', '-'")
    if not name or len(name) > 100:
        raise OfficerError(f"officer {officer_id!r}: the name must be 1-100 characters")
    if not (cccd.isdigit() and len(cccd) == 12):
        raise OfficerError(f"officer {officer_id!r}: the CCCD must be 12 digits")
    return Officer(officer_id, name, cccd)


class OfficerBook:
    """The hospital's officers and each desk's default."""

    def __init__(
        self,
        officers: Mapping[str, Officer],
        desk_defaults: Mapping[str, str] | None = None,
        *,
        fallback: str | None = None,
    ) -> None:
        self._officers = dict(officers)
        self._desks = dict(desk_defaults or {})
        for desk, officer_id in self._desks.items():
            if officer_id not in self._officers:
                raise OfficerError(f"desk {desk!r}: officer {officer_id!r} is not in the list")
        if fallback is not None and fallback not in self._officers:
            raise OfficerError(f"fallback officer {fallback!r} is not in the list")
        self._fallback = fallback

    def __len__(self) -> int:
        return len(self._officers)

    def listing(self) -> list[dict[str, str]]:
        return [o.public() for o in sorted(self._officers.values(), key=lambda o: o.name)]

    def get(self, officer_id: str) -> Officer | None:
        return self._officers.get(officer_id)

    def desk_default(self, desk: str, principal_officer: str | None = None) -> Officer | None:
        """The desk's officer: the principal's own (a desk model that carries it), else the
        desk mapping, else the hospital-wide fallback."""
        for officer_id in (principal_officer, self._desks.get(desk), self._fallback):
            if officer_id and officer_id in self._officers:
                return self._officers[officer_id]
        return None


def _at(source: str) -> str:
    return f"{source}: " if source else ""


def parse_officers(raw: object, *, source: str = "") -> dict[str, tuple[str, str]]:
    """Officers from the environment (``cb01=Nguyễn Thị A|001190000001;cb02=...``) or a TOML
    table (``cb01 = {name = "...", cccd = "..."}``) -> ``{id: (name, cccd)}``. ``source``
    prefixes the errors (the settings name it themselves)."""
    out: dict[str, tuple[str, str]] = {}
    if isinstance(raw, Mapping):
        for officer_id, entry in raw.items():
            if not isinstance(entry, Mapping):
                raise OfficerError(f"{_at(source)}officer {officer_id!r} needs name and cccd")
            out[str(officer_id)] = (str(entry.get("name", "")), str(entry.get("cccd", "")))
    else:
        for item in str(raw).split(";"):
            if not item.strip():
                continue
            officer_id, sep, rest = item.partition("=")
            name, bar, cccd = rest.rpartition("|")
            if not sep or not bar:
                raise OfficerError(f"{_at(source)}each entry must be id=Full Name|CCCD")
            out[officer_id.strip()] = (name.strip(), cccd.strip())
    for officer_id, (name, cccd) in out.items():
        make_officer(officer_id, name, cccd)  # validates
    return out


def parse_desk_officers(raw: object, *, source: str = "") -> dict[str, str]:
    """``desk-1=cb01,desk-2=cb02`` or a TOML table -> ``{desk: officer id}``."""
    if isinstance(raw, Mapping):
        return {str(k): str(v) for k, v in raw.items()}
    out: dict[str, str] = {}
    for item in str(raw).split(","):
        if not item.strip():
            continue
        desk, sep, officer_id = item.partition("=")
        if not sep or not desk.strip() or not officer_id.strip():
            raise OfficerError(f"{_at(source)}each entry must be desk=officer-id")
        out[desk.strip()] = officer_id.strip()
    return out
