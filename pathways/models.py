"""The service pathways of a contract, each delivered by one organisation."""

from django.db import models
from django.db.models import Q

from contracts.models import Contract, Organisation


class PathwayQuerySet(models.QuerySet):
    def service_pathways(self):
        return self.filter(is_cross_cutting=False)


class Pathway(models.Model):
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="pathways")
    code = models.SlugField(max_length=12, help_text="Short code used in KPI codes, e.g. SPA.")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    provider = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="pathways_delivered",
        help_text="The organisation that delivers the pathway and submits its returns.",
    )
    is_cross_cutting = models.BooleanField(
        default=False,
        help_text="Key outcomes reported across the whole service rather than one pathway.",
    )
    order = models.PositiveSmallIntegerField(default=0)

    objects = PathwayQuerySet.as_manager()

    class Meta:
        ordering = ["contract", "order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "code"], name="pathway_code_unique"),
            models.UniqueConstraint(fields=["contract", "name"], name="pathway_name_unique"),
            models.UniqueConstraint(
                fields=["contract"],
                condition=Q(is_cross_cutting=True),
                name="one_cross_cutting_group_per_contract",
                violation_error_message="A contract has only one cross-cutting group.",
            ),
        ]

    def __str__(self):
        return self.name
