"""Which pathways of a contract a user sees and submits for: a delivery partner only its own."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from contracts.access import is_lead_provider
from contracts.models import Contract, User
from pathways.models import Pathway


def pathways_for(user: User, contract: Contract):
    """The pathways of a contract the user may see: a delivery partner sees only its own."""
    pathways = Pathway.objects.filter(contract=contract)
    if user.role == User.Role.PROVIDER and not is_lead_provider(user, contract):
        return pathways.filter(provider=user.organisation_id)
    return pathways


def get_pathway_for_user(user: User, contract: Contract, code: str) -> Pathway:
    return get_object_or_404(pathways_for(user, contract), code=code)


def can_submit(user: User, pathway: Pathway) -> bool:
    """Providers submit returns: the lead provider for any pathway, a partner for its own."""
    if user.role != User.Role.PROVIDER:
        return False
    return user.organisation_id in {pathway.provider_id, pathway.contract.lead_provider_id}


def require_submitter(user: User, pathway: Pathway) -> None:
    if not can_submit(user, pathway):
        raise PermissionDenied("Only the provider delivering this pathway can change its returns.")
