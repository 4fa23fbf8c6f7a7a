"""The application layer: settings, the application object, the CLI and (later) the HTTP API."""
