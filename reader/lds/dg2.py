"""DG2, the encoded face (ICAO 9303-10 §4.7.2: CBEFF biometric information templates,
ISO/IEC 7816-11 / 19785; the facial record is ISO/IEC 19794-5:2005 §5.4-5.7).

The record header is read field by field with every length checked against the data. The
image itself is only decoded on request (:meth:`FaceImage.to_jpeg`), through Pillow, with the
declared size checked before any pixel is decoded so a 100000x100000 "image" is refused at
once. Browsers do not show JPEG 2000, so ``to_jpeg`` re-encodes it.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from reader import tlv
from reader.errors import ParseError
from reader.lds.outer import open_file

_FILE = "DG2"
_MAX_INSTANCES = 16
_MAX_FEATURE_POINTS = 1000
DEFAULT_MAX_PIXELS = 4_000_000
DEFAULT_MAX_BYTES = 2 * 1024 * 1024


class ImageError(ParseError):
    """The face image cannot be turned into a JPEG (corrupt, unsupported, or over the limits)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BiometricHeader:
    """The CBEFF biometric header template (A1), ISO/IEC 7816-11 table 9."""

    raw: bytes
    version: bytes | None  # 80
    biometric_type: int | None  # 81: 2 = facial features
    biometric_subtype: int | None  # 82
    creation_date: bytes | None  # 83
    validity_period: bytes | None  # 85
    creator: bytes | None  # 86
    format_owner: int | None  # 87: 0x0101 = ISO/IEC JTC1 SC37
    format_type: int | None  # 88: 0x0008 = ISO/IEC 19794-5 face


@dataclass(frozen=True, slots=True, kw_only=True)
class FaceImage:
    """One facial image: the 19794-5 facial information, image information and image bytes."""

    record_version: str  # "010" for 19794-5:2005
    number_of_images: int
    gender: int  # 0 unspecified, 1 male, 2 female, 0xFF unknown
    eye_colour: int
    hair_colour: int
    feature_mask: int
    expression: int
    pose_angle: tuple[int, int, int]  # yaw, pitch, roll as encoded
    feature_points: int
    image_type: int  # face image type: 0 basic, 1 full frontal, 2 token frontal
    image_data_type: int  # 0 JPEG, 1 JPEG 2000
    width: int
    height: int
    colour_space: int
    source_type: int
    image: bytes

    @property
    def format(self) -> str:
        """ "jpeg", "jp2", "j2k" or "unknown", from the image bytes' signature."""
        return image_format(self.image)

    def to_jpeg(
        self,
        *,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        max_bytes: int = DEFAULT_MAX_BYTES,
        quality: int = 90,
    ) -> bytes:
        """A browser-ready JPEG of the face; :class:`ImageError` beyond the limits."""
        return to_jpeg(
            self.image,
            max_pixels=max_pixels,
            max_bytes=max_bytes,
            quality=quality,
            declared=(self.width, self.height),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class BiometricTemplate:
    header: BiometricHeader
    data_tag: int  # 5F2E, or 7F2E
    face: FaceImage | None
    data: bytes
    problem: str | None  # why ``face`` is None


@dataclass(frozen=True, slots=True, kw_only=True)
class DG2:
    raw: bytes
    instance_count: int  # as declared in 02
    templates: tuple[BiometricTemplate, ...]

    @property
    def faces(self) -> tuple[FaceImage, ...]:
        return tuple(t.face for t in self.templates if t.face is not None)

    @property
    def face(self) -> FaceImage | None:
        faces = self.faces
        return faces[0] if faces else None

    def to_jpeg(
        self, *, max_pixels: int = DEFAULT_MAX_PIXELS, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> bytes:
        face = self.face
        if face is None:
            raise ImageError("DG2 holds no facial image", file=_FILE)
        return face.to_jpeg(max_pixels=max_pixels, max_bytes=max_bytes)


def image_format(data: bytes) -> str:
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:12] == b"\x00\x00\x00\x0cjP  \r\n\x87\n":
        return "jp2"
    if data[:4] == b"\xff\x4f\xff\x51":
        return "j2k"
    return "unknown"


def _uint(data: bytes, pos: int, size: int, base: int) -> int:
    if pos + size > len(data):
        raise ParseError("facial record cut short", offset=base + pos, file=_FILE)
    return int.from_bytes(data[pos : pos + size], "big")


def parse_facial_record(data: bytes, base: int = 0) -> FaceImage:
    """ISO/IEC 19794-5:2005 facial record: header, first facial information and image."""
    if data[:4] != b"FAC\x00":
        raise ParseError("facial record does not start with 'FAC'", offset=base, file=_FILE)
    version = data[4:8].rstrip(b"\x00").decode("ascii", errors="replace")
    record_length = _uint(data, 8, 4, base)
    count = _uint(data, 12, 2, base)
    if record_length > len(data):
        raise ParseError(
            f"facial record declares {record_length} bytes, {len(data)} present",
            offset=base + 8,
            file=_FILE,
        )
    pos = 14
    block_length = _uint(data, pos, 4, base)
    points = _uint(data, pos + 4, 2, base)
    if points > _MAX_FEATURE_POINTS:
        raise ParseError(f"{points} feature points", offset=base + pos + 4, file=_FILE)
    gender = _uint(data, pos + 6, 1, base)
    eyes = _uint(data, pos + 7, 1, base)
    hair = _uint(data, pos + 8, 1, base)
    mask = _uint(data, pos + 9, 3, base)
    expression = _uint(data, pos + 12, 2, base)
    pose = (
        _uint(data, pos + 14, 1, base),
        _uint(data, pos + 15, 1, base),
        _uint(data, pos + 16, 1, base),
    )
    info = pos + 20 + 8 * points
    image_type = _uint(data, info, 1, base)
    data_type = _uint(data, info + 1, 1, base)
    width = _uint(data, info + 2, 2, base)
    height = _uint(data, info + 4, 2, base)
    colour = _uint(data, info + 6, 1, base)
    source = _uint(data, info + 7, 1, base)
    start = info + 12
    if start > len(data):
        raise ParseError("facial record cut short", offset=base + info, file=_FILE)
    # The block length bounds the image when it is consistent; real records sometimes lie, so
    # the image runs to the end of the record in that case rather than being dropped.
    end = pos + block_length if start <= pos + block_length <= len(data) else len(data)
    return FaceImage(
        record_version=version,
        number_of_images=count,
        gender=gender,
        eye_colour=eyes,
        hair_colour=hair,
        feature_mask=mask,
        expression=expression,
        pose_angle=pose,
        feature_points=points,
        image_type=image_type,
        image_data_type=data_type,
        width=width,
        height=height,
        colour_space=colour,
        source_type=source,
        image=data[start:end],
    )


def _small_int(element: tlv.TLV | None) -> int | None:
    if element is None or not 1 <= len(element.value) <= 4:
        return None
    return int.from_bytes(element.value, "big")


def _header(element: tlv.TLV | None) -> BiometricHeader:
    def value(tag: int) -> bytes | None:
        found = element.find(tag) if element is not None else None
        return None if found is None else found.value

    def number(tag: int) -> int | None:
        return _small_int(element.find(tag)) if element is not None else None

    return BiometricHeader(
        raw=element.raw if element is not None else b"",
        version=value(0x80),
        biometric_type=number(0x81),
        biometric_subtype=number(0x82),
        creation_date=value(0x83),
        validity_period=value(0x85),
        creator=value(0x86),
        format_owner=number(0x87),
        format_type=number(0x88),
    )


def _template(bit: tlv.TLV) -> BiometricTemplate:
    header = _header(bit.find(0xA1))
    data_el = bit.find(0x5F2E) or bit.find(0x7F2E)
    if data_el is None:
        return BiometricTemplate(
            header=header,
            data_tag=0,
            face=None,
            data=b"",
            problem="no biometric data block (5F2E/7F2E)",
        )
    offset = data_el.offset + len(data_el.raw) - len(data_el.value)
    try:
        face = parse_facial_record(data_el.value, offset)
        problem = None
    except ParseError as exc:
        face, problem = None, exc.reason
    return BiometricTemplate(
        header=header, data_tag=data_el.tag, face=face, data=data_el.value, problem=problem
    )


def parse_dg2(raw: bytes) -> DG2:
    """Parse DG2 (``75 { 7F61 { 02 count, 7F60 { A1 header, 5F2E record } ... } }``)."""
    raw = bytes(raw)
    top = open_file(raw, 0x75, _FILE)
    group = top.require(0x7F61, _FILE)
    count = _small_int(group.find(0x02))
    bits = group.find_all(0x7F60)[:_MAX_INSTANCES]
    if not bits:
        raise ParseError(
            "no biometric information template (7F60)", offset=group.offset, file=_FILE
        )
    templates = tuple(_template(bit) for bit in bits)
    if all(t.face is None for t in templates):
        first = templates[0]
        raise ParseError(
            f"no readable facial record: {first.problem}", offset=group.offset, file=_FILE
        )
    return DG2(
        raw=raw, instance_count=count if count is not None else len(bits), templates=templates
    )


def to_jpeg(
    image: bytes,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    quality: int = 90,
    declared: tuple[int, int] | None = None,
) -> bytes:
    """Decode ``image`` (JPEG or JPEG 2000) with Pillow and give a baseline RGB/grey JPEG.

    The byte size, the declared size (from the 19794-5 header) and the size in the image's own
    header are all checked against the limits before Pillow decodes a pixel.
    """
    from PIL import Image

    if len(image) > max_bytes:
        raise ImageError(
            f"image of {len(image)} bytes is over the limit of {max_bytes}", file=_FILE
        )
    if declared is not None and declared[0] * declared[1] > max_pixels:
        raise ImageError(
            f"image declares {declared[0]}x{declared[1]} pixels, over the limit", file=_FILE
        )
    kind = image_format(image)
    if kind == "unknown":
        raise ImageError("image is neither JPEG nor JPEG 2000", file=_FILE)
    formats = ["JPEG"] if kind == "jpeg" else ["JPEG2000"]
    try:
        with warnings.catch_warnings():
            # Our own limit below is stricter; Pillow's global warning must not escape
            # (and must not become an error under warnings-as-errors).
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(image), formats=formats) as picture:
                width, height = picture.size
                if width <= 0 or height <= 0 or width * height > max_pixels:
                    raise ImageError(
                        f"image is {width}x{height} pixels, over the limit", file=_FILE
                    )
                picture.load()
                original_mode = picture.mode
                if original_mode not in ("RGB", "L"):
                    converted = picture.convert("RGB")
                else:
                    converted = picture.copy()
    except ImageError:
        raise
    except Image.DecompressionBombError:
        raise ImageError("image is over Pillow's decompression-bomb limit", file=_FILE) from None
    except (OSError, ValueError, SyntaxError, EOFError, MemoryError) as exc:
        raise ImageError(f"image does not decode: {type(exc).__name__}", file=_FILE) from None
    if kind == "jpeg" and original_mode in ("RGB", "L"):
        return image  # already a JPEG a browser shows; never re-encode what is fine
    out = io.BytesIO()
    converted.save(out, format="JPEG", quality=quality)
    return out.getvalue()
