"""Helpers for the reports tests: a valid body, reports filed through the
service, small real files of each kind, and a throwaway MEDIA_ROOT."""

import struct
import zlib
from datetime import timedelta

import pytest
from django.utils import timezone

ORIKHIV = (47.5689, 35.8612)
KHARKIV = (49.9935, 36.2304)
# Metres per degree of latitude (mean Earth radius): to place reports at a distance.
M_PER_DEG_LAT = 111_195.0


def iso(dt) -> str:
    return dt.isoformat().replace("+00:00", "Z")


def body(**overrides) -> dict:
    """A valid POST /api/v1/reports/ body (the DESIGN.md shape)."""
    data = {
        "occurred_at": iso(timezone.now() - timedelta(hours=2)),
        "location": {"lat": ORIKHIV[0], "lon": ORIKHIV[1], "precision_m": 500, "place_name": "Orikhiv",
                     "admin1": "Zaporizhzhia Oblast"},
        "category": "shelling",
        "description": "About twelve impacts on the northern outskirts over 20 minutes.",
        "alleged_party": "RU",
        "source_type": "direct_observation",
        "casualties": {"civilian_killed": 0, "civilian_injured": 2, "military_killed": 0, "military_injured": 0},
        "weapons": "152 mm artillery",
        "severity": 3,
        "links": ["https://example.org/post/1"],
    }
    data.update(overrides)
    return data


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    # The personas' passwords are never checked here; hashing them properly
    # would be most of this suite's run time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def png_bytes(width: int = 1, height: int = 1) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\x00\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


PDF_BYTES = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"



def photo_jpeg(width: int = 1200, height: int = 800, *, taken: str | None = "2026:11:30 14:05:00",
               offset: str | None = "+02:00", gps: tuple[float, float] | None = ORIKHIV,
               orientation: int | None = None) -> bytes:
    """A JPEG as a phone writes it (Pillow): EXIF DateTimeOriginal, its
    offset, GPS in degrees/minutes/seconds and an orientation tag. The left
    half is red, the right half blue (to see which way a thumbnail turned)."""
    import io

    from PIL import ExifTags, Image

    image = Image.new("RGB", (width, height), (200, 0, 0))
    image.paste((0, 0, 200), (width // 2, 0, width, height))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "FieldCam"
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    ifd = exif.get_ifd(ExifTags.IFD.Exif)
    if taken:
        ifd[ExifTags.Base.DateTimeOriginal] = taken
    if offset:
        ifd[ExifTags.Base.OffsetTimeOriginal] = offset
    if gps:
        def dms(value: float) -> tuple[float, float, float]:
            degrees = int(abs(value))
            minutes = int((abs(value) - degrees) * 60)
            return float(degrees), float(minutes), round((abs(value) - degrees - minutes / 60) * 3600, 4)

        info = exif.get_ifd(ExifTags.IFD.GPSInfo)
        info[ExifTags.GPS.GPSLatitudeRef] = "N" if gps[0] >= 0 else "S"
        info[ExifTags.GPS.GPSLatitude] = dms(gps[0])
        info[ExifTags.GPS.GPSLongitudeRef] = "E" if gps[1] >= 0 else "W"
        info[ExifTags.GPS.GPSLongitude] = dms(gps[1])
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height pixels (a decompression bomb's shape)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 1024)) + chunk(b"IEND", b""))
