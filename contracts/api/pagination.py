from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination


class PagePagination(PageNumberPagination):
    """`count`, `next`, `previous`, `results`; `?page_size=` from 1 to 200. A page size that is
    not such a number is refused with 400, never silently replaced."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        values = request.query_params.getlist(self.page_size_query_param)
        if not values:
            return self.page_size
        text = values[-1]
        if len(values) > 1 or not text.isdigit() or not 1 <= int(text) <= self.max_page_size:
            raise ValidationError(
                {"page_size": [_("Give page_size once, as a whole number from 1 to %(max)s.") % {"max": self.max_page_size}]}
            )
        return int(text)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update({"minimum": 1, "maximum": self.max_page_size})
            if parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1
        return parameters
