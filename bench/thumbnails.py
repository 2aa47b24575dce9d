"""How long the server takes to derive a thumbnail and read the EXIF of an
evidence image (reports.images.derive), to decide whether upload can do it
synchronously, inside the request.

    .venv/bin/python bench/thumbnails.py           # 12 MP JPEG, PNG, WebP and a 40 MP PNG (the default limit)

Photo-like content (a gradient with sensor-like noise, so that the files are
as large as a phone's), EXIF with time and GPS on the JPEG. Prints the file
size, the median CPU and wall time of 5 runs per image (after one warm-up;
CPU time is the figure to trust on a shared machine), and the process's
peak RSS so far (tracemalloc does not see Pillow's C buffers). No database needed.
"""

import io
import os
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from PIL import ExifTags, Image  # noqa: E402

from reports import images  # noqa: E402

RUNS = 5


def photo(width: int, height: int) -> Image.Image:
    gradient = Image.linear_gradient("L").resize((width, height))
    noise = Image.effect_noise((width, height), 24)
    return Image.merge("RGB", (gradient, Image.blend(gradient, noise, 0.35), noise))


def encoded(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        exif = Image.Exif()
        exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = "2026:11:30 14:05:00"
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        gps[ExifTags.GPS.GPSLatitudeRef], gps[ExifTags.GPS.GPSLatitude] = "N", (47.0, 34.0, 8.04)
        gps[ExifTags.GPS.GPSLongitudeRef], gps[ExifTags.GPS.GPSLongitude] = "E", (35.0, 51.0, 40.32)
        image.save(out, "JPEG", quality=90, exif=exif)
    elif fmt == "PNG":
        image.save(out, "PNG", compress_level=1)
    else:
        image.save(out, "WEBP", quality=85, method=0)
    return out.getvalue()


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    cases = [("12 MP JPEG", 4000, 3000, "JPEG", "image/jpeg"), ("12 MP PNG", 4000, 3000, "PNG", "image/png"),
             ("12 MP WebP", 4000, 3000, "WEBP", "image/webp"), ("40 MP PNG", 7300, 5470, "PNG", "image/png")]
    print(f"{'image':<12} {'file':>9} {'CPU ms':>7} {'wall ms':>8} {'max RSS MB':>11}")
    for label, width, height, fmt, mime in cases:
        data = encoded(photo(width, height), fmt)
        cpu, wall = [], []
        for _ in range(RUNS + 1):
            start, start_cpu = time.perf_counter(), time.process_time()
            derived = images.derive(io.BytesIO(data), mime, max_pixels=40_000_000)
            wall.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
            assert derived.thumbnail
        print(f"{label:<12} {len(data) / 1e6:>7.1f}MB {statistics.median(cpu[1:]) * 1000:>7.0f} "
              f"{statistics.median(wall[1:]) * 1000:>8.0f} {rss_mb():>11.0f}")


if __name__ == "__main__":
    main()
