"""Deep trade analyses: accepted over HTTP, run on the queue, stored with their progress.

`submit` makes one analysis per distinct request: an `Idempotency-Key` replays the analysis it
first created (and refuses another body), and identical requests in flight at once share one
analysis through the unique `inflight_hash`. The analysis row and its queue task are written in
one transaction. The worker writes progress as it goes; the result is recorded by the queue's
completion transaction, so it is written once even if a worker died mid-way and the task ran
again.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.engine import Database, session_scope
from app.db.repositories import teams as team_repo
from app.db.tables.trades import TradeAnalysis
from app.domain.needs_parser import parse_needs
from app.domain.proposals import ProposalSearch, search_proposals
from app.domain.valuation import PlayerValue
from app.errors import InvalidInput, NotFound
from app.monitoring.metrics import TRADE_ANALYSES, TRADE_ANALYSES_RUNNING
from app.services.ai_provider import AIProvider
from app.services.queue import TaskQueue, priority_for
from app.services.queue_store import ClaimedTask
from app.services.trade_data import League, LeagueCache
from app.settings import Settings

logger = logging.getLogger("app.analyses")

TASK_KIND = "trade.analysis"
ANALYSES_QUEUE = "analyses"


def request_hash(body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def _player(value: PlayerValue) -> dict[str, Any]:
    return {
        "player_id": value.player_id,
        "name": value.name,
        "team": value.team,
        "position": value.position,
        "age": value.age,
        "projected_war": value.war_this_season,
        "salary": value.salary_this_season,
        "surplus_value": value.surplus_value,
        "war_value": value.war_value,
        "years_of_control": len(value.years),
        "contract_kind": value.contract_kind,
        "contract": [
            {"season": y.season, "salary": y.salary, "basis": y.basis, "terms": y.terms}
            for y in value.years
        ],
        "risk": value.risk,
    }


def proposals_json(search: ProposalSearch) -> list[dict[str, Any]]:
    out = []
    for p in search.proposals:
        e = p.evaluation
        out.append(
            {
                "rank": p.rank,
                "partner": p.partner,
                "receive": [_player(v) for v in p.receive],
                "give": [_player(v) for v in p.give],
                "fairness": e.fairness,
                "winner": e.winner,
                "recommendation": e.recommendation,
                "grades": {e.team_a.team: e.team_a.grade, e.team_b.team: e.team_b.grade},
                "team_recommendations": {
                    e.team_a.team: e.team_a.recommendation,
                    e.team_b.team: e.team_b.recommendation,
                },
                "value_exchanged": e.value_exchanged,
                "net_value": {e.team_a.team: e.team_a.net_value, e.team_b.team: e.team_b.net_value},
                "payroll_change": e.team_a.payroll.change,
                "fit_score": p.fit_score,
                "risks": list(e.risks),
                "rationale": p.rationale,
            }
        )
    return out


class AnalysisService:
    """Creates analyses, runs them as queue tasks, and reads them back."""

    def __init__(
        self, *, db: Database, queue: TaskQueue, ai: AIProvider, settings: Settings
    ) -> None:
        self.db = db
        self.queue = queue
        self.ai = ai
        self.season = settings.DATA_SEASON
        self.leagues = LeagueCache(ttl=settings.CACHE_TTL)
        queue.register(
            TASK_KIND,
            self._run,
            queue=ANALYSES_QUEUE,
            on_complete=self._record_result,
            on_dead=self._record_failure,
        )

    # --- accepting ----------------------------------------------------------------------------
    async def submit(
        self, body: dict[str, Any], *, idempotency_key: str | None = None
    ) -> tuple[TradeAnalysis, bool]:
        """The analysis for `body` and whether it was already there (replayed or coalesced)."""
        digest = request_hash(body)
        for _ in range(3):  # a lost race on a unique key is resolved by reading the winner
            existing = await self._existing(digest, idempotency_key)
            if existing is not None:
                return existing, True
            try:
                return await self._create(body, digest, idempotency_key), False
            except IntegrityError:
                continue
        raise RuntimeError("could not create or find the analysis")  # pragma: no cover

    async def _existing(self, digest: str, key: str | None) -> TradeAnalysis | None:
        async with self.db.sessions() as session:
            if key is not None:
                keyed = await session.scalar(
                    select(TradeAnalysis).where(TradeAnalysis.idempotency_key == key)
                )
                if keyed is not None:
                    if keyed.request_hash != digest:
                        raise InvalidInput(
                            "This Idempotency-Key was used with a different request body.",
                            field="header.Idempotency-Key",
                        )
                    return keyed
            return await session.scalar(
                select(TradeAnalysis).where(TradeAnalysis.inflight_hash == digest)
            )

    async def _create(self, body: dict[str, Any], digest: str, key: str | None) -> TradeAnalysis:
        now = _now()
        analysis = TradeAnalysis(
            id=uuid.uuid4().hex,
            team=body["team"],
            request=body,
            request_hash=digest,
            inflight_hash=digest,
            idempotency_key=key,
            urgency=body["urgency"],
            status="queued",
            progress=0,
            stage="queued",
            completions=0,
            created_at=now,
            updated_at=now,
        )
        async with session_scope(self.db.sessions) as session:
            if await team_repo.get_team(session, season=self.season, team_key=body["team"]) is None:
                raise InvalidInput(f"Unknown team {body['team']!r}.", field="body.team")
            session.add(analysis)
            await session.flush()
            await self.queue.enqueue(
                TASK_KIND,
                {"analysis_id": analysis.id},
                queue=ANALYSES_QUEUE,
                priority=priority_for(body["urgency"]),
                dedupe_key=f"analysis:{analysis.id}",
                session=session,
            )
        TRADE_ANALYSES.labels("queued").inc()
        return analysis

    # --- reading ------------------------------------------------------------------------------
    async def get(self, analysis_id: str) -> TradeAnalysis:
        async with self.db.read_sessions() as session:
            analysis = await session.get(TradeAnalysis, analysis_id)
        if analysis is None:
            raise NotFound(f"no analysis {analysis_id!r}")
        return analysis

    async def league(self) -> League:
        """The served season's league as the valuation model reads it (cached, CACHE_TTL)."""
        return await self.leagues.get(self.db.read_sessions, self.season)

    async def recent(self, limit: int) -> tuple[Sequence[TradeAnalysis], int]:
        """The latest `limit` analyses, newest first, and how many there are in all."""
        async with self.db.read_sessions() as session:
            rows = await session.scalars(
                select(TradeAnalysis)
                .order_by(TradeAnalysis.created_at.desc(), TradeAnalysis.id)
                .limit(limit)
            )
            total = await session.scalar(select(func.count()).select_from(TradeAnalysis))
            return rows.all(), int(total or 0)

    # --- running (a queue task) ---------------------------------------------------------------
    async def _progress(self, analysis_id: str, progress: int, stage: str) -> None:
        async with session_scope(self.db.sessions) as session:
            await session.execute(
                update(TradeAnalysis)
                .where(TradeAnalysis.id == analysis_id, TradeAnalysis.status != "completed")
                .values(status="running", progress=progress, stage=stage, updated_at=_now())
            )

    async def _run(self, task: ClaimedTask) -> dict[str, Any]:
        analysis_id = task.payload["analysis_id"]
        TRADE_ANALYSES_RUNNING.inc()
        try:
            return await self._analyse(analysis_id, task.attempts)
        finally:
            TRADE_ANALYSES_RUNNING.dec()

    async def _analyse(self, analysis_id: str, attempt: int) -> dict[str, Any]:
        started = time.perf_counter_ns()
        analysis = await self.get(analysis_id)
        body = analysis.request
        await self._progress(analysis_id, 10, "parsing request")
        needs = parse_needs(body["request"], tuple(body.get("preferred_positions") or ()))
        budget = body.get("budget_limit") or needs.budget
        await self._progress(analysis_id, 30, "loading league")
        league = await self.league()
        team = league.teams[body["team"]]
        others = {
            key: (ctx, league.roster(key)) for key, ctx in league.teams.items() if key != team.key
        }
        await self._progress(analysis_id, 60, "searching proposals")
        search = await asyncio.to_thread(
            lambda: search_proposals(
                team=team,
                roster=league.roster(team.key),
                needs=needs,
                others=others,
                season=self.season,
                budget=budget,
                include_prospects=bool(body.get("include_prospects")),
                max_trade_partners=int(body.get("max_trade_partners") or 2),
            )
        )
        proposals = proposals_json(search)
        await self._progress(analysis_id, 85, "writing analysis")
        facts = {
            "team": team.key,
            "request": body["request"],
            "needs": asdict(needs),
            "proposals": proposals,
        }
        written = await self.ai.write(facts, _local_narrative(team.name, search, proposals))
        return {
            "team": team.key,
            "season": self.season,
            "needs": {
                "positions": list(needs.positions),
                "attributes": list(needs.attributes),
                "budget": budget,
                "matched": list(needs.matched),
                "team_needs": list(team.needs),
            },
            "proposals": proposals,
            "explanation": search.explanation,
            "narrative": written.narrative,
            "ai": written.as_dict(),
            "attempt": attempt,
            "compute_ms": round((time.perf_counter_ns() - started) / 1e6, 1),
        }

    async def _record_result(
        self, session: AsyncSession, task: ClaimedTask, result: dict[str, Any]
    ) -> None:
        now = _now()
        await session.execute(
            update(TradeAnalysis)
            .where(TradeAnalysis.id == task.payload["analysis_id"])
            .values(
                status="completed",
                progress=100,
                stage="completed",
                result=result,
                inflight_hash=None,
                completions=TradeAnalysis.completions + 1,
                updated_at=now,
                completed_at=now,
            )
        )
        TRADE_ANALYSES.labels("completed").inc()

    async def _record_failure(self, session: AsyncSession, task: ClaimedTask, error: str) -> None:
        await session.execute(
            update(TradeAnalysis)
            .where(TradeAnalysis.id == task.payload["analysis_id"])
            .values(
                status="failed", stage="failed", error=error, inflight_hash=None, updated_at=_now()
            )
        )
        TRADE_ANALYSES.labels("failed").inc()


def _local_narrative(
    team_name: str, search: ProposalSearch, proposals: list[dict[str, Any]]
) -> str:
    if not proposals:
        return f"No trade proposals for the {team_name}: {search.explanation}"
    best = proposals[0]
    lines = [
        f"{len(proposals)} proposal(s) for the {team_name}. The best: "
        + best["rationale"]
        + f" Recommendation: {best['recommendation']}."
    ]
    for p in proposals[1:]:
        lines.append(f"#{p['rank']} with {p['partner']}: {p['rationale']}")
    return " ".join(lines)
