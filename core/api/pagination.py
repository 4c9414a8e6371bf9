import hashlib

from django.core.cache import caches
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination

from core.api.params import whole_number

# Counting a million rows exactly costs a parallel scan of an index (about 80 ms of CPU): a count
# this large is remembered for a short while per query.
COUNT_CACHE_FROM = 10_000
COUNT_CACHE_SECONDS = 30
# From this offset on, a page first takes its ids in the list's order (an index scan that skips
# rows cheaply) and then loads only those rows with their joins.
IDS_FIRST_FROM = 1_000


def cached_count(queryset: QuerySet, key: str | None = None) -> int:
    """The number of rows, remembered for COUNT_CACHE_SECONDS per query when it is large. `key`
    names the query when the caller knows it more cheaply than by printing its SQL."""
    try:
        key = "page-count:" + hashlib.sha256((key or str(queryset.query)).encode()).hexdigest()
    except Exception:  # noqa: BLE001 - a query that cannot be printed is counted every time
        return queryset.count()
    cache = caches["counts"]  # this process's memory: a remembered count costs no query
    count = cache.get(key)
    if count is None:
        count = queryset.count()
        if count >= COUNT_CACHE_FROM:
            cache.set(key, count, COUNT_CACHE_SECONDS)
    return count


class LargeListPaginator(Paginator):
    """`count_key`: what names the list's query, when the caller knows it (see cached_count)."""

    def __init__(self, *args, count_key: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.count_key = count_key

    @cached_property
    def count(self) -> int:
        if not isinstance(self.object_list, QuerySet):
            return super().count
        return cached_count(self.object_list, self.count_key)

    def page(self, number):
        page = super().page(number)
        sliced = page.object_list
        whole = self.object_list  # a QuerySet whenever its page is one
        if (
            isinstance(sliced, QuerySet)
            and isinstance(whole, QuerySet)
            and (sliced.query.low_mark or 0) >= IDS_FIRST_FROM
        ):
            ids = list(sliced.values_list("pk", flat=True))
            # Model rows, or the dicts of a .values() list (which then names its "id").
            rows = {row["id"] if isinstance(row, dict) else row.pk: row for row in whole.filter(pk__in=ids).order_by()}
            page.object_list = [rows[pk] for pk in ids if pk in rows]
        return page


class PagePagination(PageNumberPagination):
    """`count`, `next`, `previous`, `results`; `?page_size=` from 1 to 200. A page size that is
    not such a number is refused with 400, never silently replaced."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    django_paginator_class = LargeListPaginator

    def get_page_size(self, request):
        values = request.query_params.getlist(self.page_size_query_param)
        if not values:
            return self.page_size
        text = values[-1]
        if len(values) > 1 or not whole_number(text) or not 1 <= int(text) <= self.max_page_size:
            raise ValidationError(
                {
                    "page_size": [
                        _("Give page_size once, as a whole number from 1 to %(max)s.") % {"max": self.max_page_size}
                    ]
                }
            )
        return int(text)

    def get_page_number(self, request, paginator):
        values = request.query_params.getlist(self.page_query_param)
        if len(values) > 1 or (values and not whole_number(values[0]) and values[0] not in self.last_page_strings):
            raise ValidationError({"page": [_("Give page once, as a whole number from 1.")]})
        return super().get_page_number(request, paginator)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update({"minimum": 1, "maximum": self.max_page_size})
            if parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1
        return parameters
