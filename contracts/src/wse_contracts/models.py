from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator


def _no_nul(value: Any) -> Any:
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("must not contain a NUL character")
    if isinstance(value, (list, tuple)):
        for item in value:
            _no_nul(item)
    return value


class StrictModel(BaseModel):
    """Base of every model at an edge: unknown fields are an error, not silently dropped.

    A portal that sends `valid_untill` must hear about it instead of getting a right that never
    ends. Text with a NUL character is refused here too: PostgreSQL cannot store it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _refuse_nul(cls, value: Any) -> Any:
        return _no_nul(value)
