"""Who is executing a job's step right now, known at once when that process dies.

The process running a step holds a PostgreSQL session advisory lock on the job, on a connection of
its own, for the whole step. PostgreSQL drops the lock the moment that connection ends, which a
SIGKILL, an OOM kill or a lost machine all do. So the reconciler, in any worker, knows that a job's
worker died by taking the lock (`holder_gone`) instead of waiting for the job's lease to expire
(the job timeout plus a minute). Exclusivity holds both ways: a step starts only under the lock,
and a step whose lock connection breaks stops at once, since another worker may now take the job.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading

from django.db import DatabaseError, connection, connections

logger = logging.getLogger(__name__)

# How long a step waits for a lock held for a moment by a reconciler (longer: another step has it).
WAIT_SECONDS = 5
# How often the holder checks that its lock connection still stands.
CHECK_SECONDS = 2.0

LOCK = "SELECT pg_advisory_lock(hashtextextended(%s, 0))"
TRY_LOCK = "SELECT pg_try_advisory_lock(hashtextextended(%s, 0))"
UNLOCK = "SELECT pg_advisory_unlock(hashtextextended(%s, 0))"


class Busy(Exception):
    """Another process holds this job's step."""


@contextlib.contextmanager
def held(job_id: str, *, exit_if_lost: bool):
    """Hold the lock on `job_id` while the block runs; raises Busy if another process has it.
    `exit_if_lost`: end this process if the lock connection breaks (in a work horse, never in a test)."""
    lock_connection = connections.create_connection("default")
    lock_connection.inc_thread_sharing()  # the watchdog thread checks it
    try:
        with lock_connection.cursor() as cursor:
            cursor.execute(f"SET lock_timeout = '{WAIT_SECONDS}s'")
            try:
                cursor.execute(LOCK, [job_id])
            except DatabaseError as error:
                raise Busy(job_id) from error
        stop = threading.Event()
        watchdog = threading.Thread(target=_watch, args=(lock_connection, stop, exit_if_lost, job_id), daemon=True)
        watchdog.start()
        try:
            yield
        finally:
            stop.set()
            watchdog.join()
    finally:
        with contextlib.suppress(DatabaseError):
            lock_connection.close()  # ends the session, and with it the lock


def _watch(lock_connection, stop: threading.Event, exit_if_lost: bool, job_id: str) -> None:
    while not stop.wait(CHECK_SECONDS):
        try:
            with lock_connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except DatabaseError:
            if stop.is_set():
                return
            logger.error("job %s: the connection holding its step lock broke; stopping this step", job_id)
            if exit_if_lost:
                os._exit(70)  # another worker may take the job now: this process must not go on with it
            return


@contextlib.contextmanager
def holder_gone(job_id: str):
    """Yields True, holding the lock, when no process holds `job_id`'s step (its holder died);
    False when one does. Held only for the block: do the takeover inside it."""
    with connection.cursor() as cursor:
        cursor.execute(TRY_LOCK, [job_id])
        taken = cursor.fetchone()[0]
    try:
        yield taken
    finally:
        if taken:
            with connection.cursor() as cursor:
                cursor.execute(UNLOCK, [job_id])
