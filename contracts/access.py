"""Who may see and do what on a contract. Every view fetches its objects through these helpers.

Outsiders get 404 (they must not learn that a contract exists); a user who may read but not
change gets 403. Each app's ``access`` module guards its own objects on top of these.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404

from contracts.models import Contract, ReportingPeriod, User


def contracts_for(user: User):
    """The contracts the user's organisation is party to (all of them for administrators)."""
    if not user.is_authenticated or not user.is_active:
        return Contract.objects.none()
    if user.is_administrator:
        return Contract.objects.all()
    if user.organisation_id is None:
        return Contract.objects.none()
    org = user.organisation_id
    if user.role in {User.Role.COMMISSIONER, User.Role.OFFICER}:
        return Contract.objects.filter(commissioners=org).distinct()
    if user.role == User.Role.PROVIDER:
        return Contract.objects.filter(Q(lead_provider=org) | Q(pathways__provider=org)).distinct()
    return Contract.objects.none()


def get_contract_for_user(user: User, reference: str) -> Contract:
    return get_object_or_404(contracts_for(user), reference=reference)


def is_lead_provider(user: User, contract: Contract) -> bool:
    return user.role == User.Role.PROVIDER and user.organisation_id == contract.lead_provider_id


def can_review(user: User, contract: Contract) -> bool:
    """Commissioners of the contract review returns, override RAG and keep the action log."""
    return (
        user.role == User.Role.COMMISSIONER
        and contract.commissioners.filter(pk=user.organisation_id).exists()
    )


def require_reviewer(user: User, contract: Contract) -> None:
    if not can_review(user, contract):
        raise PermissionDenied("Only the contract's commissioners can do this.")


def get_period_for_user(user: User, contract: Contract, quarter: str) -> ReportingPeriod:
    """A reporting period of the contract by its label ("Y1Q1"); 404 if there is none."""
    try:
        return ReportingPeriod.objects.select_related("contract").by_label(contract, quarter)
    except ReportingPeriod.DoesNotExist as exc:
        raise Http404(str(exc)) from None
