import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# Load the URL conf now (and with it every view, serializer and form), not
# at the first request: a broken import then stops the worker at start.
get_resolver().url_patterns  # noqa: B018 (the access is what imports the URL conf)

# Then leave what is loaded for the process's life out of the cyclic
# garbage collector's walks (gc.freeze). About 120,000 objects are the
# app's modules, classes and URL patterns, never freed; every full
# collection walked them all, and one came every 30 requests or so, inside
# whichever request crossed the threshold: up to 85 ms of pause at the
# mission's size, a page's p99 twice its p50 under load (BENCHMARKS.md,
# "Pauses"). Collections still run, over what requests allocate.
gc.freeze()
