"""A model server of known capacity for peakrps's accuracy tests under gunicorn's sync
workers: each worker serves one request at a time, holding it PEAKRPS_SERVICE_MS, so the
capacity is workers / service time. Sync workers close the connection after each answer."""

import os
import time

SERVICE = float(os.environ.get("PEAKRPS_SERVICE_MS", "25")) / 1000.0
BODY = b'{"predictions": [0]}'


def app(environ, start_response):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    environ["wsgi.input"].read(length)
    if environ.get("PATH_INFO") == "/invocations":
        time.sleep(SERVICE)
    start_response(
        "200 OK",
        [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))],
    )
    return [BODY]
