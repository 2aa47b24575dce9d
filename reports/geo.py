"""Great-circle distance and bounding boxes, without PostGIS (SQLite must work).

The database narrows candidates with a plain lat/lon box (an index range);
the exact distance is computed here, on the few rows that remain.
"""

import math

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
