"""How long each request really held a worker or a slot, written down by the test apps
(fastapi_app.py, wsgi_app.py) when PEAKRPS_LEDGER names a directory: a file per worker
process, a line per request, in seconds. A busy machine stretches a sleep, so the tests
judge a peak against the capacity the server had, not the one its settings promise."""

import os

_file = None


def write_down(held):
    """Appends one request's holding time (seconds) to this process's ledger file."""
    global _file
    directory = os.environ.get("PEAKRPS_LEDGER")
    if directory is None:
        return
    if _file is None:
        _file = open(os.path.join(directory, f"{os.getpid()}.held"), "a", buffering=1)
    _file.write(f"{held:.6f}\n")
