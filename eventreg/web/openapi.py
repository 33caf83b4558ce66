"""The OpenAPI 3 document of /api/v1 (served at /api/v1/openapi.json)."""


def spec(base_url: str) -> dict:
    return {"openapi": "3.0.3", "info": {"title": "eventreg scanner API", "version": "1"},
            "servers": [{"url": base_url.rstrip("/") + "/api/v1"}], "paths": {}}
