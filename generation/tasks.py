"""RQ entry points. Thin on purpose: the executor does the work."""


def run_job(job_id: str) -> None:
    from generation import executor

    executor.execute_job(job_id)
