"""The HTTP service (FastAPI): thin routers over :class:`api.application.Application`.

``create_app(settings)`` in :mod:`api.service.app` builds it; the authorisation table is in
:mod:`api.service.authz`, the domain-error → HTTP mapping in :mod:`api.service.errors`.
"""
