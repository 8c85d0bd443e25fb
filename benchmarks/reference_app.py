"""The bare reference: FastAPI with one trivial endpoint and nothing else.

Overhead ratios put the real service beside this app under the same server settings:
`uvicorn benchmarks.reference_app:app --port 8001`.
"""

from fastapi import FastAPI

app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)


@app.get("/api/v1/health/liveness")
async def liveness() -> dict[str, str]:
    return {"status": "pass"}


@app.get("/api/v1/teams/{team_key}")
async def team(team_key: str) -> dict[str, str]:
    return {"team_key": team_key}


@app.get("/api/v1/players")
async def players() -> dict[str, list[str]]:
    return {"items": []}


@app.post("/api/v1/trades/evaluate")
async def evaluate() -> dict[str, str]:
    return {"winner": "even"}
