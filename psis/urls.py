from django.contrib import admin
from django.urls import include, path

from psis.health import health

admin.site.site_header = "PSIS Monitor administration"
admin.site.site_title = "PSIS Monitor admin"

urlpatterns = [
    path("health/", health, name="health"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    # Quarterly returns: entry, submission, review, Excel round trip.
    path("contracts/<slug:reference>/returns/", include("reports.urls")),
    # Performance dashboards and results downloads.
    path("contracts/<slug:reference>/performance/", include("performance.urls")),
    # Contract meetings, action logs and meeting packs.
    path("contracts/<slug:reference>/meetings/", include("meetings.urls")),
    path("contracts/<slug:reference>/kpis/", include("kpis.urls")),
    path("contracts/<slug:reference>/exit/", include("exits.urls")),
    path("contracts/<slug:reference>/", include("pathways.urls")),
    path("", include("contracts.urls")),
    path("", include("home.urls")),
]
