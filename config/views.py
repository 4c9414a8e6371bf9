from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from contracts.models import Contract, ServiceTerms


@login_required
def home(request):
    contracts = (
        Contract.objects.visible_to(request.user)
        .select_related("customer", "terms")
        .order_by("customer__name", "-signed_on")[:50]
    )
    return render(
        request,
        "home.html",
        {"contracts": contracts, "terms_list": ServiceTerms.objects.in_force()},
    )
