"""The application layer: one module per use case, called by the routers
(:mod:`api.service.routers`), the web pages (:mod:`api.web`) and the CLI (``api/cli*.py``).

=================  ======================================================================
module             use case
=================  ======================================================================
``review``         the review queue, a suggestion's detail, decisions, the audit trail
``pairing``        pairing runs (资智结对): start (a job), run (CLI), show
``events``         matchmaking events: CRUD, the shortlist job, its exports
``demand_map``     the 高精尖缺 demand map: saved map or its job, pictures, recompute
``matching``       matches of a need or a talent, 揭榜挂帅 leads
``transfer``       import (inline or a job) and export of records, the index update job
``records``        CRUD and keyword search of talents, enterprises, needs, challenges, projects
``jobs``           background jobs: start, list, look at (what the caller may see)
``accounts``       the caller's account, login and logout, account administration (CLI)
``admin``          library administration of the CLI: init, sample, stats, index, ranker
``errors``         the one domain error family and its status / exit-code table
``types``          the JSON types and small value objects of the layer's signatures
=================  ======================================================================

Each function takes what it needs (the :class:`~api.service.state.ServiceState`, the
:class:`~api.application.Application` or the :class:`~api.workflows.Workflows`) and the
caller (a :class:`~data.store.users.User`) where rules depend on who asks; it returns
JSON-ready data or a typed value object, and raises :class:`api.services.errors.DomainError`
(or a domain error of the lower packages listed in :data:`api.services.errors.FOREIGN`).
Nothing here knows of HTTP requests, cookies or the terminal.
"""
