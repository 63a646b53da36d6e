"""Account pages that differ from Django's own: where staff land after logging in, and the
password reset that also lifts a login lock."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import SetPasswordForm
from django.http import HttpResponse
from django.urls import reverse

from webinars import lockout


class LoginView(auth_views.LoginView):
    """Event Services and finance work in the admin: they land there, organisers on their
    webinars (LOGIN_REDIRECT_URL). An explicit ?next= wins for both."""

    def get_default_redirect_url(self) -> str:
        if self.request.user.is_staff:
            return reverse("admin:index")
        return super().get_default_redirect_url()


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    def form_valid(self, form: SetPasswordForm) -> HttpResponse:
        response = super().form_valid(form)
        lockout.forget_failures(form.user.get_username())
        return response
