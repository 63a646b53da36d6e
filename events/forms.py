"""Forms of the attendee pages: the public registration and resend forms, the organiser's
invitee upload. They check the shape of the input (400 with the message by the field); the
registration rules themselves are the services' (`events.services.registration`)."""

from functools import cache

import pycountry
from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from webinars.countries import country_codes


@cache
def country_choices() -> list[tuple[str, str]]:
    names = {country.alpha_2: country.name for country in pycountry.countries} | {"XK": "Kosovo"}
    ordered = sorted((names.get(code, code), code) for code in country_codes())
    return [("", _("Choose your country"))] + [(code, name) for name, code in ordered]


class RegistrationForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=200)
    email = forms.EmailField(label=_("Email"), max_length=254)
    country = forms.ChoiceField(label=_("Country"), choices=country_choices)
    consent = forms.BooleanField(
        label=_(
            "I agree to receive emails about this webinar: my personal join link and its "
            "calendar invitation."
        ),
        error_messages={"required": _("Please agree to receive the webinar emails to register.")},
    )


class ResendForm(forms.Form):
    email = forms.EmailField(label=_("The email you registered with"), max_length=254)


class InviteeImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file (columns email, name and optionally country; UTF-8)"),
    )
    lawful_basis = forms.BooleanField(
        label=_("These people agreed to receive emails about this webinar from us."),
        error_messages={"required": _("Confirm that the invitees agreed to be emailed.")},
    )
    send_links = forms.BooleanField(
        label=_("Email each invitee their personal join link now"), required=False, initial=True
    )

    def clean_file(self) -> object:
        upload = self.cleaned_data["file"]
        limit = settings.ATTENDEE_IMPORT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _("The file is larger than %(mb)s MB; split it into parts."),
                params={"mb": limit // 1_000_000},
            )
        return upload


class DeleteRegistrantForm(forms.Form):
    email = forms.EmailField(max_length=254)
    confirm = forms.BooleanField(required=False)
