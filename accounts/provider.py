"""Found by django-allauth's provider registry, which reads `<app>.provider` of every app."""

from accounts.oidc.provider import DeskOIDCProvider

provider_classes = [DeskOIDCProvider]
