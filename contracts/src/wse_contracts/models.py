from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Base of every model at an edge: unknown fields are an error, not silently dropped.

    A portal that sends `valid_untill` must hear about it instead of getting a right that never
    ends.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)
