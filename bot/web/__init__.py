"""The project's web server pieces (Starlette on uvicorn)."""
