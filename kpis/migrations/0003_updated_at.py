import django.utils.timezone
from django.db import migrations, models


def _updated_at(model_name: str) -> migrations.AddField:
    return migrations.AddField(
        model_name=model_name,
        name="updated_at",
        field=models.DateTimeField(auto_now=True, default=django.utils.timezone.now),
        preserve_default=False,
    )


class Migration(migrations.Migration):
    """When each KPI, target and category last changed: cached dashboard results key on it."""

    dependencies = [("kpis", "0002_ragoverride")]

    operations = [_updated_at("kpi"), _updated_at("kpitarget"), _updated_at("kpicategory")]
