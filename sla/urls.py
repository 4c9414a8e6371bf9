from django.urls import path

from sla import customer_views, status_views, views
from sla.statuspage import DOCUMENTS

urlpatterns = [
    path("desk/sla/", views.outage_board, name="sla-board"),
    path("desk/sla/outages/new/", views.outage_new, name="sla-outage-new"),
    path("desk/sla/outages/<int:pk>/", views.outage_page, name="sla-outage"),
    path("desk/sla/outages/<int:pk>/edit/", views.outage_edit, name="sla-outage-edit"),
    path("desk/sla/outages/<int:pk>/end/", views.outage_end, name="sla-outage-end"),
    path("desk/sla/outages/<int:pk>/decide/", views.outage_decide, name="sla-outage-decide"),
    path("desk/sla/outages/<int:pk>/discard/", views.outage_discard, name="sla-outage-discard"),
    path("desk/sla/outages/<int:pk>/updates/", status_views.outage_post_update, name="sla-outage-post-update"),
    path("desk/sla/outages/<int:pk>/confirm/", views.outage_confirm, name="sla-outage-confirm"),
    path("desk/sla/outage-options/", views.outage_options, name="sla-outage-options"),
    path("desk/sla/bulk-link/", views.bulk_link, name="sla-bulk-link"),
    path("desk/sla/billing/", views.billing_page, name="sla-billing"),
    path("desk/sla/contracts/<int:pk>/", views.contract_sla, name="sla-contract"),
    path("desk/sla/tickets/<str:number>/outages/", views.ticket_outages, name="sla-ticket-outages"),
    path("desk/sla/export.csv", views.month_csv, name="sla-csv"),
    path("desk/customers/", customer_views.customer_list, name="desk-customers"),
    path("desk/customers/<int:pk>/", customer_views.customer_page, name="desk-customer"),
    path("desk/delivery/", views.delivery, name="delivery"),
    path("desk/claims/", views.desk_claims, name="desk-claims"),
    path("portal/claims/", views.portal_claims, name="portal-claims"),
    path("portal/contracts/<int:pk>/availability/", views.portal_availability, name="portal-availability"),
    path("status/<slug:slug>/", status_views.status_page, name="status-page"),
    path("status/<slug:slug>/feed.atom", status_views.status_feed, name="status-feed"),
    path("status/<slug:slug>/status.json", status_views.status_json, name="status-json"),
]

# The status page in the shapes of Atlassian Statuspage's public API v2, for the tools that read
# one: /status/<slug>/api/v2/summary.json, …/incidents/unresolved.json (named statuspage-summary,
# statuspage-incidents-unresolved).
urlpatterns += [
    path(
        f"status/<slug:slug>/api/v2/{document}.json",
        status_views.statuspage_api,
        {"document": document},
        name="statuspage-" + document.replace("/", "-"),
    )
    for document in DOCUMENTS
]
