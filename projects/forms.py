from django import forms
from django.contrib.auth.forms import UserCreationForm

from projects.models import Project


class SignupForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        fields = ("username",)


class ProjectForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = ("name",)
        widgets = {"name": forms.TextInput(attrs={"placeholder": "Untitled film", "autofocus": True})}


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=100, widget=forms.TextInput(attrs={"placeholder": "What uses it, e.g. render script"})
    )


class MemberForm(forms.Form):
    username = forms.CharField(max_length=150, widget=forms.TextInput(attrs={"placeholder": "Their username"}))
    role = forms.ChoiceField(choices=[("editor", "Editor: edits and runs"), ("viewer", "Viewer: sees only")])
