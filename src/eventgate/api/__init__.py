"""The HTTP API (FastAPI, ``/api/v1``) and the operator console, in their own process."""
