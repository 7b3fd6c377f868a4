"""The desk model (docs/operations.md "Desks, roles and readers"): who may call the service
and what each caller may see.

A *principal* is a configured name with one or more keys and a role:

- ``desk``: a reception desk. It owns readers (PC/SC reader-name filters, or simulated reader
  names); it may start reads only on them, and only it sees its scans, their photos and its
  readers' events. Other principals get 404 for them (never 403: an id's existence is not
  confirmed).
- ``lookup``: a clinic room or the HIS back end: lookups of verified reads by the full ID
  number, and insurance checks; no readers, no scans.
- ``admin``: lookups plus the audit export and erasure.

Every authenticated role may look a verified read up by the full 12-digit ID number (the
hospital-wide purpose), audited; nobody can list or search people by a fragment.

Sensitive or unneeded card fields (religion, identifying marks, parents' and spouse's names,
place of origin, the old ID number) are shown to a principal only when its ``fields`` names
them, and stored only when the service's ``stored_fields`` does (Decree 13/2023/NĐ-CP:
minimisation).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from reader.lds import vocabulary

Role = Literal["desk", "lookup", "admin"]
ROLES: tuple[Role, ...] = ("desk", "lookup", "admin")

# What check-in needs: always kept and served -- the card fields the vocabulary does not call
# sensitive (reader.lds.vocabulary), with the derived, non-personal keys the desk page uses,
# such as the title-cased name and the card status.
CHECKIN_FIELDS = vocabulary.CHECKIN_NAMES | {
    "source",
    "full_name_title",
    "name_ascii_only",
    "search_key",
    "age",
    "no_expiry",
    "card_status",
    "days_left",
    "repairs",
    "checks",
    "consistent",
    "his",
}
# Only where the configuration asks for them, per role; never stored unless asked: the
# sensitive card fields, and the unnamed DG13 fields.
OPTIONAL_FIELDS = vocabulary.SENSITIVE_NAMES | {"extra"}


class DeskConfigError(ValueError):
    """A desk definition that cannot be used, named with where it came from."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DeskConfig:
    """One configured principal. ``keys`` are stored digests (``sha256:<hex>``)."""

    name: str
    role: Role = "desk"
    keys: tuple[str, ...] = ()
    readers: tuple[str, ...] = ()  # reader-name filters (substrings); desks only
    fields: frozenset[str] = frozenset()  # optional fields this principal may see
    officer: str | None = None  # default BHXH officer id for this desk's insurance checks

    def owns_reader(self, reader_name: str) -> bool:
        if self.role != "desk":
            return False
        if not self.readers:  # the only desk of this service: every reader
            return True
        return any(pattern == reader_name or pattern in reader_name for pattern in self.readers)


@dataclass(frozen=True, slots=True, kw_only=True)
class Principal:
    """Who is calling: the desk (or other role) a key belongs to."""

    name: str
    role: Role
    readers: tuple[str, ...] = ()
    fields: frozenset[str] = field(default_factory=frozenset)
    officer_id: str | None = None
    config: DeskConfig | None = field(default=None, repr=False, compare=False)

    @classmethod
    def of(cls, desk: DeskConfig) -> Principal:
        return cls(
            name=desk.name,
            role=desk.role,
            readers=desk.readers,
            fields=desk.fields,
            officer_id=desk.officer,
            config=desk,
        )

    def owns_reader(self, reader_name: str) -> bool:
        return self.config is not None and self.config.owns_reader(reader_name)


def desk_from_mapping(name: str, raw: Mapping[str, Any], *, source: str, stored: Any) -> DeskConfig:
    """One ``[desks.NAME]`` table of the config file. ``stored`` turns a key as written into
    its stored digest (and enforces the key rules)."""
    known = {"keys", "key", "role", "readers", "fields", "officer"}
    unknown = set(raw) - known
    if unknown:
        raise DeskConfigError(f"{source}: unknown desk setting(s) {sorted(unknown)}")
    role = str(raw.get("role", "desk"))
    if role not in ROLES:
        raise DeskConfigError(f"{source}: role must be one of {', '.join(ROLES)}")
    keys_raw = raw.get("keys", [])
    if "key" in raw:
        keys_raw = [raw["key"], *([] if isinstance(keys_raw, str) else keys_raw)]
    if isinstance(keys_raw, str):
        keys_raw = [keys_raw]
    keys = tuple(stored(str(k)) for k in keys_raw)
    if not keys:
        raise DeskConfigError(f"{source}: desk {name!r} has no key")
    readers = _strings(raw.get("readers", ()), f"{source}.readers")
    if readers and role != "desk":
        raise DeskConfigError(f"{source}: only a desk owns readers (role is {role})")
    fields = frozenset(_strings(raw.get("fields", ()), f"{source}.fields"))
    unknown_fields = fields - OPTIONAL_FIELDS
    if unknown_fields:
        raise DeskConfigError(
            f"{source}.fields: {sorted(unknown_fields)} are not optional card fields "
            f"(choose from {sorted(OPTIONAL_FIELDS)})"
        )
    officer = raw.get("officer")
    return DeskConfig(
        name=name,
        role=role,  # type: ignore[arg-type]
        keys=keys,
        readers=readers,
        fields=fields,
        officer=str(officer) if officer else None,
    )


def _strings(raw: Any, source: str) -> tuple[str, ...]:
    if isinstance(raw, str):
        raw = raw.split("|")
    if not isinstance(raw, list | tuple):
        raise DeskConfigError(f"{source}: a list of strings is needed")
    return tuple(str(x).strip() for x in raw if str(x).strip())


def check_desks(desks: Iterable[DeskConfig]) -> None:
    """Rules across desks: unique names and keys; with several desks, each names its readers."""
    desks = list(desks)
    names = [d.name for d in desks]
    if len(set(names)) != len(names):
        raise DeskConfigError("desk names must be unique")
    digests = [k for d in desks for k in d.keys]
    if len(set(digests)) != len(digests):
        raise DeskConfigError("two desks share a key: every desk needs its own")
    reading = [d for d in desks if d.role == "desk"]
    if len(reading) > 1:
        bare = [d.name for d in reading if not d.readers]
        if bare:
            raise DeskConfigError(
                f"with several desks each must name its readers; {', '.join(bare)} names none "
                '(readers = ["part of the PC/SC reader name"])'
            )


def minimise(identity: Mapping[str, Any] | None, allowed: frozenset[str]) -> dict[str, Any] | None:
    """The identity with only the check-in fields and the optional ones in ``allowed``."""
    if identity is None:
        return None
    keep = CHECKIN_FIELDS | (allowed & OPTIONAL_FIELDS)
    shown = {k: v for k, v in identity.items() if k in keep}
    # a repair or cross-check of a field that is not shown would name it: drop those too
    for key in ("repairs", "checks"):
        if isinstance(shown.get(key), list):
            shown[key] = [
                item
                for item in shown[key]
                if not isinstance(item, dict) or item.get("field") not in OPTIONAL_FIELDS - allowed
            ]
    return shown


def result_for(result: Mapping[str, Any], allowed: frozenset[str]) -> dict[str, Any]:
    """A scan result as one principal may see it (a copy): its identity, verified or not,
    with only the check-in fields and the optional ones in ``allowed``."""
    shown = dict(result)
    for key in ("identity", "unverified_identity"):
        if shown.get(key) is not None:
            shown[key] = minimise(shown[key], allowed)
    return shown
