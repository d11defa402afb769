"""A model server of known capacity for peakrps's accuracy tests under gunicorn's sync
workers: each worker serves one request at a time, holding it PEAKRPS_SERVICE_MS, so the
capacity is workers / service time. Sync workers close the connection after each answer.
With PEAKRPS_LEDGER set, each worker writes down how long every request really held it (a
busy machine stretches a sleep), so the tests judge a peak against the capacity it had."""

import os
import time

from ledger import write_down

SERVICE = float(os.environ.get("PEAKRPS_SERVICE_MS", "25")) / 1000.0
BODY = b'{"predictions": [0]}'


def app(environ, start_response):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    environ["wsgi.input"].read(length)
    if environ.get("PATH_INFO") == "/invocations":
        started = time.monotonic()
        time.sleep(SERVICE)
        write_down(time.monotonic() - started)
    start_response(
        "200 OK",
        [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))],
    )
    return [BODY]
