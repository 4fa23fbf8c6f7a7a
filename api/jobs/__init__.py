"""Background jobs of the service: long work (pairing runs, demand-map recompute, event
shortlists, index update, large imports) runs off the request thread.

* :mod:`api.jobs.runner` — the :class:`JobRunner` interface and the embedded
  :class:`ThreadJobRunner` (a thread pool in the service process; jobs persisted in the
  store).
* :mod:`api.jobs.tasks` — the task of each job kind: a function of a :class:`JobContext`
  and JSON parameters, returning a JSON result. A queue-backed runner (RQ, arq) can run the
  same functions by kind name in another process.
"""

from api.jobs.runner import JobContext, JobRunner, ThreadJobRunner
from api.jobs.tasks import KINDS, TASKS, Task

__all__ = ["KINDS", "TASKS", "JobContext", "JobRunner", "Task", "ThreadJobRunner"]
