from django.urls import path

from billing.views import organiser as views

app_name = "billing"

urlpatterns = [
    path("webinars/<str:code>/pay/", views.pay, name="pay"),
    path("webinars/<str:code>/return/", views.payment_return, name="return"),
    path("webinars/<str:code>/payment-status/", views.payment_status, name="payment_status"),
    path("webinars/<str:code>/payment-panel/", views.payment_panel, name="panel"),
    path("webinars/<str:code>/cancel/", views.cancel, name="cancel"),
    path("stripe/webhook/", views.stripe_webhook, name="stripe_webhook"),
]
