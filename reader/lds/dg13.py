"""DG13 of the Vietnamese CCCD: personal data in UTF-8 (``docs/spec/cccd-chip.md``, "DG13";
the slot is ICAO 9303-10 §4.7.13 "optional details", the layout is the issuer's).

``6D { 30 { INTEGER version, OID 1.0.10646.1.0.8, 31 { 30 { INTEGER n, value... } ... } } }``.
Fields are keyed on their number, never on position, and named by ``reader.lds.vocabulary``;
lengths come from a real BER parser (long forms for long addresses); absent and empty fields
are told apart. Text is decoded strictly as UTF-8: a field that is not valid UTF-8 keeps its
raw bytes, gets a decoding with replacement characters, and is flagged so the Vietnamese text
layer can repair it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from reader import tlv
from reader.errors import ParseError
from reader.lds import vocabulary
from reader.lds.der import decode_oid
from reader.lds.fold import fold_ascii
from reader.lds.outer import open_file

_FILE = "DG13"
_MAX_FIELD_NUMBER = 1000
_MAX_FIELDS = 256
_MAX_VALUES = 16
_STRING_TAGS = frozenset({0x0C, 0x13, 0x16, 0x14, 0x1A, 0x04, 0x1E, 0x1C, 0x12})


@dataclass(frozen=True, slots=True, kw_only=True)
class TextValue:
    """One string value of a field: its bytes as stored and their decoding."""

    tag: int  # ASN.1 string tag (0C UTF8String, 13 PrintableString, ...)
    raw: bytes  # the value bytes
    text: str  # decoded; with U+FFFD where the bytes are not valid
    valid: bool  # False when ``raw`` is not valid in its encoding (UTF-8 for most tags)
    offset: int  # of the element in the file


@dataclass(frozen=True, slots=True, kw_only=True)
class DG13Field:
    """A field of the SET as found: number, string values in order, raw element bytes."""

    number: int
    values: tuple[TextValue | None, ...]  # None: an empty SEQUENCE slot (no value there)
    raw: bytes
    offset: int

    @property
    def text(self) -> str | None:
        first = next((v for v in self.values if v is not None), None)
        return None if first is None else first.text


@dataclass(frozen=True, slots=True, kw_only=True)
class DG13Date:
    """A date as written on the card, with what could be read from it."""

    text: str
    year: int | None = None
    month: int | None = None
    day: int | None = None
    no_expiry: bool = False  # "Không thời hạn"

    @property
    def date(self) -> date | None:
        if self.year is None or self.month is None or self.day is None:
            return None
        return date(self.year, self.month, self.day)

    @property
    def valid(self) -> bool:
        return self.no_expiry or self.year is not None


_NO_EXPIRY = {"khong thoi han", "khong xac dinh", "vinh vien"}


def parse_date(text: str) -> DG13Date:
    """dd/mm/yyyy (also dd-mm-yyyy, dd.mm.yyyy), ddmmyyyy, yyyy, "Không thời hạn"."""
    stripped = text.strip()
    if fold_ascii(stripped) in _NO_EXPIRY:
        return DG13Date(text=text, no_expiry=True)
    digits = stripped
    for sep in "/-.":
        if stripped.count(sep) == 2:
            parts = stripped.split(sep)
            if all(p.isdigit() for p in parts) and len(parts[2]) == 4:
                digits = parts[0].zfill(2) + parts[1].zfill(2) + parts[2]
            break
    if len(digits) == 8 and digits.isascii() and digits.isdigit():
        day, month, year = int(digits[:2]), int(digits[2:4]), int(digits[4:])
        try:
            date(year, month, day)
        except ValueError:
            return DG13Date(text=text)
        return DG13Date(text=text, year=year, month=month, day=day)
    if len(digits) == 6 and digits.isascii() and digits.isdigit():  # mmyyyy: day unknown
        month, year = int(digits[:2]), int(digits[2:])
        if 1 <= month <= 12 and year >= 1:
            return DG13Date(text=text, year=year, month=month)
        return DG13Date(text=text)
    if len(digits) == 4 and digits.isascii() and digits.isdigit() and int(digits) >= 1:
        return DG13Date(text=text, year=int(digits))
    return DG13Date(text=text)


@dataclass(frozen=True, slots=True, kw_only=True)
class DG13:
    """The parsed DG13, one attribute per field of ``reader.lds.vocabulary`` (spelled out for
    the type checker; a unit test holds the two together). ``None`` means absent, ``""``
    empty."""

    raw: bytes
    version: int | None
    encoding_oid: str | None
    id_number: str | None = None
    full_name: str | None = None
    date_of_birth: DG13Date | None = None
    sex: str | None = None
    nationality: str | None = None
    ethnicity: str | None = None
    religion: str | None = None
    place_of_origin: str | None = None
    place_of_residence: str | None = None
    identifying_marks: str | None = None
    date_of_issue: DG13Date | None = None
    date_of_expiry: DG13Date | None = None
    father_name: str | None = None
    mother_name: str | None = None
    spouse_name: str | None = None
    old_id_number: str | None = None
    extra: dict[int, str] = field(default_factory=dict)
    fields: dict[int, DG13Field] = field(default_factory=dict)
    duplicate_fields: tuple[int, ...] = ()
    invalid_text_fields: tuple[int, ...] = ()  # field numbers holding bytes that did not decode

    @property
    def no_expiry(self) -> bool:
        return self.date_of_expiry is not None and self.date_of_expiry.no_expiry

    @property
    def text_valid(self) -> bool:
        return not self.invalid_text_fields

    def field_bytes(self, number: int) -> tuple[bytes, ...]:
        """The raw bytes of every value of a field (for repair of legacy encodings)."""
        found = self.fields.get(number)
        if found is None:
            return ()
        return tuple(v.raw for v in found.values if v is not None)

    def __repr__(self) -> str:  # no personal data in logs
        return f"DG13(fields={sorted(self.fields)}, invalid_text={self.invalid_text_fields})"


def _decode_text(element: tlv.TLV) -> TextValue:
    data = element.value
    if element.tag == 0x1E:  # BMPString
        codec = "utf-16-be"
    elif element.tag == 0x1C:  # UniversalString
        codec = "utf-32-be"
    else:
        codec = "utf-8"  # PrintableString/IA5 are ASCII, a subset; cards put UTF-8 anywhere
    try:
        text = data.decode(codec)
        valid = True
    except UnicodeDecodeError:
        text = data.decode(codec, errors="replace")
        valid = False
    return TextValue(tag=element.tag, raw=data, text=text, valid=valid, offset=element.offset)


def _leaf(element: tlv.TLV) -> TextValue | None:
    """The first string inside ``element`` (itself, or nested in SEQUENCEs up to 2 deep)."""
    if element.tag in _STRING_TAGS:
        return _decode_text(element)
    if element.constructed:
        for child in element.children:
            if child.tag in _STRING_TAGS:
                return _decode_text(child)
    return None


def _values(number: int, kids: tuple[tlv.TLV, ...]) -> tuple[TextValue | None, ...]:
    if number in vocabulary.SHARED_NUMBERS and len(kids) == 1 and kids[0].constructed:
        # the alternative layout of 13: one SEQUENCE holding father and mother side by side
        inner = kids[0].children[:_MAX_VALUES]
        return tuple(_leaf(child) for child in inner if child.tag in _STRING_TAGS)
    values: list[TextValue | None] = []
    for kid in kids[:_MAX_VALUES]:
        if kid.tag in _STRING_TAGS:
            values.append(_decode_text(kid))
        elif kid.constructed:
            values.append(_leaf(kid))  # an empty SEQUENCE keeps its slot as None
    return tuple(values)


def _field(element: tlv.TLV) -> DG13Field | None:
    if element.tag != 0x30 or not element.children or element.children[0].tag != 0x02:
        return None
    number_el = element.children[0]
    if not 1 <= len(number_el.value) <= 4:
        return None
    number = int.from_bytes(number_el.value, "big", signed=True)
    if not 0 <= number <= _MAX_FIELD_NUMBER:
        return None
    return DG13Field(
        number=number,
        values=_values(number, element.children[1:]),
        raw=element.raw,
        offset=element.offset,
    )


def _find_fields(content: tlv.TLV) -> tuple[int | None, str | None, list[tlv.TLV]]:
    """(version, encoding OID, field elements), tolerating a missing SEQUENCE or SET level."""
    version: int | None = None
    oid: str | None = None
    node = content
    if node.tag == 0x30 and node.find(0x31) is not None:
        version_el = node.find(0x02)
        if version_el is not None and 1 <= len(version_el.value) <= 4:
            version = int.from_bytes(version_el.value, "big", signed=True)
        oid_el = node.find(0x06)
        if oid_el is not None:
            try:
                oid = decode_oid(oid_el.value, oid_el.offset, _FILE)
            except ParseError:
                oid = None
        fields: list[tlv.TLV] = []
        for child in node.find_all(0x31):
            fields.extend(child.children)
        return version, oid, fields
    if node.tag == 0x31:
        return None, None, list(node.children)
    raise ParseError(
        f"DG13 content starts with tag {node.tag:X}, expected 30 or 31",
        offset=node.offset,
        file=_FILE,
    )


def parse_dg13(raw: bytes) -> DG13:
    """Parse the Vietnamese DG13 (tag 6D)."""
    raw = bytes(raw)
    top = open_file(raw, 0x6D, _FILE)
    if not top.children:
        raise ParseError("DG13 is empty", offset=0, file=_FILE)
    version, oid, elements = _find_fields(top.children[0])
    if len(elements) > _MAX_FIELDS:
        raise ParseError(f"more than {_MAX_FIELDS} DG13 fields", offset=0, file=_FILE)
    fields: dict[int, DG13Field] = {}
    duplicates: list[int] = []
    for element in elements:
        parsed = _field(element)
        if parsed is None:
            continue
        if parsed.number in fields:
            duplicates.append(parsed.number)  # the first one wins; the repeat is reported
            continue
        fields[parsed.number] = parsed
    invalid = tuple(
        sorted(
            number
            for number, f in fields.items()
            if any(v is not None and not v.valid for v in f.values)
        )
    )
    values: dict[str, object] = {}
    for spec in vocabulary.FIELDS:
        found = fields.get(spec.number)
        if found is None:
            continue  # absent: the record's default, None
        if spec.slot is None:
            text = found.text
        else:
            slot = found.values[spec.slot] if spec.slot < len(found.values) else None
            text = None if slot is None else slot.text
        if spec.kind == "date":
            values[spec.name] = None if text is None else parse_date(text)
        elif spec.none_when_empty:
            values[spec.name] = text
        else:
            values[spec.name] = "" if text is None else text
    extra = {
        number: "" if found.text is None else found.text
        for number, found in fields.items()
        if number not in vocabulary.NUMBERS
    }
    return DG13(
        raw=raw,
        version=version,
        encoding_oid=oid,
        extra=extra,
        fields=fields,
        duplicate_fields=tuple(duplicates),
        invalid_text_fields=invalid,
        **values,  # type: ignore[arg-type]
    )
