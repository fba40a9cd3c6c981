"""RQ entry points. Thin on purpose: generation.running does the work."""


def run_job(job_id: str) -> None:
    from generation import running

    running.run_job(job_id)


def poll_job(job_id: str) -> None:
    from generation import running

    running.poll_job(job_id)
