"""Who may see and do what. Every view fetches its objects through these helpers.

Outsiders get 404 (they must not learn that a contract exists); a user who may read but not
change gets 403.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import get_object_or_404

from contracts.models import Contract, User
from pathways.models import Pathway


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


def can_review(user: User, contract: Contract) -> bool:
    """Commissioners of the contract review returns, override RAG and keep the action log."""
    return (
        user.role == User.Role.COMMISSIONER
        and contract.commissioners.filter(pk=user.organisation_id).exists()
    )


def require_submitter(user: User, pathway: Pathway) -> None:
    if not can_submit(user, pathway):
        raise PermissionDenied("Only the provider delivering this pathway can change its returns.")


def require_reviewer(user: User, contract: Contract) -> None:
    if not can_review(user, contract):
        raise PermissionDenied("Only the contract's commissioners can do this.")


# --- Quarterly returns -----------------------------------------------------------------------


def get_period_for_user(user: User, contract: Contract, quarter: str):
    """A reporting period of the contract by its label ("Y1Q1"); 404 if there is none."""
    from django.http import Http404

    from contracts.models import ReportingPeriod

    try:
        q = contract.parse_quarter(quarter)
    except ValueError:
        raise Http404("No such quarter") from None
    return get_object_or_404(
        ReportingPeriod.objects.select_related("contract"),
        contract=contract,
        year=q.year,
        quarter=q.quarter,
    )


def get_return_for_user(user: User, reference: str, pathway_code: str, quarter: str):
    """The return of a pathway and quarter the user may see; an unsaved one if not started.

    Outsiders and delivery partners asking for another organisation's pathway get 404.
    """
    from reports.models import Return

    contract = get_contract_for_user(user, reference)
    pathway = get_object_or_404(
        pathways_for(user, contract).select_related("contract", "provider"), code=pathway_code
    )
    period = get_period_for_user(user, contract, quarter)
    ret = (
        Return.objects.select_related(
            "pathway__contract", "pathway__provider", "period", "submitted_by", "reviewed_by"
        )
        .filter(pathway=pathway, period=period)
        .first()
    )
    if ret is None:
        ret = Return(pathway=pathway, period=period, version=0)
    return ret


def get_return_for_submitter(user: User, reference: str, pathway_code: str, quarter: str):
    """As get_return_for_user, then 403 unless the user may change the pathway's returns."""
    ret = get_return_for_user(user, reference, pathway_code, quarter)
    require_submitter(user, ret.pathway)
    return ret


def get_return_for_reviewer(user: User, reference: str, pathway_code: str, quarter: str):
    """As get_return_for_user, then 403 unless the user reviews the contract's returns."""
    ret = get_return_for_user(user, reference, pathway_code, quarter)
    require_reviewer(user, ret.pathway.contract)
    return ret


# --- Contract meetings, actions and meeting packs ------------------------------------------------


def get_meeting_for_user(user: User, contract: Contract, pk: int):
    """A meeting of a contract the user may see (every party reads meetings); 404 otherwise."""
    from contracts.models import Meeting

    return get_object_or_404(
        Meeting.objects.filter(contract=contract).select_related("period", "contract"), pk=pk
    )


def get_action_for_user(user: User, contract: Contract, pk: int):
    from contracts.models import Action

    return get_object_or_404(
        Action.objects.filter(contract=contract).select_related("raised_at__period"), pk=pk
    )


def can_read_pack(user: User, contract: Contract, pack) -> bool:
    """Every party reads a final pack; drafts are the commissioners' only."""
    return pack.is_final or can_review(user, contract)


def get_pack_for_user(user: User, contract: Contract, pk: int):
    """A meeting pack of a contract the user may see: 404 if not this contract's, 403 a draft."""
    from contracts.models import MeetingPack

    pack = get_object_or_404(
        MeetingPack.objects.filter(contract=contract).select_related("period", "contract"),
        pk=pk,
    )
    if not can_read_pack(user, contract, pack):
        raise PermissionDenied("Draft packs are for the contract's commissioners only.")
    return pack
