"""The elementary files of an eMRTD (ICAO 9303-10 §4.6, table of EFs) and of the CCCD
(``docs/spec/cccd-chip.md`` "Application and files"): names, FIDs, SFIs, outer tags."""

from __future__ import annotations

from dataclasses import dataclass

MRTD_AID = bytes.fromhex("A0000002471001")


@dataclass(frozen=True, slots=True)
class FileInfo:
    name: str
    fid: int
    sfi: int
    tag: int | None  # the outer tag of the file's content (None: a bare SET, CardAccess)


def _dg(number: int, tag: int) -> FileInfo:
    return FileInfo(f"DG{number}", 0x0100 + number, number, tag)


FILES: dict[str, FileInfo] = {
    "CardAccess": FileInfo("CardAccess", 0x011C, 0x1C, None),
    "COM": FileInfo("COM", 0x011E, 0x1E, 0x60),
    "SOD": FileInfo("SOD", 0x011D, 0x1D, 0x77),
    **{
        f"DG{n}": _dg(n, tag)
        for n, tag in zip(
            range(1, 17),
            (
                0x61,
                0x75,
                0x63,
                0x76,
                0x65,
                0x66,
                0x67,
                0x68,
                0x69,
                0x6A,
                0x6B,
                0x6C,
                0x6D,
                0x6E,
                0x6F,
                0x70,
            ),
            strict=True,
        )
    },
}

# EF.ATR/INFO (ISO/IEC 7816-4 §12.7.1) in the MF. Last, so SFI 01 still finds DG1 first; the
# reader selects it by FID only.
FILES["ATRInfo"] = FileInfo("ATRInfo", 0x2F01, 0x01, None)

TAG_TO_NAME = {info.tag: name for name, info in FILES.items() if info.tag is not None}

# Files that need Extended Access Control (terminal authentication): never read them.
EAC_PROTECTED = frozenset({"DG3", "DG4"})


def file_info(name: str) -> FileInfo:
    try:
        return FILES[name]
    except KeyError:
        raise ValueError(f"unknown file {name!r}; expected one of {', '.join(FILES)}") from None
