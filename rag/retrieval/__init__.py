"""From a question to the passages an answer reads: hybrid ranking (dense and BM25), hits
widened into passages, one per document, and the query of a follow-up question."""

from rag.retrieval.follow_up import conversation_query, rewrite_question
from rag.retrieval.hybrid import HybridRetriever

__all__ = ["HybridRetriever", "conversation_query", "rewrite_question"]
