"""What is recorded wherever it happens: signing in and out (Django's signals, sent by every
sign-in view), API tokens created and revoked, and users' rights changed, in the admin or by
manage.py. Who made a change and from where come from the request being answered
(audit.middleware); from manage.py or a worker there is none."""

from __future__ import annotations

from contextvars import ContextVar

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver
from rest_framework.authtoken.models import Token, TokenProxy

from audit.models import Action
from audit.services import current_request, record

User = get_user_model()
RIGHTS = ("is_staff", "is_superuser", "is_active")
# The rights a new user has unless they are given more.
NEW_USER_RIGHTS = {"is_staff": False, "is_superuser": False, "is_active": True}

# Users being deleted right now: a token removed with its user names the user only by name, as
# the user's row is gone when the transaction commits.
_leaving: ContextVar[frozenset[int]] = ContextVar("audit_users_leaving", default=frozenset())


# Signing in and out ------------------------------------------------------------------------------


@receiver(user_logged_in)
def _signed_in(sender, request=None, user=None, **kwargs) -> None:
    # Single sign-on says so on the request (the action and the provider's claims worth keeping).
    record(
        getattr(request, "audit_sign_in_action", Action.SIGNED_IN),
        request=request,
        actor=user,
        detail=getattr(request, "audit_sign_in_detail", {}),
    )


@receiver(user_login_failed)
def _sign_in_failed(sender, credentials=None, request=None, **kwargs) -> None:
    # The user name tried; Django has already replaced the password in `credentials`, and it is
    # never read here.
    tried = (credentials or {}).get(User.USERNAME_FIELD) or ""
    # A wrong second-factor code (accounts.signals) counts as a failed sign-in, and says so.
    detail = {"second_factor": True} if kwargs.get("second_factor") else None
    record(Action.SIGN_IN_FAILED, request=request, actor_name=str(tried), detail=detail)


@receiver(user_logged_out)
def _signed_out(sender, request=None, user=None, **kwargs) -> None:
    if user is not None:
        record(Action.SIGNED_OUT, request=request, actor=user)


# API tokens --------------------------------------------------------------------------------------


# The admin's tokens are TokenProxy rows, whose signals name the proxy.
@receiver(post_save, sender=Token)
@receiver(post_save, sender=TokenProxy)
def _token_created(sender, instance: Token, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw:
        record(Action.TOKEN_CREATED, request=current_request.get(), subject_user=instance.user, what="API token")


@receiver(post_delete, sender=Token)
@receiver(post_delete, sender=TokenProxy)
def _token_revoked(sender, instance: Token, **kwargs) -> None:
    user = instance.user
    leaving = user.pk in _leaving.get()
    record(
        Action.TOKEN_REVOKED,
        request=current_request.get(),
        subject_user=None if leaving else user,
        subject_name=user.get_username(),
        what="API token",
    )


@receiver(pre_delete, sender=User)
def _user_leaving(sender, instance, **kwargs) -> None:
    _leaving.set(_leaving.get() | {instance.pk})


@receiver(post_delete, sender=User)
def _user_left(sender, instance, **kwargs) -> None:
    _leaving.set(_leaving.get() - {instance.pk})


# Rights: staff, administrator, active; groups and permissions ---------------------------------


@receiver(pre_save, sender=User)
def _rights_before(sender, instance, raw: bool = False, update_fields=None, **kwargs) -> None:
    """The rights as stored, read only when a save may change them (not the last sign-in's)."""
    if raw or (update_fields is not None and not set(update_fields) & set(RIGHTS)):
        return
    if instance._state.adding:
        before = NEW_USER_RIGHTS
    else:
        before = sender._base_manager.filter(pk=instance.pk).values(*RIGHTS).first() or NEW_USER_RIGHTS
    instance.__dict__["_audit_rights_before"] = before


@receiver(post_save, sender=User)
def _rights_after(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    before = instance.__dict__.pop("_audit_rights_before", None)
    if before is None:
        return
    changed = [name for name in RIGHTS if before[name] != getattr(instance, name)]
    if changed:
        record(
            Action.RIGHTS_CHANGED,
            request=current_request.get(),
            subject_user=instance,
            what="new user" if created else "user",
            detail={
                "before": {name: before[name] for name in changed},
                "after": {name: getattr(instance, name) for name in changed},
            },
        )


# Each many-to-many of rights: its table, the owner's field in it, the field it names, and the
# name the change is recorded under.
RELATIONS = {
    User.groups.through: ("user", "group", "groups"),
    User.user_permissions.through: ("user", "permission", "user_permissions"),
    Group.permissions.through: ("group", "permission", "permissions"),
}


def _labels(through, owner: str, target: str, owner_ids) -> dict[int, list[str]]:
    """Each owner's groups (by name) or permissions (app_label.codename), sorted."""
    found: dict[int, list[str]] = {pk: [] for pk in owner_ids}
    rows = through.objects.filter(**{f"{owner}_id__in": list(owner_ids)})
    if target == "group":
        for pk, name in rows.values_list(f"{owner}_id", "group__name"):
            found[pk].append(name)
    else:
        for pk, app, code in rows.values_list(
            f"{owner}_id", "permission__content_type__app_label", "permission__codename"
        ):
            found[pk].append(f"{app}.{code}")
    return {pk: sorted(names) for pk, names in found.items()}


def _owners(through, owner: str, target: str, instance, reverse: bool, pk_set) -> set[int]:
    """Whose rights the change touches: the instance's, or (from the other side) those in pk_set,
    or every owner of the instance when it is cleared."""
    if not reverse:
        return {instance.pk}
    if pk_set is not None:
        return set(pk_set)
    return set(through.objects.filter(**{f"{target}_id": instance.pk}).values_list(f"{owner}_id", flat=True))


@receiver(m2m_changed)
def _rights_of_many(sender, instance, action: str, reverse: bool, pk_set=None, **kwargs) -> None:
    if sender not in RELATIONS:
        return
    owner, target, name = RELATIONS[sender]
    stash = instance.__dict__.setdefault("_audit_m2m_before", {})
    if action.startswith("pre_"):
        owners = _owners(sender, owner, target, instance, reverse, pk_set)
        stash[sender] = _labels(sender, owner, target, owners)
        return
    before = stash.pop(sender, None)
    if before is None:
        return
    after = _labels(sender, owner, target, before)
    changed = [pk for pk in before if before[pk] != after[pk]]
    if not changed:
        return
    request = current_request.get()
    if owner == "group":
        for group in Group.objects.filter(pk__in=changed):
            record(
                Action.RIGHTS_CHANGED,
                request=request,
                what=f"group {group.name}",
                detail={"before": {name: before[group.pk]}, "after": {name: after[group.pk]}},
            )
        return
    users = [instance] if not reverse else User._base_manager.filter(pk__in=changed)
    for user in users:
        record(
            Action.RIGHTS_CHANGED,
            request=request,
            subject_user=user,
            what="user",
            detail={"before": {name: before[user.pk]}, "after": {name: after[user.pk]}},
        )
