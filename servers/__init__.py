"""The specimens: small FastAPI apps that learners read, one idea per file.

Each runs on its own from the repository root, e.g. ``uvicorn servers.ticker:app``.
The notebooks start them in background threads with ``sselab.serve``.
"""
