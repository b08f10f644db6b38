"""Searching the session library; a library with no Slack, Teams or database in it.

    embedder.py   Embedder protocol, SentenceTransformerEmbedder (bundled model), FakeEmbedder
    indexing.py   index_text(): what is embedded and keyword-indexed for a chunk
    vector.py     VectorIndex: faiss (exact or HNSW); the only module that imports faiss
    lexical.py    LexicalIndex: bm25s with stopwords and Snowball stemming
    snapshot.py   write_snapshot, Snapshot.load, IndexRoot (atomic publish, prune)
    ranking.py    RankConfig and the pure fusion / per-session maths
    snippets.py   snippet(): the excerpt shown for a moment
    search.py     Searcher: hybrid search over the live version, hot-swapped

Nothing is imported here so that importing one module stays cheap (`staffroom --help`).
"""
