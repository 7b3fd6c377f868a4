"""verify.vntext: every cause in vietnamese-text.md is recognised and undone."""

from __future__ import annotations

import json
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verify import vntext

ROOT = Path(__file__).resolve().parents[2]
CITIZENS = json.loads((ROOT / "fixtures/data/citizens.json").read_text(encoding="utf-8"))[
    "citizens"
]
TEXT_FIELDS = (
    "full_name", "place_of_residence", "place_of_origin", "father_name", "mother_name",
    "spouse_name", "identifying_marks", "ethnicity", "religion", "nationality", "sex",
)  # fmt: skip
TEXTS = sorted({c[k] for c in CITIZENS for k in TEXT_FIELDS if c[k]})
NAMES_AND_ADDRESSES = sorted(
    {c[k] for c in CITIZENS for k in ("full_name", "place_of_residence", "place_of_origin") if c[k]}
)

# CP1252 as Windows and browsers read it: undefined bytes come through as C1 controls.
_CP1252 = [bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in range(256)]


def as_cp1252(data: bytes) -> str:
    return "".join(_CP1252[b] for b in data)


def _table(name: str) -> dict[str, bytes]:
    data = json.loads((ROOT / "verify/data" / name).read_text(encoding="utf-8"))
    if "bytes" in data:
        return {ch: bytes([int(k, 16)]) for k, ch in data["bytes"].items()}
    return {ch: bytes(int(p, 16) for p in k.split()) for k, ch in data["sequences"].items()}


VNI = _table("vni_windows.json")
VISCII = _table("viscii.json")


def encode_with(text: str, table: dict[str, bytes]) -> bytes:
    return b"".join(
        table.get(ch) or ch.encode("ascii") for ch in unicodedata.normalize("NFC", text)
    )


def mangle_8bit(text: str, encoding: str) -> str:
    if encoding == "tcvn3":
        return as_cp1252(vntext.to_tcvn3(text))
    return as_cp1252(encode_with(text, VNI if encoding == "vni" else VISCII))


# --- the spec's own examples (independent of our tables) ----------------------------------


@pytest.mark.parametrize(
    ("mangled", "source"),
    [
        ("NguyÔn ThÞ H\xad¬ng", "tcvn3"),
        ("Nguyeãn Thò Höông", "vni"),
        ("Nguy\xadn Th¸ Hß½ng", "viscii"),
        ("Nguyá»…n Thá»‹ HÆ°Æ¡ng", "utf8_as_cp1252"),
    ],
)
def test_spec_examples_nguyen_thi_huong(mangled: str, source: str) -> None:
    result = vntext.repair(mangled)
    assert result.text == "Nguyễn Thị Hương"
    assert result.source_encoding == source
    assert result.changed


@pytest.mark.parametrize(
    ("mangled", "source"),
    [("§µ B¾c", "tcvn3"), ("Ñaø Baéc", "vni"), ("Ðà B¡c", "viscii")],
)
def test_spec_examples_da_bac(mangled: str, source: str) -> None:
    result = vntext.repair(mangled)
    assert (result.text, result.source_encoding) == ("Đà Bắc", source)


def test_spec_example_big5_zbar() -> None:
    result = vntext.repair("Hu廙軟h Hi廕簑 Thu廕要")
    assert (result.text, result.source_encoding) == ("Huỳnh Hiếu Thuận", "big5_mojibake")


def test_hoa_binh_is_left_alone() -> None:
    # valid in Unicode and in a VISCII reading: good Unicode wins
    result = vntext.repair("Hòa Bình")
    assert (result.text, result.source_encoding, result.changed) == ("Hòa Bình", "unicode", False)


# --- every citizen through every mangling --------------------------------------------------


@pytest.mark.parametrize("encoding", ["vni", "viscii"])
def test_every_citizen_text_repairs_from_vni_and_viscii(encoding: str) -> None:
    ambiguous = []
    for text in TEXTS:
        mangled = mangle_8bit(text, encoding)
        if mangled == text:
            continue
        result = vntext.repair(mangled)
        if result.text != text:
            # only a one-word text can tie; the tie must be reported with the right reading
            assert result.suspect and (encoding, text) in result.alternatives, (text, result)
            ambiguous.append(text)
            continue
        assert result.source_encoding == encoding, text
    assert len(ambiguous) <= 1  # "Nữ" as VISCII ("Næ") also reads as TCVN3 "Nổ"
    for text in NAMES_AND_ADDRESSES:
        assert vntext.repair(mangle_8bit(text, encoding)).text == text


def test_every_citizen_text_repairs_from_tcvn3_case_quirk_honest() -> None:
    exact = 0
    for text in TEXTS:
        mangled = mangle_8bit(text, "tcvn3")
        result = vntext.repair(mangled)
        assert result.source_encoding in ("tcvn3", "unicode"), text
        if result.text == text:
            exact += 1
            continue
        # TCVN3 bytes do not say the case of toned capitals: only then may case differ,
        # and the repair must say it guessed
        assert result.case_guessed, (text, result)
        assert result.text.lower() == text.lower(), (text, result)
    # context recovers all but a capital inside lower-case words ("cách Ủy ban")
    assert exact >= len(TEXTS) - 1


def test_tcvn3_upper_case_word_takes_case_from_its_letters() -> None:
    assert vntext.repair(as_cp1252(vntext.to_tcvn3("NGUYỄN"))).text == "NGUYỄN"
    assert vntext.repair(as_cp1252(vntext.to_tcvn3("nguyễn thị"))).text == "nguyễn thị"


@pytest.mark.parametrize("text", NAMES_AND_ADDRESSES)
def test_utf8_as_cp1252_and_nfd(text: str) -> None:
    mojibake = as_cp1252(text.encode("utf-8"))
    result = vntext.repair(mojibake)
    assert (result.text, result.source_encoding) == (text, "utf8_as_cp1252")
    twice = as_cp1252(mojibake.translate({}).encode("utf-8"))
    assert vntext.repair(twice).text == text
    nfd = unicodedata.normalize("NFD", text)
    if nfd != text:
        assert vntext.repair(nfd) == vntext.Repaired(text=text, source_encoding="nfd", changed=True)


def test_utf8_as_latin1() -> None:
    text = "Phường Ỷ La"
    mojibake = text.encode("utf-8").decode("latin-1")
    result = vntext.repair(mojibake)
    assert result.text == text
    assert result.source_encoding in ("utf8_as_latin1", "utf8_as_cp1252")


@pytest.mark.parametrize(
    ("codecs", "source"),
    [(("big5", "cp950"), "big5_mojibake"), (("shift_jis", "cp932"), "shift_jis_mojibake")],
)
def test_cjk_mojibake_where_information_preserving(codecs: tuple[str, ...], source: str) -> None:
    tried = 0
    for text in TEXTS:
        for codec in codecs:
            try:
                mangled = text.encode("utf-8").decode(codec)
            except UnicodeDecodeError:
                continue  # the decoder would have failed: nothing reaches us
            if mangled == text:
                continue
            tried += 1
            result = vntext.repair(mangled)
            assert result.text == text, (codec, text, result)
            assert result.source_encoding == source
            break
    assert tried >= 3


# --- good Unicode is never changed ---------------------------------------------------------


def test_original_citizen_text_is_never_changed() -> None:
    for text in TEXTS:
        result = vntext.repair(text)
        assert (result.text, result.changed, result.source_encoding) == (text, False, "unicode")


_SYLLABLES = sorted(
    {w for t in TEXTS for w in vntext._WORD.findall(t)}
    | set(
        [
            "một",
            "hai",
            "ba",
            "bốn",
            "năm",
            "sáu",
            "bảy",
            "tám",
            "chín",
            "mười",
            "nghìn",
            "người",
            "việt",
            "thuỷ",
            "thủy",
            "hoà",
            "hòa",
            "khoẻ",
            "khỏe",
            "quý",
            "quyên",
            "giếng",
            "gì",
            "già",
            "đường",
            "phố",
            "ngõ",
            "ngách",
            "hẻm",
            "thôn",
            "ấp",
            "bản",
            "làng",
            "buôn",
            "khu",
            "tổ",
            "dân",
            "huyện",
            "quận",
            "tỉnh",
            "thành",
            "thị",
            "trấn",
            "xã",
            "phường",
            "ước",
            "ưu",
            "yêu",
            "oanh",
            "khuya",
            "nghiêng",
            "chuyện",
        ]
    )
)


@st.composite
def vietnamese_text(draw: st.DrawFn) -> str:
    words = draw(st.lists(st.sampled_from(_SYLLABLES), min_size=1, max_size=8))
    style = draw(st.sampled_from(["upper", "lower", "title", "asis"]))
    text = " ".join(words)
    text = {"upper": text.upper(), "lower": text.lower(), "title": text.title()}.get(style, text)
    sep = draw(st.sampled_from([" ", ", ", " - ", " 12 "]))
    return sep.join(text.split(" ", 1)) if " " in text else text


@settings(max_examples=200, deadline=None)
@given(vietnamese_text())
def test_random_vietnamese_text_is_never_changed(text: str) -> None:
    result = vntext.repair(text)
    assert result.text == text
    assert not result.changed


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(NAMES_AND_ADDRESSES), st.sampled_from(["tcvn3", "vni", "viscii"]))
def test_repair_is_idempotent(text: str, encoding: str) -> None:
    once = vntext.repair(mangle_8bit(text, encoding)).text
    assert vntext.repair(once).text == once


# --- lossy ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["Nguy?n Th? H??ng", "NGUY?N V?N B?NH", "Hu\ufffdnh"])
def test_lossy_is_flagged_and_left_as_is(text: str) -> None:
    result = vntext.repair(text)
    assert result.source_encoding == "lossy"
    assert result.text == text
    assert not result.changed
    assert result.suspect


# --- normalise, fold, key, title case, tones ------------------------------------------------


def test_fold() -> None:
    assert vntext.fold("Đặng Thị Thuỷ") == vntext.fold("ĐẶNG THỊ THỦY") == "dang thi thuy"
    assert vntext.fold(unicodedata.normalize("NFD", "Đặng  Thị\u00a0Thuỷ ")) == "dang thi thuy"
    assert vntext.search_key("H’MAI  ÊBAN") == "hmai eban"


def test_normalize() -> None:
    assert vntext.normalize("  Nguyễn\u200b  Thị\tHương \x00") == "Nguyễn Thị Hương"
    assert vntext.normalize("H’Mai") == "H'Mai"
    assert vntext.normalize(unicodedata.normalize("NFD", "Hòa")) == "Hòa"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("NGUYỄN THỊ HƯƠNG", "Nguyễn Thị Hương"),
        ("H'MAI ÊBAN", "H'Mai Êban"),
        ("ĐỖ ĐÌNH ĐẠT", "Đỗ Đình Đạt"),
        ("CÔNG TẰNG TÔN NỮ THỊ Ý NHI", "Công Tằng Tôn Nữ Thị Ý Nhi"),
        ("ÂU THỊ ÁNH TUYẾT", "Âu Thị Ánh Tuyết"),
    ],
)
def test_title_case_keeps_diacritics(text: str, expected: str) -> None:
    assert vntext.title_case(text) == expected


def test_tone_placement() -> None:
    assert vntext.retone("Hoà Thuỷ khoẻ", "new") == "Hòa Thủy khỏe"
    assert vntext.retone("Hòa Thủy khỏe", "old") == "Hoà Thuỷ khoẻ"
    assert vntext.retone("hoàn thuyền quý quỳnh", "old") == "hoàn thuyền quý quỳnh"
    assert vntext.canonical("BÙI THỊ HOÀ") == vntext.canonical("BÙI THỊ HÒA")
    assert vntext.match_level("Hoàng Thị Thuỷ", "Hoàng Thị Thủy") == "tone_placement"
    assert vntext.match_level("Hoàng Thị Thuỷ", "HOÀNG THỊ THỦY") == "case"
    assert vntext.match_level("Hoàng Thị Thuỷ", "Hoang Thi Thuy") == "folded"
    assert vntext.match_level("Hoàng Thị Thuỷ", "Hoàng Thị Thuỷ") == "exact"
    assert vntext.match_level("Hoàng Thị Thuỷ", "Hoàng Thị Lan") is None


def test_syllable_validator() -> None:
    for word in ("nguyễn", "NGHIÊNG", "Quý", "giếng", "khuya", "Ỷ", "được"):
        assert vntext.is_syllable(word), word
    for word in ("nguyôn", "NguyÔn", "hoàc", "bàc", "xyz", "áà", "EÂBAN"):
        assert not vntext.is_syllable(word), word


# --- encoders ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", NAMES_AND_ADDRESSES)
def test_cp1258_decomposed_round_trips(text: str) -> None:
    data = vntext.to_cp1258(text)
    assert unicodedata.normalize("NFC", data.decode("cp1258")) == text
    # decomposed: every tone is its own byte (0xEC sắc, 0xCC huyền, 0xD2 hỏi, 0xDE ngã, 0xF2 nặng)
    tones = sum(
        1 for ch in unicodedata.normalize("NFD", text) if ch in "\u0301\u0300\u0309\u0303\u0323"
    )
    assert sum(data.count(b) for b in (b"\xec", b"\xcc", b"\xd2", b"\xde", b"\xf2")) == tones


def test_tcvn3_encoder() -> None:
    assert vntext.to_tcvn3("Nguyễn Thị Hương") == b"Nguy\xd4n Th\xde H\xad\xacng"
    assert vntext.to_tcvn3("NGUYỄN") == b"NGUY\xd4N"  # the .VnTimeH convention
    with pytest.raises(vntext.TextEncodeError):
        vntext.to_tcvn3("漢")
    assert vntext.to_tcvn3("a漢", errors="replace") == b"a?"


def test_decode_legacy_and_repair_bytes() -> None:
    assert vntext.decode_legacy(b"Nguy\xd4n", "tcvn3") == "Nguyễn"
    assert vntext.decode_legacy(encode_with("Đà Bắc", VNI), "vni") == "Đà Bắc"
    assert vntext.decode_legacy(encode_with("Ỷ La", VISCII), "viscii") == "Ỷ La"
    assert vntext.repair_bytes("Hương".encode()).text == "Hương"
    raw = vntext.repair_bytes(b"Nguy\xd4n Th\xde H\xad\xacng")
    assert (raw.text, raw.source_encoding) == ("Nguyễn Thị Hương", "tcvn3")


@pytest.mark.skipif(shutil.which("iconv") is None, reason="glibc iconv not installed")
@pytest.mark.parametrize(
    ("table", "charset"), [("viscii.json", "VISCII"), ("tcvn3.json", "TCVN5712-1")]
)
def test_tables_agree_with_glibc_iconv(table: str, charset: str) -> None:
    for ch, code in _table(table).items():
        out = subprocess.run(["iconv", "-f", charset, "-t", "UTF-8"], input=code,
                             capture_output=True, check=False).stdout.decode()  # fmt: skip
        if out:  # some iconv builds lack a charset
            assert unicodedata.normalize("NFC", out) == ch, (table, code.hex())
