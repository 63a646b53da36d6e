"""The booking form and the API hand a booking to the rules through one mapping
(`rules.booking_kwargs_from`), so the same input books the same webinar on both."""

from tests.conftest import local_start
from webinars.api.serializers import BookingInputSerializer
from webinars.forms import BookingForm
from webinars.rules import booking_kwargs_from, build_request


def test_the_form_and_the_api_hand_the_same_booking_to_the_rules(catalogue):
    common = {
        "package": "10k",
        "start": local_start(days=60).strftime("%Y-%m-%dT%H:%M"),
        "timezone": "Europe/Paris",
        "duration_minutes": 90,
        "audience": "custom",
    }
    form = BookingForm(common | {"share_us-east": "60", "share_eu-west": "40"})
    api = BookingInputSerializer(data=common | {"split": {"us-east": "60", "eu-west": "40"}})
    assert form.is_valid(), form.errors
    assert api.is_valid(), api.errors
    kwargs = form.booking_kwargs()
    assert kwargs == api.booking_kwargs() == booking_kwargs_from(form.cleaned_data)
    assert kwargs["custom_split"] == {"us-east": 6000, "eu-west": 4000}
    assert build_request(**kwargs).split == {"us-east": 6000, "eu-west": 4000}
