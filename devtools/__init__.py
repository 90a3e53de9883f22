"""Development tools shared by the tests and the benchmarks (not part of the app, never
installed): stand-in servers that speak the real protocols on loopback (the Hugging Face Hub,
Ollama), the real llama.cpp server started for a run, sample documents, the Space's build."""
