"""DG2: CBEFF / ISO 19794-5 parsing, JPEG and JPEG 2000 faces to browser JPEG, and the
decompression-bomb limits."""

from __future__ import annotations

import io
import time

import pytest
from PIL import Image, features

from fixtures import lds_build as B
from fixtures.citizens import load_citizens
from reader.errors import ParseError
from reader.lds import parse_dg2
from reader.lds.dg2 import ImageError, image_format, to_jpeg
from reader.tlv import encode

CITIZEN = load_citizens()[0]


def test_jpeg_face_parses() -> None:
    raw = B.build_dg2(CITIZEN)
    parsed = parse_dg2(raw)
    assert parsed.raw == raw and parsed.instance_count == 1
    face = parsed.face
    assert face is not None
    assert face.format == "jpeg" and face.image[:3] == b"\xff\xd8\xff"
    assert (face.width, face.height) == (360, 480)
    assert face.gender == 2  # Nữ
    assert face.record_version == "010" and face.image_data_type == 0 and face.image_type == 1
    header = parsed.templates[0].header
    assert header.biometric_type == 2 and header.format_owner == 0x0101
    assert header.format_type == 0x0008
    assert 15_000 <= len(face.image) <= 25_000
    assert face.to_jpeg() == face.image  # already browser-ready
    with Image.open(io.BytesIO(face.image)) as img:
        assert img.size == (360, 480)


@pytest.mark.skipif(not features.check("jpg_2000"), reason="Pillow without OpenJPEG")
def test_jpeg2000_face_converts_to_jpeg() -> None:
    parsed = parse_dg2(B.build_dg2(CITIZEN, image_format="jp2"))
    face = parsed.face
    assert face is not None and face.format == "jp2" and face.image_data_type == 1
    jpeg = face.to_jpeg()
    assert image_format(jpeg) == "jpeg"
    with Image.open(io.BytesIO(jpeg)) as img:
        assert img.format == "JPEG" and img.size == (360, 480) and img.mode == "RGB"
    codestream = io.BytesIO()
    B.draw_face(CITIZEN, (120, 160)).save(codestream, format="JPEG2000", no_jp2=True)
    assert image_format(codestream.getvalue()) == "j2k"
    assert image_format(to_jpeg(codestream.getvalue())) == "jpeg"


def _j2k_declaring(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 100, 50)).save(out, format="JPEG2000", no_jp2=True)
    data = bytearray(out.getvalue())
    siz = data.index(b"\xff\x51")
    data[siz + 6 : siz + 10] = width.to_bytes(4, "big")
    data[siz + 10 : siz + 14] = height.to_bytes(4, "big")
    data[siz + 22 : siz + 26] = width.to_bytes(4, "big")  # one tile of the whole image
    data[siz + 26 : siz + 30] = height.to_bytes(4, "big")
    return bytes(data)


@pytest.mark.skipif(not features.check("jpg_2000"), reason="Pillow without OpenJPEG")
@pytest.mark.parametrize("max_pixels", [4_000_000, 10**12])
def test_bomb_refused_quickly(max_pixels: int) -> None:
    bomb = _j2k_declaring(100_000, 100_000)
    raw = B.build_dg2(CITIZEN, image=bomb, image_format="jp2", declared_size=(1000, 1000))
    face = parse_dg2(raw).face
    assert face is not None
    start = time.perf_counter()
    with pytest.raises(ImageError):
        face.to_jpeg(max_pixels=max_pixels)
    assert time.perf_counter() - start < 2.0


def test_declared_size_over_limit_refused_before_decoding() -> None:
    raw = B.build_dg2(CITIZEN, declared_size=(65535, 65535))
    face = parse_dg2(raw).face
    assert face is not None and (face.width, face.height) == (65535, 65535)
    with pytest.raises(ImageError, match="declares"):
        face.to_jpeg()


def test_byte_limit_and_garbage() -> None:
    face = parse_dg2(B.build_dg2(CITIZEN)).face
    assert face is not None
    with pytest.raises(ImageError):
        face.to_jpeg(max_bytes=1000)
    with pytest.raises(ImageError):
        to_jpeg(b"\xff\xd8\xff\xe0" + b"\x00" * 100)
    with pytest.raises(ImageError):
        to_jpeg(b"GIF89a" + b"\x00" * 100)
    truncated = face.image[: len(face.image) // 2]
    with pytest.raises(ImageError):
        to_jpeg(truncated)
    assert issubclass(ImageError, ParseError)


def test_malformed_dg2() -> None:
    with pytest.raises(ParseError):
        parse_dg2(encode(0x75, [encode(0x7F61, [encode(0x02, b"\x01")])]))
    bad_record = encode(
        0x75,
        [
            encode(
                0x7F61,
                [
                    encode(0x02, b"\x01"),
                    encode(0x7F60, [encode(0xA1, [encode(0x81, b"\x02")]), encode(0x5F2E, b"XYZ")]),
                ],
            )
        ],
    )
    with pytest.raises(ParseError, match="FAC"):
        parse_dg2(bad_record)


def test_faces_are_deterministic_and_differ() -> None:
    a, b = load_citizens()[:2]
    assert B.build_dg2(a) == B.build_dg2(a)
    assert B.build_dg2(a) != B.build_dg2(b)
