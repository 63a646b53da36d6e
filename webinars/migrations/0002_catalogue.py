"""The public catalogue and the eight audience regions. Both stay editable in the admin."""

from django.db import migrations

# code, capacity, price (USD cents), lead time (days), staff included
PACKAGES = [
    ("10k", 10_000, 900_000, 2, {"producer": 1}),
    ("50k", 50_000, 2_100_000, 3, {"producer": 1, "technical_lead": 1}),
    ("100k", 100_000, 3_000_000, 5, {"producer": 1, "technical_lead": 1, "moderator": 1}),
    ("250k", 250_000, 4_850_000, 7, {"producer": 1, "technical_lead": 1, "moderator": 2}),
    ("500k", 500_000, 7_000_000, 10,
     {"producer": 1, "technical_lead": 1, "moderator": 3, "stream_engineer": 1}),
    ("1m", 1_000_000, 10_000_000, 14,
     {"producer": 1, "technical_lead": 1, "moderator": 4, "stream_engineer": 2}),
]

# code, name, latitude, longitude
REGIONS = [
    ("us-east", "US East (Virginia)", "38.94", "-77.45"),
    ("us-west", "US West (Oregon)", "45.84", "-119.70"),
    ("sa-east", "South America (Sao Paulo)", "-23.55", "-46.63"),
    ("eu-west", "Europe West (Ireland)", "53.35", "-6.26"),
    ("eu-central", "Europe Central (Frankfurt)", "50.11", "8.68"),
    ("ap-south", "Asia Pacific South (Mumbai)", "19.08", "72.88"),
    ("ap-southeast", "Asia Pacific Southeast (Singapore)", "1.35", "103.82"),
    ("ap-northeast", "Asia Pacific Northeast (Tokyo)", "35.68", "139.69"),
]


def load(apps, schema_editor):
    Package = apps.get_model("webinars", "Package")
    Region = apps.get_model("webinars", "Region")
    for code, capacity, price, lead, staff in PACKAGES:
        name = "1M" if code == "1m" else code
        Package.objects.update_or_create(code=code, defaults={
            "name": f"{name} webinar", "capacity": capacity, "price_minor": price,
            "currency": "USD", "lead_time_days": lead, "min_duration_minutes": 30,
            "max_duration_minutes": 240, "staff_roles": staff,
        })
    for order, (code, name, lat, lon) in enumerate(REGIONS):
        Region.objects.update_or_create(code=code, defaults={
            "name": name, "latitude": lat, "longitude": lon, "fleet_size": 1200,
            "sort_order": order,
        })


class Migration(migrations.Migration):
    dependencies = [("webinars", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
