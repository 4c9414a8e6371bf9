"""Administrators reset a user's lost second factor here, on the record: the factors are removed,
the user's sessions end, and the audit log says who did it. Factors are not edited one by one in
the admin (allauth's own page for them is removed): a user adds and removes their own."""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.services import reset_second_factors

User = get_user_model()

if admin.site.is_registered(Authenticator):
    admin.site.unregister(Authenticator)


@admin.action(description=_("Reset second factors (a lost phone or key)"), permissions=["change"])
def reset_factors(modeladmin, request, queryset) -> None:
    count = 0
    for user in queryset:
        if reset_second_factors(user, request=request):
            count += 1
    modeladmin.message_user(
        request,
        ngettext(
            "%(count)d user's second factors were removed and their sessions ended.",
            "%(count)d users' second factors were removed and their sessions ended.",
            count,
        )
        % {"count": count},
        messages.SUCCESS,
    )


class DeskUserAdmin(UserAdmin):
    actions = [reset_factors]


admin.site.unregister(User)
admin.site.register(User, DeskUserAdmin)
