from django.urls import path

from tmf621 import views

urlpatterns = [
    path("troubleTicket", views.TroubleTicketList.as_view(), name="tmf621-ticket-list"),
    path("troubleTicket/<str:ticket_id>", views.TroubleTicketDetail.as_view(), name="tmf621-ticket"),
    path("hub", views.HubList.as_view(), name="tmf621-hub-list"),
    path("hub/<str:hub_id>", views.HubDetail.as_view(), name="tmf621-hub"),
]
