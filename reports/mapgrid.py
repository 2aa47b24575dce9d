"""The map's grid: Web Mercator tiles (the tiles Leaflet and OSM draw), cut
into cells of CELL_PX pixels. At map zoom z a cell is the tile of zoom
z + CELL_ZOOM_OFFSET, so a cell is the same size on screen at every zoom.

Every position falls into exactly one cell of a zoom: x and y are floors of
the Mercator coordinates, clamped into the grid (longitude 180 into the last
column, latitudes beyond Web Mercator's +-85.0511 into the first or last row),
so an aggregate by cell counts every report once. The same formula exists
twice: as ORM expressions (the database groups by it; PostgreSQL and SQLite,
whose math functions Django registers) and in Python (a cell's bounds, a
bounding box's cells). Scaling by a power of two is exact in floating point,
so the cell at zoom z of a position is its cell at zoom z + k shifted by k,
which lets reports.models.ReportMapCell keep counts at a few CELL_LEVELS only.
"""

import math

from django.db.models import F, FloatField, IntegerField, Value
from django.db.models.functions import Cast, Cos, Floor, Greatest, Least, Ln, Radians, Tan

CELL_PX = 64
CELL_ZOOM_OFFSET = 2  # 256-pixel tiles / 64-pixel cells = 4 = 2 ** 2
MAX_MAP_ZOOM = 20
# The counts kept on write (ReportMapCell) are per cell of these zooms (the
# finest about 10 km across at the equator, 6.5 km over Ukraine): a map whose
# cells are at least that large adds up the counts of the nearest finer level
# (at most 8 x 8 of them per cell), a closer one groups the reports.
CELL_LEVELS = (6, 9, 12)
BASE_ZOOM = CELL_LEVELS[-1]
# Web Mercator's latitude limit: atan(sinh(pi)).
MAX_LAT = 85.0511287798066


def _clamp(value: int, zoom: int) -> int:
    return min(max(value, 0), 2 ** zoom - 1)


def lon_to_x(lon: float, zoom: int) -> int:
    return _clamp(math.floor((lon + 180.0) / 360.0 * 2 ** zoom), zoom)


def lat_to_y(lat: float, zoom: int) -> int:
    phi = math.radians(min(max(lat, -MAX_LAT), MAX_LAT))
    return _clamp(math.floor((1.0 - math.log(math.tan(phi) + 1.0 / math.cos(phi)) / math.pi) / 2.0 * 2 ** zoom), zoom)


def x_to_lon(x: int, zoom: int) -> float:
    return x / 2 ** zoom * 360.0 - 180.0


def y_to_lat(y: int, zoom: int) -> float:
    return math.degrees(math.atan(math.sinh(math.pi * (1.0 - 2.0 * y / 2 ** zoom))))


def cell_bounds(x: int, y: int, zoom: int) -> tuple[float, float, float, float]:
    """(west, south, east, north) of a cell; the first and last rows reach
    the poles, since reports beyond Web Mercator's limit are counted there."""
    south = -90.0 if y == 2 ** zoom - 1 else y_to_lat(y + 1, zoom)
    north = 90.0 if y == 0 else y_to_lat(y, zoom)
    return (round(x_to_lon(x, zoom), 7), round(south, 7), round(x_to_lon(x + 1, zoom), 7), round(north, 7))


def bbox_cells(bbox: tuple[float, float, float, float], zoom: int) -> tuple[list[tuple[int, int]], int, int]:
    """(x ranges, y_min, y_max) of the cells a (west, south, east, north)
    box touches; two x ranges when it crosses the antimeridian (west > east)."""
    west, south, east, north = bbox
    y_min, y_max = lat_to_y(north, zoom), lat_to_y(south, zoom)
    if west > east:
        return [(lon_to_x(west, zoom), 2 ** zoom - 1), (0, lon_to_x(east, zoom))], y_min, y_max
    return [(lon_to_x(west, zoom), lon_to_x(east, zoom))], y_min, y_max


def bbox_cell_count(bbox, zoom: int) -> int:
    x_ranges, y_min, y_max = bbox_cells(bbox, zoom)
    return sum(b - a + 1 for a, b in x_ranges) * (y_max - y_min + 1)


def x_expression(zoom: int, lon="lon"):
    """The cell column of the row's longitude at `zoom`, for the database."""
    n = 2 ** zoom
    raw = Floor((F(lon) + Value(180.0)) / Value(360.0) * Value(float(n)))
    return Cast(Least(Greatest(raw, Value(0.0)), Value(float(n - 1))), IntegerField())


def y_expression(zoom: int, lat="lat"):
    """The cell row of the row's latitude at `zoom`, for the database."""
    n = 2 ** zoom
    phi = Radians(Least(Greatest(F(lat), Value(-MAX_LAT)), Value(MAX_LAT)), output_field=FloatField())
    raw = Floor((Value(1.0) - Ln(Tan(phi) + Value(1.0) / Cos(phi)) / Value(math.pi)) / Value(2.0) * Value(float(n)))
    return Cast(Least(Greatest(raw, Value(0.0)), Value(float(n - 1))), IntegerField())
