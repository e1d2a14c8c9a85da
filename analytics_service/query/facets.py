"""One ``$facet`` aggregation per source collection, shared by all cards that read it."""

from __future__ import annotations

import logging
from typing import Any

from bson import json_util

from analytics_service.query.context import RunContext

logger = logging.getLogger(__name__)


# A branch that returns one document when the collection has any: an empty collection
# means the platform stores no such data, which cards report instead of showing zeros.
PRESENCE_BRANCH = "present"


class FacetBatch:
    """Collects facet branches for one collection; identical branches are registered once."""

    def __init__(self, collection: str) -> None:
        self.collection = collection
        self._branches: dict[str, list[dict[str, Any]]] = {}
        self._names_by_pipeline: dict[str, str] = {}
        # Off when the rollup refresh already found whether the collection contains
        # documents. The pipeline can then start with a $match.
        self.needs_presence = True

    def add(self, pipeline: list[dict[str, Any]]) -> str:
        """Register a branch pipeline and return the name its result will have."""
        fingerprint = json_util.dumps(pipeline, sort_keys=True)
        name = self._names_by_pipeline.get(fingerprint)
        if name is None:
            name = f"b{len(self._names_by_pipeline)}"
            self._names_by_pipeline[fingerprint] = name
            self._branches[name] = pipeline
        return name

    @property
    def branch_count(self) -> int:
        return len(self._branches)

    def pipeline(self) -> list[dict[str, Any]]:
        """Return the batch's aggregation.

        ``$facet`` never uses an index. So when every branch starts with a ``$match``, the
        pipeline first selects the union of their filters, which a MongoDB server can read
        through the indexes, and each branch still applies its own filter.
        """
        branches = dict(self._branches)
        if self.needs_presence:
            return [{"$facet": {PRESENCE_BRANCH: [{"$limit": 1}, {"$project": {"_id": 1}}], **branches}}]
        filters = []
        for branch in branches.values():
            first = branch[0] if branch else {}
            if "$match" not in first or not first["$match"]:
                return [{"$facet": branches}]
            if first["$match"] not in filters:
                filters.append(first["$match"])
        leading = filters[0] if len(filters) == 1 else {"$or": filters}
        return [{"$match": leading}, {"$facet": branches}]

    async def run(self, context: RunContext) -> dict[str, list[dict[str, Any]]]:
        if not self._branches and not self.needs_presence:
            return {}
        documents = await context.aggregate(self.collection, self.pipeline())
        if len(documents) != 1:
            raise ValueError(f"$facet on {self.collection} returned {len(documents)} documents, expected 1")
        return documents[0]


class FacetResults:
    """Branch results of all collections of one run."""

    def __init__(self) -> None:
        self._results: dict[str, dict[str, list[dict[str, Any]]]] = {}
        self._errors: dict[str, Exception] = {}
        # Set by the run once its rollups are refreshed and summed.
        self.rollups: Any = None

    def store(self, collection: str, results: dict[str, list[dict[str, Any]]]) -> None:
        self._results[collection] = results

    def fail(self, collection: str, error: Exception) -> None:
        self._errors[collection] = error

    def is_empty(self, collection: str) -> bool:
        """Return whether the collection held no document when the run read it."""
        present = None if self.rollups is None else self.rollups.present.get(collection)
        if present is not None:
            return not present
        results = self._results.get(collection)
        return results is not None and PRESENCE_BRANCH in results and not results[PRESENCE_BRANCH]

    def branch(self, collection: str, name: str) -> list[dict[str, Any]]:
        """Return one branch's documents, re-raising the collection's query error if it failed."""
        if collection in self._errors:
            raise self._errors[collection]
        return self._results[collection][name]
