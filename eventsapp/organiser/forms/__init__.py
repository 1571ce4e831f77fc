"""Back-office forms, one module per area; import them from here."""

from eventsapp.organiser.forms.common import MAX_CAPACITY
from eventsapp.organiser.forms.contingents import ContingentForm
from eventsapp.organiser.forms.feedback import TextsDecisionForm, TopicStatusForm
from eventsapp.organiser.forms.formats import (
    TRANSLATED_FIELDS,
    TRANSLATED_LANGUAGES,
    FormatForm,
    FormatTranslationsForm,
)
from eventsapp.organiser.forms.registrations import (
    CheckinCodeForm,
    ManualRegistrationForm,
    WalkInForm,
)
from eventsapp.organiser.forms.scheduling import (
    NTH_CHOICES,
    WEEKDAY_CHOICES,
    GenerateForm,
    PublishForm,
    ScheduleForm,
)
from eventsapp.organiser.forms.sessions import (
    SESSION_TEXT_FIELDS,
    CancelSessionForm,
    SessionForm,
    SessionTranslationsForm,
)

__all__ = [
    "MAX_CAPACITY",
    "NTH_CHOICES",
    "SESSION_TEXT_FIELDS",
    "TRANSLATED_FIELDS",
    "TRANSLATED_LANGUAGES",
    "WEEKDAY_CHOICES",
    "CancelSessionForm",
    "CheckinCodeForm",
    "ContingentForm",
    "FormatForm",
    "FormatTranslationsForm",
    "GenerateForm",
    "ManualRegistrationForm",
    "PublishForm",
    "ScheduleForm",
    "SessionForm",
    "SessionTranslationsForm",
    "TextsDecisionForm",
    "TopicStatusForm",
    "WalkInForm",
]
