from rest_framework.routers import DefaultRouter

from contracts.api.views import ContractViewSet, CustomerViewSet, ServiceTermsViewSet

router = DefaultRouter()
router.register("terms", ServiceTermsViewSet, basename="terms")
router.register("customers", CustomerViewSet, basename="customer")
router.register("contracts", ContractViewSet, basename="contract")

urlpatterns = router.urls
