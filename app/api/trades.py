"""Trades: synchronous evaluation and queued deep analyses (202 + Location, idempotent)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response

from app.api.direct import DirectBodyRoute
from app.db.tables.trades import TradeAnalysis
from app.deps import Analyses, require_auth
from app.schemas.encoding import ModelEncoder
from app.schemas.trades import (
    AnalysisAccepted,
    AnalysisBatchAccepted,
    AnalysisOut,
    AnalysisStatus,
    AnalysisSummary,
    AnalyzeBatchRequest,
    AnalyzeRequest,
    PlayerValueOut,
    RecentAnalyses,
    TradeEvaluateRequest,
    TradeEvaluationOut,
)
from app.services import evaluations

# ENABLE_AUTH=true makes every trade route require a bearer token.
router = APIRouter(prefix="/trades", tags=["trades"], dependencies=[Depends(require_auth)])

# What `TradeEvaluationOut` reads from a `TradeEvaluation`, plus the two fields it adds. A
# player's valuation is memoised (`value_player`), so its JSON is written once, not per trade.
_EVALUATION_JSON = ModelEncoder(
    TradeEvaluationOut, given=("salaries_estimated", "context"), memo=(PlayerValueOut,)
)

AnalysisId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="An analysis id.")]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=100,
           description="Replays the analysis first created with this key."),
]  # fmt: skip


def _utc(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; every stored time is UTC.
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _accepted(request: Request, analysis: TradeAnalysis, existed: bool) -> AnalysisAccepted:
    result = request.url_for("get_analysis", analysis_id=analysis.id).path
    status = request.url_for("get_analysis_status", analysis_id=analysis.id).path
    return AnalysisAccepted(
        analysis_id=analysis.id,
        status=analysis.status,
        coalesced=existed,
        status_url=status,
        result_url=result,
    )


def _status_fields(a: TradeAnalysis) -> dict[str, object]:
    return {
        "analysis_id": a.id,
        "team": a.team,
        "status": a.status,
        "progress": a.progress,
        "stage": a.stage,
        "urgency": a.urgency,
        "created_at": _utc(a.created_at),
        "updated_at": _utc(a.updated_at),
        "completed_at": _utc(a.completed_at),
    }


async def evaluate_trade(body: TradeEvaluateRequest, analyses: Analyses) -> Response:
    """Grades A-F for both sides, fairness 0-100, the winner, risks and a recommendation."""
    league = await analyses.league()
    overrides = [
        evaluations.StatedTerms(
            player_id=o.player_id,
            years=o.years,
            salary=o.salary,
            salaries=tuple(o.salaries) if o.salaries is not None else None,
            club_options=tuple(o.club_options),
        )
        for o in body.contract_overrides
    ]
    evaluation = evaluations.evaluate(
        league,
        team_a=body.team_a,
        team_a_receives=body.team_a_receives,
        team_b=body.team_b,
        team_b_receives=body.team_b_receives,
        contract_overrides=overrides,
    )
    # The domain's objects are already typed and checked: encode them once, not validate first.
    body_json = _EVALUATION_JSON.to_json(
        evaluation, salaries_estimated=league.salaries_estimated, context=body.context
    )
    return Response(body_json, media_type="application/json")


# The busiest POST: a valid body is read, validated and answered without FastAPI's dependency
# solving (`app.api.direct`); every other request gets FastAPI's own handling and errors.
router.add_api_route(
    "/evaluate",
    evaluate_trade,
    methods=["POST"],
    response_model=TradeEvaluationOut,
    summary="Grade a trade now",
    route_class_override=DirectBodyRoute,
)


@router.post(
    "/analyze", status_code=202, response_model=AnalysisAccepted, summary="Queue an analysis"
)
async def analyze(
    body: AnalyzeRequest,
    request: Request,
    response: Response,
    analyses: Analyses,
    idempotency_key: IdempotencyKey = None,
) -> AnalysisAccepted:
    """Parses the request into needs and searches the league for 3-5 proposals, on the queue."""
    analysis, existed = await analyses.submit(
        body.model_dump(mode="json"), idempotency_key=idempotency_key
    )
    accepted = _accepted(request, analysis, existed)
    response.headers["Location"] = accepted.result_url
    return accepted


@router.post(
    "/analyze/batch",
    status_code=202,
    response_model=AnalysisBatchAccepted,
    summary="Queue 1 to 10 analyses",
)
async def analyze_batch(
    body: AnalyzeBatchRequest,
    request: Request,
    analyses: Analyses,
    idempotency_key: IdempotencyKey = None,
) -> AnalysisBatchAccepted:
    items = []
    for index, item in enumerate(body.requests):
        key = f"{idempotency_key}#{index}" if idempotency_key else None
        analysis, existed = await analyses.submit(item.model_dump(mode="json"), idempotency_key=key)
        items.append(_accepted(request, analysis, existed))
    return AnalysisBatchAccepted(items=items)


@router.get("/analyses/{analysis_id}", response_model=AnalysisOut, name="get_analysis")
async def get_analysis(analysis_id: AnalysisId, analyses: Analyses) -> AnalysisOut:
    a = await analyses.get(analysis_id)
    return AnalysisOut.model_validate(
        {**_status_fields(a), "request": a.request, "result": a.result, "error": a.error}
    )


@router.get(
    "/analyses/{analysis_id}/status", response_model=AnalysisStatus, name="get_analysis_status"
)
async def get_analysis_status(analysis_id: AnalysisId, analyses: Analyses) -> AnalysisStatus:
    return AnalysisStatus.model_validate(_status_fields(await analyses.get(analysis_id)))


@router.get("/recent", response_model=RecentAnalyses, summary="The latest analyses")
async def recent(
    analyses: Analyses, limit: Annotated[int, Query(ge=1, le=50)] = 20
) -> RecentAnalyses:
    latest, total = await analyses.recent(limit)
    items = [
        AnalysisSummary(
            analysis_id=a.id,
            team=a.team,
            status=a.status,
            urgency=a.urgency,
            request=str(a.request.get("request", ""))[:200],
            proposals=len(a.result.get("proposals", [])) if a.result else None,
            created_at=_utc(a.created_at),
            completed_at=_utc(a.completed_at),
        )
        for a in latest
    ]
    return RecentAnalyses(items=items, count=len(items), total=total)
