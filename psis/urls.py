from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "PSIS Monitor administration"
admin.site.site_title = "PSIS Monitor admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("contracts.urls")),
]
