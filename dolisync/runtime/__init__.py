"""The continuous sync service's runtime: jobs, the executor port and its two executors.

* :mod:`dolisync.runtime.jobs` — :class:`~dolisync.runtime.jobs.Job` (poll / inbox / retry) and its keys.
* :mod:`dolisync.runtime.port` — the executor port (submit, schedule, run).
* :mod:`dolisync.runtime.work` — :class:`~dolisync.runtime.work.JobRunner` (shared bookkeeping) and the
  pluggable :class:`~dolisync.runtime.work.HandlerTable`.
* :mod:`dolisync.runtime.asyncio_executor` — in-process executor (default).
* :mod:`dolisync.runtime.procrastinate_executor` — scale-out executor on PostgreSQL.
* :mod:`dolisync.runtime.flow_handlers` — handlers over the sync flows.
* :mod:`dolisync.runtime.service` — wiring for ``dolisync run`` / ``dolisync worker``.

Modules are imported on demand (procrastinate is only loaded by the scale-out executor).
"""
