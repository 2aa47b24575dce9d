"""Great-circle distance and bounding boxes, without PostGIS (SQLite must work).

The database narrows candidates with a plain lat/lon box (an index range);
the exact distance is computed here, on the few rows that remain.
"""

import math
import re

import mgrs

# Mean Earth radius (IUGG), metres. Haversine on a sphere is within 0.5 % of
# the ellipsoid: ample for "are these two reports the same event?".
EARTH_RADIUS_M = 6_371_008.8


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def box_around(lat: float, lon: float, distance_m: float) -> tuple[float, float, list[tuple[float, float]]]:
    """(min_lat, max_lat, lon_ranges) enclosing every point within distance_m.

    lon_ranges has two ranges when the box crosses the antimeridian, and is
    the whole circle near a pole (where a degree of longitude shrinks to nothing).
    """
    dlat = math.degrees(distance_m / EARTH_RADIUS_M)
    min_lat, max_lat = max(-90.0, lat - dlat), min(90.0, lat + dlat)
    cos_lat = math.cos(math.radians(max(abs(min_lat), abs(max_lat))))
    if max_lat >= 90.0 or min_lat <= -90.0 or cos_lat < 1e-9:
        return min_lat, max_lat, [(-180.0, 180.0)]
    dlon = math.degrees(distance_m / (EARTH_RADIUS_M * cos_lat))
    if dlon >= 180.0:
        return min_lat, max_lat, [(-180.0, 180.0)]
    return min_lat, max_lat, lon_ranges(lon - dlon, lon + dlon)


def lon_ranges(west: float, east: float) -> list[tuple[float, float]]:
    """Longitude interval(s) from west to east, split at the antimeridian."""
    if west < -180.0:
        return [(west + 360.0, 180.0), (-180.0, east)]
    if east > 180.0:
        return [(west, 180.0), (-180.0, east - 360.0)]
    if west > east:  # a bounding box given across the antimeridian (e.g. 170,-170)
        return [(west, 180.0), (-180.0, east)]
    return [(west, east)]


# An MGRS grid reference as monitors write it: zone (1-60), latitude band,
# 100 km square, then easting and northing of equal length (0 to 5 digits
# each), spaces anywhere between the parts.
MGRS_PATTERN = re.compile(r"(\d{1,2})([C-HJ-NP-X])([A-HJ-NP-Z]{2})(\d{0,10})")


def mgrs_to_latlon(text: str) -> tuple[float, float]:
    """(lat, lon) of the south-west corner of an MGRS grid square, as
    the `mgrs` package (GeoTrans) computes it. ValueError when `text` is not
    a grid reference (wrong shape, odd digit count, zone or band that does
    not exist)."""
    compact = re.sub(r"\s+", "", text or "").upper()
    match = MGRS_PATTERN.fullmatch(compact)
    if not match or len(match.group(4)) % 2 or not 1 <= int(match.group(1)) <= 60:
        raise ValueError(text)
    try:
        lat, lon = mgrs.MGRS().toLatLon(compact)
    except mgrs.core.MGRSError as exc:
        raise ValueError(text) from exc
    if not (math.isfinite(lat) and math.isfinite(lon)):
        raise ValueError(text)
    return round(lat, 6), round(lon, 6)


def parse_degrees(text: str) -> str:
    """A decimal-degree number as typed with either decimal separator
    ("47,5689" or "47.5689"), as the API's number text; anything else is
    returned unchanged, so that the API's own message says what is wrong."""
    value = (text or "").strip().replace("\u2212", "-")
    if re.fullmatch(r"[+-]?\d+,\d+", value):
        value = value.replace(",", ".")
    return value
