"""Session library ingestion: loaders, metadata, chunking and incremental, atomic index builds.

build_index(library, index_dir, embedder, *, full=False, progress=None, replace=False,
            keep_versions=5) -> BuildSummary
versions: the kept index versions (list, rollback) and the one-library-per-index check
"""

from ingest.pipeline import build_index
from ingest.results import BuildSummary, Progress

__all__ = ["BuildSummary", "Progress", "build_index"]
