"""Included by django-allauth under accounts/ (the provider's `package`)."""

from django.urls import path

from accounts.oidc import views

urlpatterns = [
    path("oidc/<str:provider_id>/login/", views.login, name="oidc_login"),
    path("oidc/<str:provider_id>/login/callback/", views.callback, name="oidc_callback"),
]
