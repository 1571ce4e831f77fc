"""Seats of a session kept for one partner organisation until a release time."""

from __future__ import annotations

from typing import ClassVar

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField

from eventsapp.forms import CHOICE_MESSAGES, date_field, options, time_field
from eventsapp.organiser.forms.common import MAX_CAPACITY, number_field


class ContingentForm(FlaskForm):
    # Its own id: the manual-add form on the same page has an "organisation" input too.
    organisation = SelectField(
        **CHOICE_MESSAGES,
        label=_l("Partnerorganisation"),
        coerce=int,
        id="contingent-organisation",
    )
    seats = number_field(_l("Plätze"), 1, MAX_CAPACITY)
    release_date = date_field(_l("Freigabe am"), required=_l("Bitte geben Sie ein Datum an."))
    release_time = time_field(_l("um"), required=_l("Bitte geben Sie eine Uhrzeit an."))

    # Services name the input an error is about in their own words; these are the ones this
    # form calls differently (see organiser.common.add_error). The release is one moment in
    # the service (`release_at`), two inputs here; a wall time the clocks skip is reported by
    # local_to_utc as `start_time`, which here is the release time.
    service_fields: ClassVar[dict[str, str]] = {
        "release_at": "release_date",
        "start_time": "release_time",
    }

    def __init__(self, *args, partner_choices: list[tuple[int, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.organisation.choices = options(partner_choices)
        self.organisation.invalid_choice_message = _l(
            "Bitte wählen Sie eine Organisation aus der Liste."
        )
