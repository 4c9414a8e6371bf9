"""TMF621 Trouble Ticket Management v5 over our tickets: thin views that read through
tickets.selectors (another customer's ticket is 404, like a missing one) and write through
tickets.services (tmf621.changes), with the same authentication as our own API."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contracts.api.parsers import StrictJSONParser
from tmf621 import errors, mapping, selectors


class MergePatchParser(StrictJSONParser):
    media_type = "application/merge-patch+json"


class TmfView(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [StrictJSONParser, MergePatchParser]

    def get_exception_handler(self):
        return errors.exception_handler

    def _ticket(self, ticket_id: str):
        """The reader's ticket, or 404 whether it is missing or another customer's."""
        ticket = None
        if ticket_id.isascii() and ticket_id.isdigit() and len(ticket_id) < 19:
            ticket = mapping.tickets_for(self.request.user).filter(pk=int(ticket_id)).first()
        if ticket is None:
            raise errors.TmfError(404, _("No trouble ticket has the id %(id)s.") % {"id": ticket_id})
        return ticket

    def _resource(self, ticket) -> dict:
        return mapping.select_fields(
            mapping.trouble_ticket(ticket, self.request.user), selectors.fields(self.request.query_params)
        )


class TroubleTicketList(TmfView):
    def get(self, request: Request) -> Response:
        params = request.query_params
        offset, limit = selectors.paging(params)
        wanted = selectors.fields(params)
        queryset = selectors.filter_tickets(mapping.tickets_for(request.user), params)
        total = queryset.count()
        now = timezone.now()
        page = [
            mapping.select_fields(mapping.trouble_ticket(ticket, request.user, now=now), wanted)
            for ticket in queryset[offset:offset + limit]
        ]
        return Response(page, headers={"X-Total-Count": str(total), "X-Result-Count": str(len(page))})


class TroubleTicketDetail(TmfView):
    def get(self, request: Request, ticket_id: str) -> Response:
        selectors.fields(request.query_params)
        return Response(self._resource(self._ticket(ticket_id)))
