from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    """Services raise Django's ValidationError keyed by field; the API answers it as a 400 with
    `{"field": ["message", ...]}`, like any serializer error."""
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            detail = {
                "non_field_errors" if field == NON_FIELD_ERRORS else field: list(messages)
                for field, messages in exc.message_dict.items()
            }
        else:
            detail = {"non_field_errors": list(exc.messages)}
        exc = exceptions.ValidationError(detail)
    return drf_exception_handler(exc, context)
