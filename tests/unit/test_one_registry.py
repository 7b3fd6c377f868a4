"""One registry for OIDs, curves, hashes and signature algorithms (docs/architecture.md
"One place per concern").

Every module that needs the OID of brainpoolP256r1, of SHA-256 or of an ECDSA signature
algorithm (ecdsa-with-SHA256, BSI ecdsa-plain-SHA256), or the curve object behind the name
brainpoolP256r1, must take it from one registry module (``reader.oids``, ``reader.curves``)
rather than keep its own table. The check reads the source of every product module (every
package at the top of the repository except ``tests``) and counts the modules that spell the
value out, in any of the ways found in this code base: the dotted string, a tuple or list of
arcs, or the DER content bytes (as ``\\x`` escapes or as hex digits, with or without
separators). The DER bytes come from asn1crypto, not from our own encoder.

A table found twice fails here; the fix is to take the value from the registry.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from asn1crypto.core import ObjectIdentifier

ROOT = Path(__file__).resolve().parents[2]

BRAINPOOL_P256R1 = "1.3.36.3.3.2.8.1.1.7"
SHA256 = "2.16.840.1.101.3.4.2.1"
ECDSA_WITH_SHA256 = "1.2.840.10045.4.3.2"
ECDSA_PLAIN_SHA256 = "0.4.0.127.0.7.1.1.4.1.3"


def product_modules() -> dict[str, str]:
    """Source text of every .py file in the product's packages, keyed by repo-relative path."""
    sources: dict[str, str] = {}
    for package in sorted(ROOT.iterdir()):
        if package.name == "tests" or not (package / "__init__.py").is_file():
            continue
        for path in sorted(package.rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            sources[path.relative_to(ROOT).as_posix()] = path.read_text(encoding="utf-8")
    return sources


def oid_patterns(dotted: str) -> list[re.Pattern[str]]:
    """Regular expressions for the spellings of one OID (none matches a longer OID)."""
    arcs = dotted.split(".")
    content = ObjectIdentifier(dotted).contents  # DER content octets, tag and length left off
    pairs = [f"{byte:02x}" for byte in content]
    return [
        # "1.3.36.3.3.2.8.1.1.7", not followed by another arc
        re.compile(r"(?<![\d.])" + re.escape(dotted) + r"(?!\d|\.\d)"),
        # (1, 3, 36, ...) or [1, 3, 36, ...]
        re.compile(r"(?<![\d,\s])\s*" + r"\s*,\s*".join(arcs) + r"(?!\d|\s*,\s*\d)"),
        # The DER forms may sit inside a longer encoding (tag and length before, NULL
        # parameters after), so they have no boundaries.
        # b"\x2b\x24\x03..." (any case)
        re.compile("".join(r"\\x" + pair for pair in pairs), re.IGNORECASE),
        # "2b2403..." / "2B 24 03 ..." / "2b:24:03:..." / bytes.fromhex("06092b24 03 ...")
        re.compile(r"[\s:]?".join(pairs), re.IGNORECASE),
    ]


def modules_spelling_oid(dotted: str) -> list[str]:
    patterns = oid_patterns(dotted)
    return [
        path
        for path, text in product_modules().items()
        if any(pattern.search(text) for pattern in patterns)
    ]


def curve_table_pattern(name: str) -> re.Pattern[str]:
    """A table entry from the curve's name to a curve object, e.g.
    ``"brainpoolp256r1": (ecdsa_curves.BRAINPOOLP256r1, ec.BrainpoolP256R1)`` or
    ``13: ("brainpoolP256r1", ecdsa_curves.BRAINPOOLP256r1)``. Using a curve object (making a
    key on it) is not a table and does not match."""
    return re.compile(rf"[\"']{name}[\"']\s*[:,]\s*\(?\s*[\w.]*\b{name}\b", re.IGNORECASE)


def modules_with_curve_table(name: str) -> list[str]:
    pattern = curve_table_pattern(name)
    return [path for path, text in product_modules().items() if pattern.search(text)]


def test_the_scan_sees_the_product_packages() -> None:
    packages = {path.split("/", 1)[0] for path in product_modules()}
    assert {"reader", "verify", "service", "fixtures"} <= packages
    assert "tests" not in packages


@pytest.mark.parametrize(
    ("dotted", "spelling"),
    [
        (SHA256, "2.16.840.1.101.3.4.2.1"),
        (SHA256, "(2, 16, 840, 1, 101, 3, 4, 2, 1)"),
        (SHA256, "[2,16,840,1,101,3,4,2,1]"),
        (SHA256, r'b"\x60\x86\x48\x01\x65\x03\x04\x02\x01"'),
        (SHA256, r'b"\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x01"'),
        (SHA256, 'bytes.fromhex("0609 6086 4801 6503 0402 01")'),
        (SHA256, "60:86:48:01:65:03:04:02:01"),
        (SHA256, '"300d06096086480165030402010500"'),
        (BRAINPOOL_P256R1, r'b"\x2B\x24\x03\x03\x02\x08\x01\x01\x07"'),
        (ECDSA_WITH_SHA256, "1.2.840.10045.4.3.2"),
        (ECDSA_WITH_SHA256, r'b"\x2a\x86\x48\xce\x3d\x04\x03\x02"'),
        (ECDSA_PLAIN_SHA256, "(0, 4, 0, 127, 0, 7, 1, 1, 4, 1, 3)"),
    ],
)
def test_each_spelling_is_recognised(dotted: str, spelling: str) -> None:
    assert any(pattern.search(spelling) for pattern in oid_patterns(dotted))


@pytest.mark.parametrize(
    ("source", "is_table"),
    [
        ('"brainpoolp256r1": (ecdsa_curves.BRAINPOOLP256r1, ec.BrainpoolP256R1),', True),
        ('13: ("brainpoolP256r1", ecdsa_curves.BRAINPOOLP256r1),', True),
        ("'brainpoolP256r1': ecdsa.BRAINPOOLP256r1,", True),
        ('"brainpoolp256r1": ec.BrainpoolP256R1,', True),
        ("ec.derive_private_key(secret, ec.BrainpoolP256R1())", False),
        ('"brainpoolp384r1": ec.BrainpoolP384R1,', False),
    ],
)
def test_a_curve_table_entry_is_recognised_and_a_use_is_not(source: str, is_table: bool) -> None:
    assert bool(curve_table_pattern("brainpoolP256r1").search(source)) is is_table


@pytest.mark.parametrize(
    ("dotted", "other"),
    [
        (SHA256, "2.16.840.1.101.3.4.2.10"),  # SHA3-256 is ...4.2.8; 4.2.10 is SHA3-512
        (SHA256, "2.16.840.1.101.3.4.2.1.5"),
        (SHA256, "(2, 16, 840, 1, 101, 3, 4, 2, 10)"),
        (BRAINPOOL_P256R1, "1.3.36.3.3.2.8.1.1.11"),  # brainpoolP384r1
        (BRAINPOOL_P256R1, "1.3.36.3.3.2.8.1.1.7.1"),
        (ECDSA_WITH_SHA256, "1.2.840.10045.4.3.20"),
        (ECDSA_WITH_SHA256, "1.2.840.10045.4.3.2.1"),
    ],
)
def test_a_longer_or_different_oid_is_not_counted(dotted: str, other: str) -> None:
    assert not any(pattern.search(other) for pattern in oid_patterns(dotted))


def test_brainpool_p256r1_oid_is_spelled_out_in_exactly_one_module() -> None:
    holders = modules_spelling_oid(BRAINPOOL_P256R1)
    assert len(holders) == 1, holders


def test_sha256_oid_is_spelled_out_in_exactly_one_module() -> None:
    holders = modules_spelling_oid(SHA256)
    assert len(holders) == 1, holders


@pytest.mark.parametrize("dotted", [ECDSA_WITH_SHA256, ECDSA_PLAIN_SHA256])
def test_ecdsa_signature_oids_are_spelled_out_in_exactly_one_module(dotted: str) -> None:
    holders = modules_spelling_oid(dotted)
    assert len(holders) == 1, holders


def test_brainpool_p256r1_curve_table_entry_is_in_exactly_one_module() -> None:
    holders = modules_with_curve_table("brainpoolP256r1")
    assert len(holders) == 1, holders


def test_text_is_folded_to_ascii_in_exactly_one_module() -> None:
    """One folding mechanism: only ``reader.lds.fold`` transliterates (unidecode); the DG13
    parser and ``verify.vntext.fold`` both call it, so they fold alike."""
    from reader.lds.dg13 import parse_date
    from verify.vntext import fold

    users = sorted(path for path, text in product_modules().items() if "unidecode" in text)
    assert users == ["reader/lds/fold.py"]
    for phrase in ("Không thời hạn", "KHÔNG  THỜI HẠN", "khong thoi han", "Vĩnh viễn"):
        assert parse_date(phrase).no_expiry, phrase
    assert fold("KHÔNG  THỜI HẠN") == "khong thoi han"
