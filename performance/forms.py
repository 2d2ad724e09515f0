"""Forms of the performance dashboards."""

from django import forms

from performance.models import RagOverride


class RagOverrideForm(forms.Form):
    rag = forms.ChoiceField(
        label="RAG to show instead",
        choices=RagOverride.Choice.choices,
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label="Reason",
        help_text="Why the rule's RAG does not tell the true story. Shown wherever this RAG is.",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )
    quarter = forms.CharField(widget=forms.HiddenInput)

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Give the reason for the override.")
        return reason
