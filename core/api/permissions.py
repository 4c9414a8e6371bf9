from rest_framework.permissions import SAFE_METHODS, BasePermission


class StaffWritesSignedInReads(BasePermission):
    """Reading needs a signed-in user; writing needs staff."""

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return request.method in SAFE_METHODS or user.is_staff


class StaffOnly(BasePermission):
    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)
