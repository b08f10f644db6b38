"""Searching the session library; a library with no Slack, Teams or database in it.

    embedder.py   Embedder protocol, SentenceTransformerEmbedder (bundled model), FakeEmbedder
    indexing.py   index_text(), check_model() (the model that built an index), plan_slots()
    vector.py     VectorIndex: faiss (exact or HNSW); the only module that imports faiss
    lexical.py    LexicalIndex: BM25 postings with stopwords and Snowball stemming, extendable
    snapshot.py   write_snapshot (full or extending the live version), Snapshot.load, IndexRoot
    ranking.py    RankConfig and the pure fusion / per-session maths
    snippets.py   snippet(): the excerpt shown for a moment
    search.py     Searcher: hybrid search over the live version, hot-swapped
    hints.py      grades/subjects named in a question: soft preferences, "(grades 6-12)" notes
    followup.py   follow-up turns without an LLM (merge, hints, "another one"); optional rewrite
    scope.py      ScopeClassifier: about teaching, or off-topic (HR, buildings, weather)?
    matching.py   MatchJudge: relative cut, calibrated good match, weak / gap / off-topic
    conversation.py  ConversationSearch: one turn = plan -> search -> verdict -> next context
    llm_rewrite.py   OpenAIQueryRewriter: the optional LLM rewrite of a follow-up

Nothing is imported here so that importing one module stays cheap (`staffroom --help`).
"""
