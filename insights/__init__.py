"""What staff explore, for leaders, without exposing a teacher: topics, gaps, library use, funnel.

Depends on ``store`` (and, for topics, on any embedder through ``clusters.Embed``); no chat
or web code. Every figure goes through ``privacy`` before anyone sees it: cells with fewer
than the minimum group of distinct people are suppressed, and so is whatever would reveal
them by subtraction. Functions take the session first and never commit.
"""
