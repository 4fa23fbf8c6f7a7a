"""Server-rendered pages (Jinja2, Chinese UI, no JavaScript build step)."""
