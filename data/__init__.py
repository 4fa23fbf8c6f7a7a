"""Records, taxonomies, store, import/export and sample data. Knows nothing of HTTP or embeddings."""
