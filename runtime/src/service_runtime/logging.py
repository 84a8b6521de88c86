"""Structured JSON logs with the correlation id of the request or event being handled, and no
national register number in any of them."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from contextvars import ContextVar
from typing import Any

import structlog

from service_runtime import tracing
from service_runtime.clock import format_offset, process_clock_offset

correlation_id_var: ContextVar[str | None] = ContextVar("correlation_id", default=None)

# A national register number (or BIS number) is 11 digits, written plain or as
# YY.MM.DD-XXX.CC / YYMMDD-XXX-CC. The check digits are not verified here on purpose: a log line
# with a mistyped number is still personal data.
# Not inside a run of hex characters, so a UUID's last group (…-f69055713518) stays readable.
_NATIONAL_REGISTER_NUMBER = re.compile(r"(?<![0-9a-fA-F])(\d{2})[.\- ]?(\d{2})[.\- ]?(\d{2})[.\- ]?(\d{3})[.\- ]?(\d{2})(?![0-9a-fA-F])")
MASK = "***********"


def mask_national_register_numbers_in(value: Any) -> Any:
    if isinstance(value, str):
        return _NATIONAL_REGISTER_NUMBER.sub(MASK, value)
    if isinstance(value, int) and not isinstance(value, bool) and len(str(value)) in (10, 11):
        # A number typed as an int loses its leading zero (01010112345 arrives as 1010112345),
        # so 10 digits are masked too; an epoch timestamp masked by mistake is the cheaper error.
        return MASK
    if isinstance(value, dict):
        return {k: mask_national_register_numbers_in(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return type(value)(mask_national_register_numbers_in(v) for v in value)
    if isinstance(value, BaseException):
        return mask_national_register_numbers_in(str(value))
    return value


def mask_national_register_numbers(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: every field of the event, nested or not, key or value."""
    return {mask_national_register_numbers_in(k) if isinstance(k, str) else k: mask_national_register_numbers_in(v) for k, v in event_dict.items()}


def _add_correlation_id(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    correlation_id = correlation_id_var.get()
    if correlation_id and "correlation_id" not in event_dict:
        event_dict["correlation_id"] = correlation_id
    return event_dict


def _add_clock_offset(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    # Outside production the clock may have been moved: every line says by how much, so nobody
    # mistakes a log of "day 40" for today.
    offset = process_clock_offset()
    if offset is not None and "clock_offset" not in event_dict:
        event_dict["clock_offset"] = format_offset(offset)
    return event_dict


def _add_trace_ids(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    # Traced, a line names its trace and span, so an operator goes from a log line to its trace
    # and back. Off, one attribute read.
    if tracing.enabled and "trace_id" not in event_dict:
        ids = tracing.current_ids()
        if ids is not None:
            event_dict["trace_id"], event_dict["span_id"] = ids
    return event_dict


def configure_logging(*, service: str, level: str = "INFO", json: bool = True) -> None:
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        _add_correlation_id,
        _add_trace_ids,
        _add_clock_offset,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
    ]
    # Masking runs on the event's fields before rendering (numbers typed as ints) and on the
    # rendered line after it (whatever a repr() of a logged object or a traceback contains).
    inner: Any = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)

    def renderer(logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> str:
        return mask_national_register_numbers_in(inner(logger, method, event_dict))

    structlog.configure(
        processors=[*shared, mask_national_register_numbers, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stdout),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
    # Libraries (aiokafka, uvicorn, faststream) log through the standard library: route them
    # through the same processors so their lines are JSON and masked too.
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, mask_national_register_numbers, renderer],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiokafka", "kafka"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
