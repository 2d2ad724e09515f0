"""Who may see meetings, actions and meeting packs of a contract: 404 for outsiders, then 403."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from contracts.access import can_review
from contracts.models import Contract, User
from meetings.models import Action, Meeting, MeetingPack


def get_meeting_for_user(user: User, contract: Contract, pk: int):
    """A meeting of a contract the user may see (every party reads meetings); 404 otherwise."""
    return get_object_or_404(
        Meeting.objects.filter(contract=contract).select_related("period", "contract"), pk=pk
    )


def get_action_for_user(user: User, contract: Contract, pk: int):
    return get_object_or_404(
        Action.objects.filter(contract=contract).select_related("raised_at__period"), pk=pk
    )


def can_read_pack(user: User, contract: Contract, pack) -> bool:
    """Every party reads a final pack; drafts are the commissioners' only."""
    return pack.is_final or can_review(user, contract)


def get_pack_for_user(user: User, contract: Contract, pk: int):
    """A meeting pack of a contract the user may see: 404 if not this contract's, 403 a draft."""
    pack = get_object_or_404(
        MeetingPack.objects.filter(contract=contract).select_related("period", "contract"),
        pk=pk,
    )
    if not can_read_pack(user, contract, pack):
        raise PermissionDenied("Draft packs are for the contract's commissioners only.")
    return pack
