"""The HTTP layer the template owns: request dependencies, error answers, health, OpenAPI.

The only place besides `main.py` and your routers that imports FastAPI. Template-owned.
"""
