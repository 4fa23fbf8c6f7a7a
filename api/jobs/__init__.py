"""Background jobs of the service: long work (pairing runs, demand-map recompute, event
shortlists, index update, large imports) runs off the request thread.

* :mod:`api.jobs.runner` — the :class:`JobRunner` interface and the embedded
  :class:`ThreadJobRunner` (a thread pool in the service process; jobs persisted in the
  store).
* :mod:`api.jobs.tasks` — the task of each job kind: a function of a :class:`JobContext`
  and JSON parameters, returning a JSON result.
* :mod:`api.jobs.queue` — with Redis (``TALENTMATCH_REDIS_URL``): the same tasks on an RQ
  queue, run by ``talentmatch worker`` processes (imported on demand: it needs ``rq``).
"""

from api.jobs.runner import JobContext, JobRunner, ThreadJobRunner
from api.jobs.tasks import KINDS, TASKS, Task

__all__ = ["KINDS", "TASKS", "JobContext", "JobRunner", "Task", "ThreadJobRunner"]
