"""The RQ worker class Reelgraph runs: RQ's own, plus the reconciler in its maintenance loop."""

import logging
import os
import shutil
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import connections
from redis.exceptions import ConnectionError as RedisConnectionError
from rq import Worker as RQWorker

logger = logging.getLogger(__name__)


class Worker(RQWorker):
    def __init__(self, *args, **kwargs) -> None:
        # Maintenance (the reconciler, and taking over the scheduler of a dead worker) runs this often.
        # An idle worker blocks on its queues for worker_ttl - 15 seconds at a time, so the TTL is
        # capped to wake it up for maintenance (`rqworker` passes its own default of 420).
        interval = settings.RQ_MAINTENANCE_SECONDS
        kwargs["maintenance_interval"] = interval
        kwargs["worker_ttl"] = min(kwargs.get("worker_ttl") or 420, interval + 15)
        super().__init__(*args, **kwargs)

    def work(self, *args, **kwargs) -> bool:
        sweep_scratch()
        preload()
        return super().work(*args, **kwargs)

    # RQ waits out a Redis outage while it dequeues, but not in the steps after a job (marking itself
    # idle, its heartbeat): there a refused connection made the worker quit, and with it every job it
    # would have run. These steps now wait for Redis to come back, as the dequeue does.
    def set_state(self, state, pipeline=None):
        if pipeline is not None:  # only queued into the pipeline: it reaches Redis when that executes
            return super().set_state(state, pipeline)
        return through_redis_outage(lambda: super(Worker, self).set_state(state), "marking the worker idle")

    def heartbeat(self, timeout=None, pipeline=None):
        if pipeline is not None:
            return super().heartbeat(timeout, pipeline)
        return through_redis_outage(lambda: super(Worker, self).heartbeat(timeout), "the heartbeat")

    def run_maintenance_tasks(self) -> None:
        first = self.last_cleaned_at is None
        super().run_maintenance_tasks()
        from generation.reconcile import OVERDUE, reconcile

        try:
            # A worker that starts may be replacing one that died: poll every waiting operation now.
            reconcile(overdue=timedelta(0) if first else OVERDUE)
        except Exception:
            logger.exception("the reconciler failed; it runs again at the next maintenance")
        finally:
            # Jobs run in forked children, which must not inherit this process's database connection.
            connections.close_all()


def through_redis_outage(action, what: str):
    """`action()`, tried again while Redis refuses connections, for up to REELGRAPH_REDIS_OUTAGE_SECONDS."""
    deadline = time.monotonic() + settings.REDIS_OUTAGE_SECONDS
    delay = 0.5
    while True:
        try:
            return action()
        except RedisConnectionError:
            if time.monotonic() + delay > deadline:
                raise
            logger.warning("Redis is unavailable (%s): trying again in %.1f s", what, delay)
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


def sweep_scratch(directory: Path | None = None) -> list[Path]:
    """Remove the scratch folders of job processes that died without cleaning up (a SIGKILL leaves
    them); a live process's folder is left alone. Returns what was removed."""
    from generation.running import SCRATCH_PREFIX

    removed = []
    for folder in Path(directory or tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*"):
        pid = folder.name.removeprefix(SCRATCH_PREFIX).split("-", 1)[0]
        if pid.isdigit() and _alive(int(pid)):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    if removed:
        logger.info("removed %d scratch folder(s) of dead job processes", len(removed))
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's live process
    return True


def preload() -> None:
    """Load, once in the worker, what its jobs use. Each job runs in a fork of the worker and inherits
    it; otherwise a job loads it again. Profiled in job processes here (see docs/BENCHMARKS.md): the
    channel layer's backend for the events a job sends (35 ms), the URL map that signed media URLs are
    reversed from (190 ms), where ffmpeg is (70 ms). Also the engine with its node types, and the
    configured providers, whose SDKs take long to import (google-genai 0.9 s, openai 0.7 s, in a fresh
    process)."""
    import imageio_ffmpeg
    from django.urls import get_resolver
    from django.utils.module_loading import import_string

    from generation import running  # noqa: F401
    from providers import IMPLEMENTATIONS, provider_name

    import_string(settings.CHANNEL_LAYERS["default"]["BACKEND"])
    for capability, implementations in IMPLEMENTATIONS.items():
        import_string(implementations[provider_name(capability)])
    get_resolver().reverse_dict  # noqa: B018 (reading it builds the map)
    imageio_ffmpeg.get_ffmpeg_exe()  # cached after the first call
    if provider_name("faces") == "local":
        from providers import sface_faces

        sface_faces.preload()  # checking and preparing the two ONNX files took 2 s of every image job
