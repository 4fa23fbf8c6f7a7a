"""The HTTP service (FastAPI): thin routers over the service layer (:mod:`api.services`).

``create_app(settings)`` in :mod:`api.service.app` builds it; the authorisation table is in
:mod:`api.service.authz`, the domain-error → HTTP answers in :mod:`api.service.errors` (the
statuses come from :mod:`api.services.errors`).
"""
