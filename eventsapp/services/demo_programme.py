"""The demo programme's data: Polizei Dortmund, its twelve partners and both formats.

Plain values only; `eventsapp.services.demo` makes them through the app's services.
"""

from __future__ import annotations

from datetime import time

from eventsapp.models import OrganisationKind

HOST = {
    "slug": "polizei-dortmund",
    "name": "Polizeipräsidium Dortmund",
    "website": "https://dortmund.polizei.nrw",
    "description": "Die Polizei Dortmund ist für die Städte Dortmund und Lünen zuständig.",
    "venue_name": "Polizeipräsidium Dortmund",
    "venue_address": "Markgrafenstraße 102, 44139 Dortmund",
    "contact_email": "dialog@polizei-dortmund.example",
    "kind": OrganisationKind.HOST,
}

# slug, name, description, address
# fmt: off
PARTNERS = [
    ("afrido", "AFRIDO c/o Africa Positive e.V.",
     "Netzwerk afrikanischer Vereine in Dortmund.",
     "Hamburger Straße 16, 44135 Dortmund"),
    ("dietrich-keuning-haus", "Dietrich-Keuning-Haus",
     "Kultur- und Freizeitzentrum in der Nordstadt.",
     "Leopoldstraße 50–58, 44147 Dortmund"),
    ("forumjugend", "forumJUGEND! e.V.",
     "Jugendarbeit und politische Bildung.",
     "Mallinckrodtstraße 212, 44147 Dortmund"),
    ("integrationsrat", "Integrationsrat der Stadt Dortmund",
     "Gewählte Vertretung der Dortmunderinnen und Dortmunder mit Einwanderungsgeschichte.",
     "Friedensplatz 1, 44135 Dortmund"),
    ("multikulturelles-forum", "Multikulturelles Forum e.V.",
     "Bildung, Beratung und Beschäftigung für Menschen mit Einwanderungsgeschichte.",
     "Bornstraße 64, 44145 Dortmund"),
    ("planerladen", "Planerladen gGmbH",
     "Quartiersarbeit und Antidiskriminierung in der Nordstadt.",
     "Schützenstraße 42, 44147 Dortmund"),
    ("projekt-ankommen", "Projekt Ankommen e.V.",
     "Begleitung geflüchteter Menschen beim Ankommen in Dortmund.",
     "Münsterstraße 56, 44145 Dortmund"),
    ("rat-muslimischer-gemeinden", "Rat der muslimischen Gemeinden in Dortmund",
     "Zusammenschluss der Moscheegemeinden in Dortmund.",
     "Kielstraße 24, 44145 Dortmund"),
    ("train-of-hope", "Train of Hope Dortmund e.V.",
     "Ehrenamtliche Hilfe für Geflüchtete.",
     "Heroldstraße 12, 44145 Dortmund"),
    ("unternehmen-bilden-vielfalt", "Unternehmen.Bilden.Vielfalt e.V.",
     "Vielfalt in Ausbildung und Arbeitswelt.",
     "Rheinische Straße 173, 44147 Dortmund"),
    ("vmdo", "Verbund sozial-kultureller Migrantenvereine Dortmund e.V.",
     "Dachverband von Migrantenorganisationen, Träger des Hauses der Vielfalt.",
     "Beuthstraße 21, 44147 Dortmund"),
    ("vkii", "Verein Kamerunischer Ingenieure und Informatiker e.V.",
     "Netzwerk kamerunischer Fachkräfte in Technik und Informatik.",
     "Burgholzstraße 120, 44145 Dortmund"),
]
# fmt: on

FORMATS = [
    {
        "title": "Blick in die Polizei",
        "summary": "Bürgerinnen, Bürger und Mitglieder der Partnerorganisationen "
        "besuchen das Polizeipräsidium.",
        "description": (
            "Wie arbeitet die Polizei in Dortmund? Bei diesem Besuch im Polizeipräsidium "
            "sehen Sie die Leitstelle und die Kriminalwache und sprechen offen mit "
            "Beamtinnen und Beamten – über Ihre Fragen, Erfahrungen und Anliegen.\n\n"
            "Der Besuch führt in gesicherte Bereiche, deshalb bestätigen wir jede Anmeldung "
            "einzeln. Bitte bringen Sie einen Ausweis mit. Der Eingang ist barrierefrei."
        ),
        "titles": {
            "en": "A Look Inside the Police",
            "tr": "Polise Bir Bakış",
            "ar": "نظرة إلى داخل الشرطة",
            "fr": "Regard sur la police",
            "uk": "Погляд зсередини на поліцію",
        },
        "summaries": {
            "en": "Residents and members of the partner organisations visit police headquarters.",
            "tr": "Vatandaşlar ve ortak kuruluşların üyeleri emniyet müdürlüğünü ziyaret ediyor.",
            "ar": "يزور المواطنون وأعضاء المنظمات الشريكة مقر الشرطة.",
            "fr": "Habitants et membres des organisations partenaires visitent l’hôtel de police.",
            "uk": "Мешканці та члени партнерських організацій відвідують управління поліції.",
        },
        "nth": 2,  # the second Tuesday of each month
        "weekday": 1,
        "start_time": time(18, 0),
        "duration_minutes": 150,
        "capacity": 25,
        "languages": "de,tr,ar",
        "interpreting": "Dolmetschen ins Türkische und Arabische",
        "interpreting_translations": {
            "en": "Interpreting into Turkish and Arabic",
            "tr": "Türkçe ve Arapçaya sözlü tercüme",
            "ar": "ترجمة فورية إلى التركية والعربية",
            "fr": "Interprétation en turc et en arabe",
            "uk": "Усний переклад турецькою та арабською",
        },
        "approval_required": True,
        "at_host": True,  # always at police headquarters
    },
    {
        "title": "Blick in die Organisation",
        "summary": "Polizeibeschäftigte besuchen eine Partnerorganisation – jedes Mal eine andere.",
        "description": (
            "Die Partnerorganisationen laden ein: Beschäftigte der Polizei Dortmund lernen "
            "die Arbeit eines Vereins kennen, hören zu und kommen mit den Menschen vor Ort "
            "ins Gespräch. Mitglieder der Organisation sind herzlich willkommen."
        ),
        "titles": {
            "en": "A Look Inside Our Partners",
            "tr": "Kuruluşlara Bir Bakış",
            "ar": "نظرة إلى داخل المنظمات",
            "fr": "Regard sur les associations",
            "uk": "Погляд зсередини на організації",
        },
        "summaries": {
            "en": "Police staff visit a partner organisation – a different one each time.",
            "tr": "Polis çalışanları her seferinde başka bir ortak kuruluşu ziyaret ediyor.",
            "ar": "يزور موظفو الشرطة منظمة شريكة، في كل مرة منظمة مختلفة.",
            "fr": "Des agents de police rendent visite à une organisation partenaire – "
            "chaque fois une autre.",
            "uk": "Працівники поліції відвідують партнерську організацію – щоразу іншу.",
        },
        "nth": -1,  # the last Thursday of each month
        "weekday": 3,
        "start_time": time(17, 0),
        "duration_minutes": 120,
        "capacity": 15,
        "languages": "de",
        "interpreting": "",
        "approval_required": False,
        "at_host": False,  # at a different partner each time
    },
]

# Practical information of "Blick in die Polizei", with its translations (as the format
# form and the translations page store them).
POLICE_VISIT_PRACTICAL = {
    "what_happens": (
        "Begrüßung im Foyer, Rundgang durch Leitstelle und Wache, danach Gespräch mit "
        "Beamtinnen und Beamten bei Kaffee und Tee."
    ),
    "what_to_bring": "Personalausweis oder Reisepass: Ohne Ausweis ist kein Einlass möglich.",
    "meeting_point": "Haupteingang Markgrafenstraße, am Empfang",
    "accessibility_note": "Aufzug neben dem Haupteingang; zwei Behindertenparkplätze im Hof.",
    "step_free": True,
    "hearing_loop": False,
    "accessible_toilet": True,
    "contact_name": "Kontaktbeamtin für interkulturelle Angelegenheiten",
    "contact_phone": "0231 132-0",
    "contact_email": "dialog@polizei-dortmund.example",
}
POLICE_VISIT_PRACTICAL_TRANSLATIONS = {
    "en": {
        "what_happens": (
            "Welcome in the foyer, a tour of the control centre and the station, then a "
            "conversation with police officers over coffee and tea."
        ),
        "what_to_bring": "Your ID card or passport: without ID you cannot be let in.",
        "meeting_point": "Main entrance on Markgrafenstraße, at reception",
        "accessibility_note": (
            "Lift next to the main entrance; two disabled parking spaces in the courtyard."
        ),
    },
    "tr": {
        "what_happens": (
            "Fuayede karşılama, kontrol merkezi ve karakolda tur, ardından kahve ve çay "
            "eşliğinde polis memurlarıyla sohbet."
        ),
        "what_to_bring": "Kimlik kartı veya pasaport: Kimlik olmadan giriş mümkün değildir.",
        "meeting_point": "Markgrafenstraße'deki ana giriş, danışma",
        "accessibility_note": "Ana girişin yanında asansör; avluda iki engelli park yeri.",
    },
    "ar": {
        "what_happens": (
            "استقبال في البهو، ثم جولة في مركز التحكم والمخفر، وبعدها حوار مع رجال الشرطة "
            "ونسائها على القهوة والشاي."
        ),
        "what_to_bring": "بطاقة الهوية أو جواز السفر: لا يُسمح بالدخول من دون هوية.",
        "meeting_point": "المدخل الرئيسي في شارع ماركغرافن، عند الاستقبال",
        "accessibility_note": "مصعد بجانب المدخل الرئيسي؛ موقفان لسيارات ذوي الإعاقة في الفناء.",
    },
}
