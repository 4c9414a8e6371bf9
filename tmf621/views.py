"""TMF621 Trouble Ticket Management v5 over our tickets: thin views that read through
tickets.selectors (another customer's ticket is 404, like a missing one) and write through
tickets.services (tmf621.changes), with the same authentication as our own API."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.parsers import StrictJSONParser
from core.idempotency import idempotent
from tmf621 import changes, errors, hub, mapping, selectors


class MergePatchParser(StrictJSONParser):
    media_type = "application/merge-patch+json"


@extend_schema(exclude=True)  # documented from the official document: tmf621.schema
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
            for ticket in queryset[offset : offset + limit]
        ]
        return Response(page, headers={"X-Total-Count": str(total), "X-Result-Count": str(len(page))})

    @idempotent
    def post(self, request: Request) -> Response:
        ticket = self._ticket(str(changes.create(request.user, request.data).pk))
        resource = self._resource(ticket)
        return Response(resource, status=201, headers={"Location": mapping.ticket_href(ticket.pk)})


class TroubleTicketDetail(TmfView):
    def get(self, request: Request, ticket_id: str) -> Response:
        return Response(self._resource(self._ticket(ticket_id)))

    def patch(self, request: Request, ticket_id: str) -> Response:
        changes.patch(request.user, self._ticket(ticket_id), request.data)
        return Response(self._resource(self._ticket(ticket_id)))

    def delete(self, request: Request, ticket_id: str) -> Response:
        """A ticket is never deleted (its history is the contract's evidence): cancel or close it."""
        self._ticket(ticket_id)
        return errors.answer(
            405,
            _(
                "A trouble ticket is not deleted: the customer cancels it and the desk closes it, "
                "both by PATCH of its status."
            ),
        )


class HubList(TmfView):
    def post(self, request: Request) -> Response:
        listener = hub.register(request.user, request.data)
        resource = {**hub.resource(listener), "secret": listener.secret}
        return Response(resource, status=201, headers={"Location": resource["href"]})


class HubDetail(TmfView):
    def get(self, request: Request, hub_id: str) -> Response:
        return Response(hub.resource(hub.own(request.user, hub_id)))

    def delete(self, request: Request, hub_id: str) -> Response:
        hub.own(request.user, hub_id).delete()
        return Response(status=204)
