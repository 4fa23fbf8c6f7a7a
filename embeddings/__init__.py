"""Text rendering, encoders, embedding cache, lexical and dense indexes, hybrid retrieval. No HTTP, no SQL."""
