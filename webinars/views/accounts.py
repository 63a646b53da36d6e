"""Account pages: sign-up, and where Django's own differ: where staff land after logging
in, and the password reset that also lifts a login lock."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import SetPasswordForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from webinars import lockout, services
from webinars.forms import SignupForm


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


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = services.register_organiser(
            email=form.cleaned_data["email"], password=form.cleaned_data["password"]
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, "Welcome! Add your organisation's billing details to book.")
        return redirect("webinars:organisation")
    return render(
        request, "registration/signup.html", {"form": form}, status=400 if form.errors else 200
    )
