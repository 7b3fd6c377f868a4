"""The issuing state of a document and the country of its certificates (ICAO 9303-11 §5.1,
9303-12 §7.1.1 and §4.1.1, 9303-3 §5 for the codes).

Passive authentication only means something when the CSCA that anchors the chain belongs to
the state that issued the document: a master list brings in every state's CSCAs, and any of
their document signers could otherwise sign a "Vietnamese" card. DG1 names the issuing state
with a three-letter ICAO code (``VNM``); certificates name their country with the two-letter
ISO 3166-1 code of their ``C`` attribute (``VN``).
"""

from __future__ import annotations

from asn1crypto import x509
from iso3166 import countries_by_alpha3

# ICAO 9303-3 codes that are not ISO 3166-1 alpha-3 (or differ from it).
_ICAO_ONLY = {
    "D": "DE",  # Germany writes "D<<" in the MRZ
    "GBD": "GB",
    "GBN": "GB",
    "GBO": "GB",
    "GBP": "GB",
    "GBS": "GB",
    "RKS": "XK",  # Kosovo
}


def country_of_issuing_state(code: str) -> str | None:
    """The ISO 3166-1 alpha-2 country for an ICAO issuing-state code (``VNM`` -> ``VN``);
    None for codes of organisations (``UNO``, ``EUE``, ``XXA`` ...) or unknown codes."""
    cleaned = code.replace("<", "").strip().upper()
    if cleaned in _ICAO_ONLY:
        return _ICAO_ONLY[cleaned]
    country = countries_by_alpha3.get(cleaned)
    return country.alpha2 if country is not None else None


def country_of_name(name: x509.Name) -> str | None:
    """The ``C`` attribute of an X.509 name, upper-case, or None when it has none."""
    try:
        value = name.native.get("country_name")
    except (ValueError, TypeError, KeyError):
        return None
    if isinstance(value, list):  # several C attributes: refuse to guess
        return None if len(set(value)) != 1 else str(value[0]).upper()
    return str(value).upper() if value else None
