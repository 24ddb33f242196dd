"""The jobs users run: fix a file, document code, write tests; each a prompt plus a check of the result."""

from .session import JobResult, JobSpec, run_job

__all__ = ["JobResult", "JobSpec", "run_job"]
