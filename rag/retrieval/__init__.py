"""From a question to the passages an answer reads: hybrid ranking (dense and BM25), hits
widened into passages, one per document, the query of a follow-up question, and the plan of a
question that spans documents."""

from rag.retrieval.follow_up import conversation_query, rewrite_question
from rag.retrieval.hybrid import HybridRetriever
from rag.retrieval.question import QuestionPlan, plan_question

__all__ = [
    "HybridRetriever",
    "QuestionPlan",
    "conversation_query",
    "plan_question",
    "rewrite_question",
]
