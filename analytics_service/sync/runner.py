"""One sync run: extract from the source collections, build every card, load the results.

A run never stops at the first error. A collection whose aggregation fails fails only
the cards that read it, a card whose reader raises fails alone, and a failed card is not
written, so its last good document stays in place. The run record in
``analytics_sync_runs`` lists the outcome of every card.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Any

from pymongo.errors import PyMongoError

# Importing the handlers registers their planners.
import analytics_service.query.handlers  # noqa: F401
from analytics_service.catalogue import ALL_CARDS, Card, CardKind
from analytics_service.query.context import RunContext
from analytics_service.query.facets import FacetResults
from analytics_service.query.plan import Batches, Reader, plan_card
from analytics_service.query.provider_access import ProviderAccess, ProviderSelection
from analytics_service.rollups.plan import RollupPlan
from analytics_service.rollups.specs import spec_for
from analytics_service.storage import runs
from analytics_service.storage.cards import write_cards
from analytics_service.sync.data import CardData, FrameUnavailable
from analytics_service.sync.documents import card_document
from analytics_service.timeframes import format_timestamp

logger = logging.getLogger(__name__)

CANCEL_RECORD_TIMEOUT_S = 2.0

# Rollup pieces younger than this are recounted on every run, so late inserts, updates
# and deletes show up. Older changes wait for the next full rebuild.
DEFAULT_UPDATE_WINDOW = timedelta(days=3)


class Trigger(StrEnum):
    SCHEDULE = "schedule"
    STARTUP = "startup"
    CLI = "cli"
    MANUAL = "manual"


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass
class CardOutcome:
    card_id: str
    status: str  # "refreshed" or "failed"
    card_status: str | None = None  # ok, partial or unavailable, for refreshed cards
    error: str | None = None
    skipped_documents: int = 0
    skipped_ids: list[str] = field(default_factory=list)
    duration_ms: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "cardId": self.card_id,
            "status": self.status,
            "cardStatus": self.card_status,
            "error": self.error,
            "skippedDocuments": self.skipped_documents,
            "skippedSampleIds": self.skipped_ids,
            "durationMs": round(self.duration_ms, 1),
        }


@dataclass
class SyncResult:
    run_id: str
    status: RunStatus
    outcomes: list[CardOutcome] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)
    provider: dict[str, Any] = field(default_factory=dict)
    # The first error of each source that failed in this run ("database" or a provider name).
    source_failures: dict[str, str] = field(default_factory=dict)
    # How each source group's rollups were refreshed: mode, first piece, pieces, error.
    rollups: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def failed_cards(self) -> list[CardOutcome]:
        return [outcome for outcome in self.outcomes if outcome.status == "failed"]


def _describe(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return f"{type(error).__name__}: {text}"


def _run_status(outcomes: list[CardOutcome]) -> RunStatus:
    failed = sum(outcome.status == "failed" for outcome in outcomes)
    if failed == 0:
        return RunStatus.SUCCEEDED
    if failed == len(outcomes):
        return RunStatus.FAILED
    return RunStatus.PARTIAL


async def run_sync(
    database: Any,
    *,
    now: datetime,
    tz: tzinfo,
    trigger: Trigger,
    clock: Callable[[], datetime],
    cards: Iterable[Card] = ALL_CARDS,
    provider: ProviderSelection | None = None,
    run_id: str | None = None,
    fencing_token: int | None = None,
    rebuild: bool = False,
    update_window: timedelta = DEFAULT_UPDATE_WINDOW,
) -> SyncResult:
    """Refresh ``cards`` as of ``now``; ``clock`` only timestamps the run record.

    Sums over time come from rollups: ``rebuild`` recounts them from the whole source
    collections, otherwise only the pieces of the last ``update_window`` are recounted.

    Without a ``provider`` selection, provider-backed cards are stored as unavailable.
    With a ``fencing_token`` (from the sync lease), a card already written by a run with
    a larger token is left alone and reported as failed.
    """
    run_id = run_id or new_run_id()
    selected = list(cards)
    started_at = clock()
    await runs.insert_run(database, {
        "runId": run_id,
        "trigger": str(trigger),
        "rebuild": rebuild,
        "startedAt": format_timestamp(started_at),
        "finishedAt": None,
        "status": str(RunStatus.RUNNING),
        "fencingToken": fencing_token,
        "progress": {"phase": "extracting", "cardsTotal": len(selected), "cardsDone": 0},
        "cards": [],
    })
    logger.info("run %s started: trigger=%s cards=%d rebuild=%s", run_id, trigger, len(selected), rebuild)

    context = RunContext(now=now, tz=tz, database=database)
    if provider is not None:
        context.provider = ProviderAccess.for_run(provider, context.now, tz)
    outcomes: dict[str, CardOutcome] = {}
    try:
        windows = [window for frame in context.windows.values() for window in (frame.current, frame.previous)]
        batches = Batches(RollupPlan(context.now, tz, context.days, context.day_edges, windows, update_window,
                                      rebuild))
        readers = _plan(selected, context, batches, run_id, outcomes)
        results = await _extract(context, batches, run_id)
        await runs.update_run(database, run_id, {"progress.phase": "transforming"})
        documents = await _transform(selected, context, readers, results, run_id, now, outcomes)
        await runs.update_run(database, run_id, {"progress.phase": "loading"})
        await _load(database, documents, run_id, outcomes, fencing_token)
    except asyncio.CancelledError:
        # Record the cancellation even while being cancelled, then let it propagate. The
        # wait is bounded so a database that is slow to respond cannot hold up a shutdown.
        logger.warning("run %s cancelled", run_id)
        record = runs.update_run(database, run_id, {
            "finishedAt": format_timestamp(clock()), "status": str(RunStatus.CANCELLED),
        })
        try:
            await asyncio.wait_for(asyncio.shield(record), CANCEL_RECORD_TIMEOUT_S)
        except (TimeoutError, PyMongoError) as error:
            logger.warning("run %s: recording the cancellation failed: %s", run_id, str(error) or "timed out")
        raise

    ordered = [outcomes[card.id] for card in selected]
    rollup_report = {} if results.rollups is None else {
        name: outcome.as_dict() for name, outcome in results.rollups.outcomes.items()
    }
    status = _run_status(ordered)
    stats = context.stats.as_dict()
    provider_report = context.provider.report() if context.provider is not None else {"selected": None}
    for failure in provider_report.get("failures", []):
        # Logged at warning level here; SourceHealth logs the change of state at error level once.
        logger.warning("run %s: provider %s failed on %s: %s",
                       run_id, provider_report["selected"], failure["question"], failure["error"])
    await runs.update_run(database, run_id, {
        "finishedAt": format_timestamp(clock()),
        "status": str(status),
        "cards": [outcome.as_dict() for outcome in ordered],
        "progress": {"phase": "finished", "cardsTotal": len(ordered), "cardsDone": len(ordered)},
        "queries": stats,
        "rollups": rollup_report,
        "provider": provider_report,
    })
    failed = [outcome.card_id for outcome in ordered if outcome.status == "failed"]
    modes = ",".join(sorted({group.get("mode", "?") for group in rollup_report.values()})) or "none"
    logger.info("run %s finished: status=%s refreshed=%d failed=%d round_trips=%d rollups=%s",
                run_id, status, len(ordered) - len(failed), len(failed), stats["roundTrips"], modes)
    source_failures = dict(context.source_failures)
    if provider_report.get("failures"):
        source_failures[provider_report["selected"]] = provider_report["failures"][0]["error"]
    return SyncResult(run_id, status, ordered, stats, provider_report, source_failures, rollup_report)


def _plan(
    cards: list[Card], context: RunContext, batches: Batches, run_id: str, outcomes: dict[str, CardOutcome]
) -> dict[str, Reader]:
    readers = {}
    for card in cards:
        collection = getattr(card.source, "collection", None)
        if collection is not None and not card.needs_provider and spec_for(card.source) is None:
            # Registers the collection's presence check even for cards that query it
            # outside the facet batch (joins, durations).
            batches.for_collection(collection)
        try:
            readers[card.id] = plan_card(card, context, batches)
        except Exception as error:  # one bad record must not stop the other cards
            logger.exception("run %s card %s: planning failed", run_id, card.id)
            outcomes[card.id] = CardOutcome(card.id, "failed", error=_describe(error))
    return readers


async def _extract(context: RunContext, batches: Batches, run_id: str) -> FacetResults:
    results = FacetResults()
    rolled_up: set[str] = set()
    if batches.rollups is not None:
        results.rollups = await batches.rollups.run(context, run_id)
        rolled_up = {group.collection for group in batches.rollups.groups.values()}
    for batch in batches:
        if batch.collection in rolled_up:
            # The rollup refresh already found whether the collection contains documents.
            batch.needs_presence = False
            if not batch.branch_count:
                continue
        try:
            results.store(batch.collection, await batch.run(context))
        except Exception as error:  # the cards of this collection fail; the others go on
            logger.warning("run %s: aggregation on %s failed: %s", run_id, batch.collection, _describe(error))
            context.source_failures.setdefault("database", f"aggregation on {batch.collection}: {_describe(error)}")
            results.fail(batch.collection, error)
    return results


async def _missing_data_reason(card: Card, results: FacetResults, context: RunContext) -> str | None:
    """Return why a card's data does not exist at all (an empty source), or None."""
    if card.needs_provider:
        if context.provider is None or context.provider.client is None:
            return None
        return await context.provider.missing_data_reason()
    collection = getattr(card.source, "collection", None)
    if collection is not None and results.is_empty(collection):
        return f"the {collection} collection has no documents, so this data does not exist here"
    return None


async def _transform(
    cards: list[Card],
    context: RunContext,
    readers: dict[str, Reader],
    results: FacetResults,
    run_id: str,
    now: datetime,
    outcomes: dict[str, CardOutcome],
) -> dict[CardKind, list[dict[str, Any]]]:
    documents: dict[CardKind, list[dict[str, Any]]] = {kind: [] for kind in CardKind}
    for card in cards:
        reader = readers.get(card.id)
        if reader is None:
            continue
        started = time.perf_counter()
        try:
            reason = await _missing_data_reason(card, results, context)
            if reason is not None:
                data = CardData({frame: FrameUnavailable(reason) for frame in card.frames})
            else:
                data = await reader(results)
            document = card_document(card, data, run_id, now)
        except Exception as error:  # keep the card's last good document
            logger.error("run %s card %s: failed: %s", run_id, card.id, _describe(error))
            outcomes[card.id] = CardOutcome(card.id, "failed", error=_describe(error),
                                            duration_ms=(time.perf_counter() - started) * 1000)
            continue
        if data.skipped_documents:
            logger.warning("run %s card %s: skipped %d documents (%s), for example %s",
                           run_id, card.id, data.skipped_documents, data.skipped_reason, data.skipped_ids)
        documents[card.kind].append(document)
        outcomes[card.id] = CardOutcome(card.id, "refreshed", card_status=document["status"],
                                        skipped_documents=data.skipped_documents,
                                        skipped_ids=list(data.skipped_ids),
                                        duration_ms=(time.perf_counter() - started) * 1000)
    return documents


async def _load(
    database: Any,
    documents: dict[CardKind, list[dict[str, Any]]],
    run_id: str,
    outcomes: dict[str, CardOutcome],
    fencing_token: int | None,
) -> None:
    for kind, batch in documents.items():
        try:
            rejected = await write_cards(database, kind, batch, fencing_token)
        except Exception as error:  # the cards of this kind keep their previous documents
            logger.error("run %s: writing %s failed: %s", run_id, kind.collection, _describe(error))
            for document in batch:
                outcomes[document["cardId"]] = CardOutcome(document["cardId"], "failed", error=_describe(error))
            continue
        for card_id in rejected:
            message = f"not written: a newer run (fencing token above {fencing_token}) already wrote this card"
            logger.warning("run %s card %s: %s", run_id, card_id, message)
            outcomes[card_id] = CardOutcome(card_id, "failed", error=message)


def new_run_id() -> str:
    return uuid.uuid4().hex
