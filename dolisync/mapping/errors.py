"""The one exception a mapper raises: bad or unmappable source data.

Contract: a :class:`MappingError` concerns exactly one source item. A flow catches it, parks
that item (``FailureQueue``) with :meth:`MappingError.user_message` and goes on with the
rest. The message names the entity, the source id, the field, the offending value (shortened,
never a secret) and a hint saying what to fix.
"""

from __future__ import annotations

__all__ = ["MappingError"]

_VALUE_PREVIEW = 80


class MappingError(Exception):
    """A source item cannot be mapped: ``entity``/``source_id`` say which, ``hint`` what to do."""

    def __init__(self, entity: str, source_id: object, field: str, value: object, hint: str) -> None:
        self.entity = entity
        self.source_id = str(source_id)
        self.field = field
        self.value = value
        self.hint = hint
        super().__init__(self.user_message())

    @property
    def value_preview(self) -> str:
        """The value as shown to users: at most 80 characters, with its full length if cut."""
        text = repr(self.value) if not isinstance(self.value, str) else repr(self.value)
        if len(text) <= _VALUE_PREVIEW:
            return text
        size = len(self.value) if isinstance(self.value, (str, bytes)) else len(text)
        return f"{text[:_VALUE_PREVIEW]}… ({size} characters)"

    def user_message(self) -> str:
        """``products 42: field reference = '' — <hint>``."""
        return f"{self.entity} {self.source_id}: field {self.field} = {self.value_preview} — {self.hint}"

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.entity, self.source_id, self.field, self.value, self.hint))
