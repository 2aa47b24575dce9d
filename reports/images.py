"""What the server derives from an evidence image (Pillow): a small upright
thumbnail with no metadata at all, and the capture time and position the
camera wrote into the original's EXIF.

Pure functions of the original's bytes: no database, no storage. The
original itself is never rewritten (its SHA-256 is the evidence).
"""

import io
import math
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from PIL import ExifTags, Image, ImageOps

# Longest side of a thumbnail, in pixels: a card on the report and case pages
# (shown at most 320 CSS px wide).
THUMBNAIL_SIDE = 320
THUMBNAIL_QUALITY = 80
THUMBNAIL_MIME = "image/jpeg"
# Types Pillow decodes here, each with the one decoder its bytes already
# proved (reports.services._inspect): none of Pillow's other parsers ever
# sees an upload. PDF and MP4 get no thumbnail (pages show a file link).
DECODERS = {"image/jpeg": ["JPEG"], "image/png": ["PNG"], "image/webp": ["WEBP"]}
IMAGE_TYPES = tuple(DECODERS)


class ImageTooLarge(Exception):
    """More pixels than we are willing to decode (a decompression bomb, or
    a photo beyond EVIDENCE_IMAGE_MAX_PIXELS)."""

    def __init__(self, pixels: int | None):
        super().__init__(pixels)
        self.pixels = pixels


@dataclass(frozen=True)
class Derived:
    thumbnail: bytes | None = None
    width: int | None = None
    height: int | None = None
    taken_at: datetime | None = None
    # False: the camera wrote no OffsetTimeOriginal, so taken_at is its clock
    # read as UTC (an unknown zone: Ukraine is UTC+2/+3).
    taken_at_has_offset: bool = False
    lat: float | None = None
    lon: float | None = None


def derive(fileobj, mime: str, *, max_pixels: int) -> Derived:
    """Thumbnail and EXIF of an image. Raises ImageTooLarge before decoding
    more than `max_pixels`; an image Pillow cannot read gives an empty
    Derived (the original is still kept: a damaged photo is still evidence)."""
    if mime not in IMAGE_TYPES:
        return Derived()
    fileobj.seek(0)
    try:
        with warnings.catch_warnings():
            # Pillow warns above its MAX_IMAGE_PIXELS and refuses (raises) at
            # twice that; our own limit below applies to what is really decoded.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(fileobj, formats=DECODERS[mime])
    except Image.DecompressionBombError:
        raise ImageTooLarge(None) from None
    except Exception:  # noqa: BLE001 (Pillow's parsers raise many kinds of error on damaged files)
        return Derived()
    with image:
        exif = _exif(image)
        if image.format == "JPEG":
            # Let the JPEG decoder scale down by up to 8 while decoding (DCT
            # scaling): a 12 MP photo is decoded as 0.2 MP, in ~15 ms.
            image.draft("RGB", (2 * THUMBNAIL_SIDE, 2 * THUMBNAIL_SIDE))
        pixels = image.size[0] * image.size[1]
        if pixels > max_pixels:
            raise ImageTooLarge(pixels)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                thumbnail = _thumbnail(image)
        except Image.DecompressionBombError:
            raise ImageTooLarge(pixels) from None
        except Exception:  # noqa: BLE001 (as above: damaged pixel data)
            # Truncated or damaged pixel data: no thumbnail, but the EXIF read
            # from the header still stands.
            return Derived(**exif)
    return Derived(thumbnail=thumbnail[0], width=thumbnail[1], height=thumbnail[2], **exif)


def _thumbnail(image: Image.Image) -> tuple[bytes, int, int]:
    # Upright first (the EXIF orientation tag is about to be dropped with the
    # rest of the metadata, so it has to be applied to the pixels).
    upright = ImageOps.exif_transpose(image)
    upright.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
    if upright.mode in ("RGBA", "LA", "PA") or (upright.mode == "P" and "transparency" in upright.info):
        rgba = upright.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        upright = flat
    # A new image from the pixel data alone: no EXIF, XMP, ICC profile or
    # comment of the original can survive into it (GPS would reveal where a
    # monitor stood to anyone shown the page).
    clean = Image.new("RGB", upright.size)
    clean.paste(upright.convert("RGB"))
    out = io.BytesIO()
    clean.save(out, "JPEG", quality=THUMBNAIL_QUALITY, optimize=True)
    return out.getvalue(), clean.size[0], clean.size[1]


def _exif(image: Image.Image) -> dict:
    try:
        exif = image.getexif()
        ifd = exif.get_ifd(ExifTags.IFD.Exif)
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    except Exception:  # noqa: BLE001 (malformed EXIF is common; it only means "no EXIF")
        return {}
    # DateTimeOriginal only: IFD0's DateTime is when the file was last
    # changed (an editor's save), not when the picture was taken.
    taken_at, has_offset = _taken_at(ifd.get(ExifTags.Base.DateTimeOriginal), ifd.get(ExifTags.Base.OffsetTimeOriginal))
    lat = _coordinate(gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef), "N", "S", 90)
    lon = _coordinate(gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef), "E", "W", 180)
    # Cameras without a fix write 0/0 (or mark the reading void, GPSStatus V):
    # no position, rather than one in the Gulf of Guinea.
    if lat is None or lon is None or (lat == 0 and lon == 0) or _text(gps.get(ExifTags.GPS.GPSStatus)) == "V":
        lat = lon = None
    return {"taken_at": taken_at, "taken_at_has_offset": has_offset, "lat": lat, "lon": lon}


def _text(value) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str):
        return None
    return value.strip("\x00 ").strip() or None


def _taken_at(value, offset) -> tuple[datetime | None, bool]:
    """EXIF writes 'YYYY:MM:DD HH:MM:SS' in the camera's local time, and (since
    EXIF 2.31) the offset apart as '+03:00'."""
    text = _text(value)
    if text is None:
        return None, False
    try:
        naive = datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None, False
    zone = _offset(_text(offset))
    if zone is None:
        return naive.replace(tzinfo=UTC), False
    return naive.replace(tzinfo=zone).astimezone(UTC), True


def _offset(text: str | None) -> timezone | None:
    if not text or len(text) != 6 or text[0] not in "+-" or text[3] != ":":
        return None
    try:
        hours, minutes = int(text[1:3]), int(text[4:6])
    except ValueError:
        return None
    if hours > 14 or minutes > 59:
        return None
    sign = 1 if text[0] == "+" else -1
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _coordinate(value, ref, positive: str, negative: str, bound: float) -> float | None:
    """Degrees, minutes, seconds (three rationals) and a hemisphere letter
    to signed decimal degrees; None for anything malformed."""
    try:
        degrees, minutes, seconds = (float(part) for part in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    number = degrees + minutes / 60 + seconds / 3600
    if not math.isfinite(number) or number > bound or min(degrees, minutes, seconds) < 0:
        return None
    hemisphere = _text(ref)
    if hemisphere not in (positive, negative):
        return None
    return round(-number if hemisphere == negative else number, 6)
