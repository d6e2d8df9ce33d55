"""What the publisher's batch format fixes, for the checks of the analysis and the ACK allowance of the panel."""

from __future__ import annotations

from typing import Any

from stallscope import schemas


def max_messages_per_batch(batch_bytes: int, message_size: int) -> int:
    """Messages that fit in one batch: floor(batch_bytes / align64(64 + message_size))."""
    padded = (64 + message_size + 63) // 64 * 64
    return batch_bytes // padded


def batch_bytes(params: dict[str, Any]) -> int:
    """The run's batch size, or the config's default one when the run does not say (logs made elsewhere)."""
    value = params.get("batch_bytes")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return int(value)
    return int(schemas.config_defaults("defaults")["batch_bytes"])
