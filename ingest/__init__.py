"""Session library ingestion: loaders, metadata, chunking and incremental, atomic index builds.

build_index(library, index_dir, embedder, *, full=False, progress=None) -> BuildSummary
"""

from ingest.pipeline import build_index
from ingest.results import BuildSummary, Progress

__all__ = ["BuildSummary", "Progress", "build_index"]
