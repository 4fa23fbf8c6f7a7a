"""The API routers (``/api/v1``): thin layers over the service layer (:mod:`api.services`)."""
