"""What a run of embedding did, shared by the first model's embedding (indexer.semantic.EmbedReport) and the
second model's fill (indexer.second_vectors.FillReport), which import each other's modules only inside
functions."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class WorkReport:
    """Chunks embedded, time taken, and whether the run was stopped before the end."""

    chunks: int = 0
    seconds: float = 0.0
    interrupted: bool = False

    @property
    def chunks_per_second(self) -> float:
        return self.chunks / self.seconds if self.seconds > 0 else 0.0
