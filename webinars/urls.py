"""The booking core's URLs, included once by config/urls.py at the site root.

Organiser pages live in the `webinars` namespace; the account pages keep Django's
un-namespaced names (`login`, `password_reset_confirm`, ...), which django.contrib.auth's
views and templates reverse; the API's names start with `api-`."""

from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path

from webinars.api import views as api
from webinars.views import accounts, organiser

organiser_urls = [
    path("webinars/", organiser.dashboard, name="dashboard"),
    path("webinars/new/", organiser.book, name="book"),
    path("webinars/quote/", organiser.quote, name="quote"),
    path("webinars/<str:code>/", organiser.detail, name="detail"),
    path("organisation/", organiser.organisation, name="organisation"),
]
account_urls = [
    path("signup/", accounts.signup, name="signup"),
    path("login/", accounts.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password-reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/done/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        accounts.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
api_urls = [
    path("packages/", api.PackageListApi.as_view(), name="api-packages"),
    path("quotes/", api.QuoteApi.as_view(), name="api-quote"),
    path("webinars/", api.WebinarListCreateApi.as_view(), name="api-webinars"),
    path("webinars/<str:code>/", api.WebinarDetailApi.as_view(), name="api-webinar"),
    # Last: every other path under the API answers a JSON 404.
    re_path(r"", api.NotFoundApi.as_view(), name="api-not-found"),
]

urlpatterns = [
    path("", organiser.pricing, name="pricing"),
    path("accounts/", include(account_urls)),
    path("api/v1/", include(api_urls)),
    path("", include((organiser_urls, "webinars"))),
]
