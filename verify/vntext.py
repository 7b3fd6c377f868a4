"""Vietnamese text: repair legacy encodings and mojibake, normalise, fold, case and re-encode.

Implements ``docs/spec/vietnamese-text.md`` (every row of its "lỗi font chữ" table). The
legacy mappings (TCVN3, VNI-Windows, VISCII) are data files in
``verify/data/`` with their provenance; nothing here reads the clock, the network or a file
other than those tables, loaded once at import.

``repair`` never guesses silently: it scores each candidate reading by how many valid
Vietnamese syllables it gives and takes one only when it is strictly better than the text as
given, so text that is already good Unicode is returned unchanged.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from reader.lds.fold import fold_ascii

__all__ = [
    "Repaired",
    "TextEncodeError",
    "canonical",
    "cp1252_text",
    "decode_legacy",
    "fold",
    "is_syllable",
    "match_level",
    "normalize",
    "repair",
    "repair_bytes",
    "retone",
    "search_key",
    "title_case",
    "to_cp1258",
    "to_tcvn3",
]

_DATA = Path(__file__).with_name("data")
_MAX_ROUNDS = 3  # nested UTF-8 mojibake (read as CP1252 twice) is seen; deeper is noise

# Combining tone marks in the order Vietnamese keyboards name them: sắc huyền hỏi ngã nặng.
_ACUTE, _GRAVE, _HOOK, _TILDE, _DOT = "\u0301", "\u0300", "\u0309", "\u0303", "\u0323"
_TONES = frozenset((_ACUTE, _GRAVE, _HOOK, _TILDE, _DOT))


def _load(name: str) -> dict[str, object]:
    with (_DATA / name).open(encoding="utf-8") as fh:
        data: dict[str, object] = json.load(fh)
    return data


def _hex_map(table: object) -> dict[int, str]:
    assert isinstance(table, dict)
    return {int(k, 16): str(v) for k, v in table.items()}


_TCVN3: dict[int, str] = _hex_map(_load("tcvn3.json")["bytes"])
_VISCII: dict[int, str] = _hex_map(_load("viscii.json")["bytes"])
_VNI_PAIRS: dict[tuple[int, int], str] = {}
_VNI_SINGLE: dict[int, str] = {}
_vni_table = _load("vni_windows.json")["sequences"]
assert isinstance(_vni_table, dict)
for _key, _char in _vni_table.items():
    _parts = [int(p, 16) for p in str(_key).split()]
    if len(_parts) == 2:
        _VNI_PAIRS[(_parts[0], _parts[1])] = str(_char)
    else:
        _VNI_SINGLE[_parts[0]] = str(_char)
_VNI_MARKS = frozenset(mark for _, mark in _VNI_PAIRS)

_VOWELS = "aăâeêioôơuưy"
_VIET_LOWER = frozenset(
    unicodedata.normalize("NFC", v + t) for v in _VOWELS for t in ("", *_TONES)
) | frozenset("bcdđghklmnpqrstvx")
# Every letter Vietnamese writes, both cases, plus the Latin letters found in minority names.
_LETTERS = frozenset(_VIET_LOWER | {c.upper() for c in _VIET_LOWER} | set("fjwzFJWZ"))
_ALLOWED = frozenset("\t\n\r–—‘’“”…•·°№ʼ´`")

# Bytes as a Windows CP1252 reader shows them; the five bytes CP1252 leaves undefined come
# through as the C1 control of the same number (what Windows and browsers do).
_CP1252_CHARS = [bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in range(256)]
_TO_LATIN1 = {ord(c): chr(b) for b, c in enumerate(_CP1252_CHARS) if ord(c) != b}


class TextEncodeError(ValueError):
    """Text that the target legacy encoding cannot hold (the message names the character)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Repaired:
    """What ``repair`` found: the text, the encoding it was read from, whether it changed.

    ``case_guessed`` is set for TCVN3 text whose toned capitals were restored from context
    (TCVN3 bytes do not say the case); ``suspect`` when the result still holds characters
    or words that are not Vietnamese, or when ``alternatives`` (other readings that scored
    the same, as ``(source, text)``) is not empty: a person should look at it.
    """

    text: str
    source_encoding: str
    changed: bool
    case_guessed: bool = False
    suspect: bool = False
    alternatives: tuple[tuple[str, str], ...] = ()


# --- Vietnamese syllables -------------------------------------------------------------------

_INITIALS = (
    "ngh", "ng", "nh", "ch", "gh", "gi", "kh", "ph", "qu", "th", "tr",
    "b", "c", "d", "đ", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "x", "",
)  # fmt: skip
_RHYMES = frozenset(
    """a ac ach ai am an ang anh ao ap at au ay ăc ăm ăn ăng ăp ăt âc âm ân âng âp ât âu ây
    e ec em en eng eo ep et ê êch êm ên ênh êp êt êu
    i ia ich im in inh ip it iu iêc iêm iên iêng iêp iêt iêu
    o oc oi om on ong op ot oa oac oach oai oam oan oang oanh oao oap oat oay oăc oăm oăn oăng
    oăt oe oen oeo oet ooc oong ô ôc ôi ôm ôn ông ôp ôt ơ ơi ơm ơn ơp ơt
    u ua uân uâng uât uây uc uê uêch uênh ui um un ung uôc uôi uôm uôn uông uôt up ut uy uya
    uych uyên uyêt uyn uynh uyp uyt uyu uơ
    ư ưa ưc ưi ưm ưn ưng ưt ưu ươc ươi ươm ươn ương ươp ươt ươu
    y yêm yên yêt yêu""".split()  # noqa: SIM905 (a table reads better as text)
)
# After "gi" the i is part of the initial ("giêng", "gì"); after "qu" the u is ("quý", "quyên").
_RHYMES_GI = _RHYMES | {"", "êc", "êm", "ên", "êng", "êp", "êt", "êu"}
_RHYMES_QU = _RHYMES | {"yn", "ynh", "ych", "yt", "yp", "yu", "ya"}
_STOPS = ("c", "ch", "p", "t")


def _split_syllable(base: str) -> tuple[str, str] | None:
    """Initial and rhyme of a toneless lower-case syllable, or None when there is none."""
    for initial in _INITIALS:
        if not base.startswith(initial):
            continue
        rhyme = base[len(initial) :]
        allowed = _RHYMES_GI if initial == "gi" else _RHYMES_QU if initial == "qu" else _RHYMES
        if rhyme in allowed:
            return initial, rhyme
    return None


def _strip_tone(word: str) -> tuple[str, str | None, int]:
    """(toneless NFC word, its tone mark or None, index of the letter carrying it).

    The index is -2 when the word carries more than one tone (never valid).
    """
    tone: str | None = None
    where = -1
    out: list[str] = []
    for ch in unicodedata.normalize("NFD", word):
        if ch in _TONES:
            if tone is not None:
                return word, tone, -2
            tone, where = ch, len(out) - 1
        elif unicodedata.combining(ch) and out:
            out[-1] += ch
        else:
            out.append(ch)
    return "".join(unicodedata.normalize("NFC", c) for c in out), tone, where


@lru_cache(maxsize=8192)
def is_syllable(word: str) -> bool:
    """True when ``word`` is a well-formed Vietnamese syllable (any case style, NFC or NFD).

    Checks the initial, the rhyme, one tone mark at most and that stop finals (-c -ch -p -t)
    carry only sắc or nặng. Used for scoring repairs, so it is permissive on rare spellings.
    """
    if not word or not (word.islower() or word.isupper() or word[1:].islower()):
        return False
    base, tone, where = _strip_tone(word)
    if where == -2:
        return False
    split = _split_syllable(base.lower())
    if split is None:
        return False
    _, rhyme = split
    if tone is not None:
        if not 0 <= where < len(base) or base[where].lower() not in _VOWELS:
            return False
        if rhyme.endswith(_STOPS) and tone not in (_ACUTE, _DOT):
            return False
    return True


_WORD = re.compile(r"[^\W\d_]+")
# For scoring, a "word" also swallows the symbols mojibake leaves inside words ("§µ", "H\xad¬ng"),
# so a mangled word counts as one invalid word, not as several short valid ones.
_TOKEN = re.compile(r"[^\s!-@\[-`{-~’‘ʼ´]+")
# Rhymes that are real but rare: a reading that needs them loses a tie to one that does not.
_RARE = frozenset({"oong", "ooc", "oao", "oeo", "uyu", "uơ", "oap", "uych", "uyp", "oăc", "oen"})


@lru_cache(maxsize=8192)
def _token_kind(token: str) -> int:
    """2 a common syllable, 1 a rare one, -1 syllables written together ("Êban"), 0 neither."""
    if is_syllable(token):
        split = _split_syllable(_strip_tone(token)[0].lower())
        return 1 if split is not None and split[1] in _RARE else 2
    if not (token.islower() or token.isupper() or token[1:].islower()):
        return 0
    low = token.lower()
    if len(low) <= 12 and any(
        is_syllable(low[:i]) and is_syllable(low[i:]) for i in range(1, len(low))
    ):
        return -1
    return 0


def _score(text: str) -> tuple[int, int, int, int]:
    """(characters that are not Vietnamese, invalid words, joined syllables, syllable weight).

    Lower is better in the first three, higher in the last.
    """
    bad = 0
    for ch in text:
        if ch.isascii():
            bad += (ch < " " and ch not in "\t\n\r") or ch == "\x7f"
        elif ch not in _LETTERS and ch not in _ALLOWED:
            bad += 1
    valid = invalid = joined = 0
    for match in _TOKEN.finditer(text):
        kind = _token_kind(match.group())
        if kind > 0:
            valid += kind
        elif kind < 0:
            joined += 1
        else:
            invalid += 1
    return bad, invalid, joined, valid


def _rank(score: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    return score[0], score[1], score[2], -score[3]


# --- decoders: each takes the text as mis-read and gives a candidate, or None ---------------


def _as_bytes(text: str) -> bytes | None:
    """The bytes a CP1252 (or Latin-1) reader turned into ``text``; None if it cannot be."""
    try:
        return text.translate(_TO_LATIN1).encode("latin-1")
    except UnicodeEncodeError:
        return None


def _decode_tcvn3(raw: bytes) -> tuple[str, bool] | None:
    chars: list[str] = []
    ambiguous: list[bool] = []
    for b in raw:
        ch = _TCVN3.get(b)
        if ch is None:
            if b >= 0x80:
                return None
            ch = chr(b)
        chars.append(ch)
        # toned lower-case codes stand for both cases; the base letters have both codes
        ambiguous.append(b >= 0xB5 and ch.islower())
    return _restore_tcvn3_case(chars, ambiguous)


def _restore_tcvn3_case(chars: list[str], ambiguous: list[bool]) -> tuple[str, bool]:
    """Give TCVN3 toned letters their case from the word and its neighbours.

    A word with an unambiguous capital after its first letter and no unambiguous small
    letter was typed in capitals; a word whose only evidence is its first letter follows
    the text; a small toned letter that starts a word among capitalised words is a capital.
    """
    text = "".join(chars)
    words = [(m.start(), m.end()) for m in _WORD.finditer(text)]
    states: list[str] = []
    for start, end in words:
        lower = upper_inside = False
        for i in range(start, end):
            if ambiguous[i]:
                continue
            lower |= chars[i].islower()
            upper_inside |= i > start and chars[i].isupper()
        states.append("lower" if lower else "UPPER" if upper_inside else "?")
    text_upper = states.count("UPPER") > states.count("lower")
    guessed = False
    for n, (start, end) in enumerate(words):
        if not any(ambiguous[start:end]):
            continue
        state = states[n]
        if state == "UPPER" or (state == "?" and text_upper):
            for i in range(start, end):
                chars[i] = chars[i].upper()
            guessed |= state == "?"
        elif ambiguous[start]:
            neighbours = [chars[words[k][0]] for k in (n - 1, n + 1) if 0 <= k < len(words)]
            if all(c.isupper() for c in neighbours):
                chars[start] = chars[start].upper()
            guessed = True
        elif state == "?":
            guessed = True
    return "".join(chars), guessed


def _decode_vni(raw: bytes) -> str | None:
    out: list[str] = []
    i, n = 0, len(raw)
    while i < n:
        b = raw[i]
        if i + 1 < n and (b, raw[i + 1]) in _VNI_PAIRS:
            out.append(_VNI_PAIRS[(b, raw[i + 1])])
            i += 2
            continue
        if b in _VNI_SINGLE:
            out.append(_VNI_SINGLE[b])
        elif b < 0x80:
            out.append(chr(b))
        else:
            return None  # a mark with no letter under it, or a byte VNI does not use
        i += 1
    return "".join(out)


def _decode_viscii(raw: bytes) -> str | None:
    return "".join(_VISCII.get(b) or chr(b) for b in raw)


_ENCODE_TCVN3 = {ch: bytes([b]) for b, ch in _TCVN3.items()}
for _b, _ch in list(_TCVN3.items()):
    _ENCODE_TCVN3.setdefault(_ch.upper(), bytes([_b]))  # the .VnTimeH convention
_ENCODE_VNI = {ch: bytes(k) for k, ch in _VNI_PAIRS.items()} | {
    ch: bytes([b]) for b, ch in _VNI_SINGLE.items()
}
_ENCODE_VISCII = {ch: bytes([b]) for b, ch in _VISCII.items()}


def _encode_table(text: str, table: dict[str, bytes]) -> bytes | None:
    out = bytearray()
    for ch in text:
        code = table.get(ch)
        if code is not None:
            out += code
        elif ch.isascii():
            out.append(ord(ch))
        else:
            return None
    return bytes(out)


_NAME_APOSTROPHE = re.compile(r"(?:^|[\s(])[^\W\d_]{1,2}[‘’´][^\W\d_]")
_CJK_START = 0x2E80
_BIG5 = ("big5", "cp950", "big5hkscs")
_SJIS = ("shift_jis", "cp932", "shift_jis_2004")


def _undo_cjk(text: str, codecs: tuple[str, ...]) -> str | None:
    for codec in codecs:
        try:
            return text.encode(codec).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
    return None


def _undo_utf8(text: str) -> tuple[str, str] | None:
    """Undo UTF-8 read as CP1252 or Latin-1, nested up to a few times."""
    latin1 = any("\x80" <= ch <= "\x9f" and ch not in "\x81\x8d\x8f\x90\x9d" for ch in text)
    current: str | None = None
    for _ in range(_MAX_ROUNDS):
        raw = _as_bytes(current if current is not None else text)
        if raw is None or raw.isascii():
            break
        try:
            current = raw.decode("utf-8")
        except UnicodeDecodeError:
            break
    if current is None:
        return None
    return current, "utf8_as_latin1" if latin1 else "utf8_as_cp1252"


@dataclass(frozen=True, slots=True)
class _Candidate:
    text: str
    source: str
    case_guessed: bool = False


def _candidates(text: str) -> Iterator[_Candidate]:
    undone = _undo_utf8(text)
    if undone is not None:
        yield _Candidate(undone[0], undone[1])
    raw = _as_bytes(text)
    if raw is not None and not raw.isascii():
        tcvn = _decode_tcvn3(raw)
        if tcvn is not None and _encode_table(tcvn[0], _ENCODE_TCVN3) == raw:
            yield _Candidate(tcvn[0], "tcvn3", tcvn[1])
        vni = _decode_vni(raw)
        if vni is not None and _encode_table(vni, _ENCODE_VNI) == raw:
            yield _Candidate(vni, "vni")
        # VISCII puts Ổ Ỗ Ơ where CP1252 has ‘ ’ ´: "H’Mai" is a name, not "HỖMai"
        viscii = None if _NAME_APOSTROPHE.search(text) else _decode_viscii(raw)
        if viscii is not None and _encode_table(viscii, _ENCODE_VISCII) == raw:
            yield _Candidate(viscii, "viscii")
    if any(ord(ch) >= _CJK_START for ch in text):
        for codecs, source in ((_BIG5, "big5_mojibake"), (_SJIS, "shift_jis_mojibake")):
            undone_cjk = _undo_cjk(text, codecs)
            if undone_cjk is not None:
                yield _Candidate(unicodedata.normalize("NFC", undone_cjk), source)


_LOSSY = re.compile(r"[^\W\d_]\?|\?[^\W\d_]|\ufffd")


def repair(text: str) -> Repaired:
    """Recognise how ``text`` was mangled and undo it (spec ``vietnamese-text.md``).

    Sources: ``unicode`` (already good: returned unchanged), ``nfd``, ``tcvn3``, ``vni``,
    ``viscii``, ``utf8_as_cp1252``, ``utf8_as_latin1``, ``big5_mojibake``,
    ``shift_jis_mojibake`` and ``lossy`` (``?`` or U+FFFD where letters were: flagged and
    left as is, never guessed).
    """
    if _LOSSY.search(text):
        return Repaired(text=text, source_encoding="lossy", changed=False, suspect=True)
    if text.isascii():
        return Repaired(text=text, source_encoding="unicode", changed=False)
    source = "unicode"
    current = text
    if not unicodedata.is_normalized("NFC", text):
        current, source = unicodedata.normalize("NFC", text), "nfd"
    score = _score(current)
    if score[:3] == (0, 0, 0):
        return Repaired(text=current, source_encoding=source, changed=current != text)
    better: list[tuple[tuple[int, int, int, int], int, _Candidate]] = []
    for order, cand in enumerate(_candidates(current)):
        if cand.text == current:
            continue
        cs = _score(cand.text)
        # never more bad characters or invalid words, and better overall
        if cs[0] <= score[0] and cs[1] <= score[1] and _rank(cs) < _rank(score):
            better.append((_rank(cs), order, cand))
    if not better:
        return Repaired(
            text=current, source_encoding=source, changed=current != text, suspect=score[0] > 0
        )
    # the order of _candidates (UTF-8, TCVN3, VNI, VISCII, Big5, Shift-JIS: how common each
    # is at desks) breaks ties; tied readings are reported, not hidden
    better.sort(key=lambda item: (item[0], item[1]))
    best_rank, _, best = better[0]
    alternatives = tuple(
        (cand.source, cand.text)
        for rank, _, cand in better[1:]
        if rank == best_rank and cand.text != best.text
    )
    return Repaired(
        text=best.text,
        source_encoding=best.source,
        changed=True,
        case_guessed=best.case_guessed,
        suspect=best_rank[0] > 0 or bool(alternatives),
        alternatives=alternatives,
    )


def cp1252_text(data: bytes) -> str:
    """Bytes as a Windows CP1252 screen shows them (the five undefined bytes as C1 controls),
    losing nothing: the form in which ``repair`` recognises TCVN3, VNI and VISCII bytes."""
    return "".join(_CP1252_CHARS[b] for b in data)


def repair_bytes(data: bytes) -> Repaired:
    """Text from raw bytes (a chip field, a scanner): UTF-8 when it is, else a legacy repair.

    Bytes that are not UTF-8 are read as CP1252 and handed to ``repair``, so TCVN3, VNI and
    VISCII bytes come out as Unicode with their source named.
    """
    try:
        return repair(data.decode("utf-8"))
    except UnicodeDecodeError:
        repaired = repair(cp1252_text(data))
        if repaired.changed:
            return repaired
        return Repaired(text=repaired.text, source_encoding="cp1252", changed=True, suspect=True)


def decode_legacy(data: bytes, encoding: Literal["tcvn3", "vni", "viscii"]) -> str:
    """Decode bytes known to be in a legacy Vietnamese encoding (TCVN3 case as typed)."""
    if encoding == "tcvn3":
        return "".join(_TCVN3.get(b) or _CP1252_CHARS[b] for b in data)
    if encoding == "viscii":
        return "".join(_VISCII.get(b) or chr(b) for b in data)
    text = _decode_vni(data)
    if text is None:
        raise ValueError("bytes are not VNI-Windows text (a mark byte with no letter)")
    return text


# --- normalisation, folding, casing, tone placement ------------------------------------------

_APOSTROPHES = str.maketrans({c: "'" for c in "’‘ʼʻ`´′"})
_SPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    """NFC, repaired, control characters removed, apostrophes unified, whitespace collapsed."""
    repaired = repair(text).text
    kept = "".join(
        " " if ch.isspace() else ch
        for ch in repaired
        if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cf")
    )
    return _SPACE.sub(" ", unicodedata.normalize("NFC", kept.translate(_APOSTROPHES))).strip()


def fold(text: str) -> str:
    """ASCII, lower case, for search and matching: ``fold("Đặng Thị Thuỷ") == "dang thi thuy"``."""
    return fold_ascii(normalize(text))


_NON_KEY = re.compile(r"[^a-z0-9]+")


def search_key(text: str) -> str:
    """The folded key desks match on: letters and digits only, apostrophes dropped."""
    return _NON_KEY.sub(" ", fold(text).replace("'", "")).strip()


_WORD_START = re.compile(r"(^|[\s'\-(/])([^\W\d_])")


def title_case(text: str) -> str:
    """Vietnamese-aware title case: "NGUYỄN THỊ HƯƠNG" -> "Nguyễn Thị Hương", "H'MAI" -> "H'Mai"."""
    lowered = normalize(text).lower()
    return _WORD_START.sub(lambda m: m.group(1) + m.group(2).upper(), lowered)


def _retone_word(word: str, style: Literal["old", "new"]) -> str:
    base, tone, where = _strip_tone(word)
    if tone is None or where < 0:
        return word
    split = _split_syllable(base.lower())
    if split is None or split[0] == "qu" or split[1] not in ("oa", "oe", "uy"):
        return word
    target = len(split[0]) + (1 if style == "old" else 0)
    letters = list(base)
    letters[target] = unicodedata.normalize("NFC", letters[target] + tone)
    return "".join(letters)


def retone(text: str, style: Literal["old", "new"] = "new") -> str:
    """Move tone marks in open "oa", "oe", "uy" syllables to one placement style.

    Named as docs/spec/vietnamese-text.md names them: ``"new"`` gives "Hòa", "Khỏe",
    "Thủy" (mark on the first vowel); ``"old"`` gives "Hoà", "Khoẻ", "Thuỷ". Other syllables
    are left alone.
    """
    nfc = unicodedata.normalize("NFC", text)
    return _WORD.sub(lambda m: _retone_word(m.group(), style), nfc)


def canonical(text: str) -> str:
    """The comparison form: normalised and with tones placed in the "new" style."""
    return retone(normalize(text), "new")


def match_level(a: str, b: str) -> Literal["exact", "tone_placement", "case", "folded"] | None:
    """How closely two texts agree, in the order desks match: exact NFC, tone placement,
    case, folded key; None when even the folded keys differ."""
    na, nb = normalize(a), normalize(b)
    if na == nb:
        return "exact"
    ca, cb = retone(na), retone(nb)
    if ca == cb:
        return "tone_placement"
    if ca.lower() == cb.lower():
        return "case"
    if search_key(a) == search_key(b):
        return "folded"
    return None


# --- encoders for old HIS databases and ESC/POS printers -------------------------------------


def _encode(text: str, one: Callable[[str], bytes | None], errors: str, name: str) -> bytes:
    out = bytearray()
    for ch in text:
        code = one(ch)
        if code is None:
            if errors == "replace":
                out += b"?"
                continue
            if errors == "ignore":
                continue
            raise TextEncodeError(f"U+{ord(ch):04X} has no {name} code")
        out += code
    return bytes(out)


def to_tcvn3(text: str, errors: Literal["strict", "replace", "ignore"] = "strict") -> bytes:
    """TCVN3 (ABC) bytes. Capitals with a tone get the small letter's code, as TCVN3 text
    was typed (the upper-case .VnTimeH font shows it as a capital)."""
    nfc = unicodedata.normalize("NFC", text)
    return _encode(
        nfc,
        lambda ch: _ENCODE_TCVN3.get(ch) or (ch.encode("ascii") if ch.isascii() else None),
        errors,
        "TCVN3",
    )


def to_cp1258(text: str, errors: Literal["strict", "replace", "ignore"] = "strict") -> bytes:
    """Windows-1258 bytes in its decomposed form: base letter (with ˆ ˘ ơ ư đ) + tone byte."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        base, tone, _ = _strip_tone(ch)
        for part in (base, tone or ""):
            if not part:
                continue
            try:
                out += part.encode("cp1258")
            except UnicodeEncodeError:
                if errors == "strict":
                    raise TextEncodeError(f"U+{ord(part[0]):04X} has no CP1258 code") from None
                if errors == "replace":
                    out += b"?"
    return bytes(out)
