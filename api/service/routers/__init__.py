"""The API routers (``/api/v1``): thin layers over the application and its workflows."""
