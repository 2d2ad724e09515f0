"""Who may see, change and review a quarterly return: 404 for outsiders, then 403."""

from django.shortcuts import get_object_or_404

from contracts.access import get_contract_for_user, get_period_for_user, require_reviewer
from contracts.models import User
from pathways.access import pathways_for, require_submitter
from reports.models import Return


def get_return_for_user(user: User, reference: str, pathway_code: str, quarter: str):
    """The return of a pathway and quarter the user may see; an unsaved one if not started.

    Outsiders and delivery partners asking for another organisation's pathway get 404.
    """
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
