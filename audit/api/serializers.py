from rest_framework import serializers

from audit.models import AuditEvent


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "at",
            "action",
            "actor",
            "actor_name",
            "ip",
            "customer",
            "ticket_number",
            "subject_user",
            "subject_name",
            "what",
            "detail",
        ]
        read_only_fields = fields
