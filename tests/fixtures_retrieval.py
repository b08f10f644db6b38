"""Retrieval fixtures (filled in by the retrieval work)."""
