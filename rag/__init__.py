"""Retrieval-augmented chat over your own documents."""
