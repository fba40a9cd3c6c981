"""A SIGKILLed job process cannot remove its scratch folder: the next worker to start does."""

import os

from generation.worker import sweep_scratch


def test_a_worker_sweeps_the_scratch_folders_of_dead_job_processes_only(tmp_path):
    dead = tmp_path / "reelgraph-job-4194999-k2j3h4"  # above the kernel's pid_max: never alive
    (dead / "veo-123.mp4").parent.mkdir()
    (dead / "veo-123.mp4").write_bytes(b"half a video")
    legacy = tmp_path / "reelgraph-job-x8f7d6s"  # named before folders carried their pid
    legacy.mkdir()
    live = tmp_path / f"reelgraph-job-{os.getpid()}-a1b2c3"
    live.mkdir()
    unrelated = tmp_path / "something-else"
    unrelated.mkdir()

    removed = sweep_scratch(tmp_path)

    assert sorted(removed) == sorted([dead, legacy])
    assert not dead.exists() and not legacy.exists()
    assert live.exists() and unrelated.exists()
