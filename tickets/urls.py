from django.urls import path

from tickets import portal_views, staff_views, views

urlpatterns = [
    path("portal/", views.portal, name="portal"),
    path("portal/report/", views.report_fault, name="portal-report"),
    path("portal/tickets/<str:number>/", views.portal_ticket, name="portal-ticket"),
    path("portal/tickets/<str:number>/receipt/", views.receipt, name="portal-receipt"),
    path("portal/tickets/<str:number>/withdraw/", views.portal_withdraw, name="portal-withdraw"),
    path(
        "tickets/<str:number>/attachments/<int:attachment_id>/",
        views.attachment_download,
        name="attachment",
    ),
    path("portal/tickets/<str:number>/watchers/", portal_views.portal_watcher_add, name="portal-watcher-add"),
    path(
        "portal/tickets/<str:number>/watchers/<int:watcher_id>/remove/",
        portal_views.portal_watcher_remove,
        name="portal-watcher-remove",
    ),
    path("portal/tickets/<str:number>/satisfaction/", portal_views.portal_satisfaction, name="portal-satisfaction"),
    path(
        "tickets/<str:number>/attachments/<int:attachment_id>/preview/",
        portal_views.attachment_preview,
        name="attachment-preview",
    ),
    path("satisfaction/<str:token>/<str:score>/", portal_views.satisfaction_link, name="satisfaction"),
    path("desk/satisfaction/", portal_views.desk_satisfaction, name="desk-satisfaction"),
    path(
        "desk/tickets/<str:number>/watchers/<int:watcher_id>/remove/",
        portal_views.desk_watcher_remove,
        name="desk-watcher-remove",
    ),
    path("desk/", views.desk, name="desk"),
    path("desk/report/", views.phone_report, name="desk-phone-report"),
    path("desk/views/", views.save_view, name="desk-save-view"),
    path("desk/bulk/", views.desk_bulk, name="desk-bulk"),
    path("desk/views/<int:pk>/delete/", views.delete_view, name="desk-delete-view"),
    path("desk/billable/", views.billable, name="desk-billable"),
    path("desk/notices/", staff_views.notices, name="desk-notices"),
    path("desk/notices/read/", staff_views.notices_read, name="desk-notices-read"),
    path("desk/preferences/", staff_views.preferences, name="desk-preferences"),
    path("desk/inbox/", views.inbox, name="desk-inbox"),
    path("desk/inbox/<int:pk>/raw/", views.inbox_raw, name="desk-inbox-raw"),
    path("desk/tickets/<str:number>/", views.desk_ticket, name="desk-ticket"),
    path("desk/tickets/<str:number>/<slug:action>/", views.desk_action, name="desk-action"),
]
