"""The header's links, the one for the page the reader is on marked (aria-current)."""

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag(takes_context=True)
def nav_link(context, name: str, label: str, exact: bool = False) -> str:
    """A link to the page `name`; the current one when the path is it or, unless `exact`, lies
    under it (the queue's address is the start of every desk page's, so it is exact)."""
    href = reverse(name)
    path = context["request"].path
    current = path == href if exact else path.startswith(href)
    return format_html('<a href="{}"{}>{}</a>', href, mark_safe(' aria-current="page"') if current else "", label)
