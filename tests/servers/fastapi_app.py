"""A model server of known capacity for peakrps's accuracy tests, on a stack nobody here
wrote: FastAPI under uvicorn. Each worker serves at most PEAKRPS_SLOTS requests at once,
each for PEAKRPS_SERVICE_MS, so its capacity is workers x slots / service time; more
requests queue (uvicorn has no limit of its own). With PEAKRPS_LEDGER set, each worker writes
down how long every request really held its slot (a busy machine stretches a sleep), so the
tests judge a peak against the capacity the server had."""

import asyncio
import os
import time

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from ledger import write_down

SLOTS = int(os.environ.get("PEAKRPS_SLOTS", "2"))
SERVICE = float(os.environ.get("PEAKRPS_SERVICE_MS", "25")) / 1000.0

app = FastAPI()
_slots = None


def slots():
    # Created inside the worker's event loop.
    global _slots
    if _slots is None:
        _slots = asyncio.Semaphore(SLOTS)
    return _slots


@app.get("/ping")
async def ping():
    return Response(status_code=200)


@app.post("/invocations")
async def invocations(request: Request):
    await request.body()
    async with slots():
        started = time.monotonic()
        await asyncio.sleep(SERVICE)
        held = time.monotonic() - started
    write_down(held)
    return JSONResponse({"predictions": [0]})
