"""Helpers shared by several test modules: the notes they write, the checks they make
of a store, the ingest command line they run."""
