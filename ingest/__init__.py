"""Ingestion: load documents, chunk them, embed them, keep the store in line with the files."""
