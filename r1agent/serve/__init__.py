"""Serving R1 on the user's own GPUs: model catalog, GPU discovery, launch planning, the vLLM
command line, the server's lifecycle, its metrics, and the setup doctor."""
