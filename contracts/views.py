"""Your account: the person signed in, and signing out everywhere."""

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from contracts import services as contract_services


@require_GET
def account(request: HttpRequest) -> HttpResponse:
    return render(request, "contracts/account.html", {"person": request.user})


@require_POST
def sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    contract_services.user_sign_out_everywhere(user=request.user)
    logout(request)
    messages.success(request, "You have been signed out on every device. Sign in again here.")
    return redirect("login")
