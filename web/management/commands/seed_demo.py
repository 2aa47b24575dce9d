"""Seed the demo: delegations, parties, roles, one user per persona, sample data.

Idempotent: every row is looked up by its natural key (code, username, the
idempotency key of a sample report) and only written when missing or different,
so a second run changes nothing. `--password` sets every demo user's password,
also on a re-run.
"""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts import roles
from accounts import services as account_services
from accounts.models import Delegation, Party, User
from commission import selectors, services
from config.errors import ApplicationError
from reports.services import report_create

DEFAULT_PASSWORD = "ceasefire-demo"  # noqa: S105 (published demo password; refused when DEBUG is off)

DELEGATIONS = {
    "FR": "France",
    "UK": "United Kingdom",
    "US": "United States",
    "UA": "Ukraine",
    "EU": "European Union",
    "NATO": "NATO",
    "TR": "Türkiye",
    "JP": "Japan",
    "DE": "Germany",
}

# (code, name, delegation code or None). UA is linked to the UA delegation,
# which is what recuses its members from attribution votes.
PARTIES = [
    ("RU", "Russian Federation", None),
    ("UA", "Ukraine", "UA"),
]

# (username, delegation, role, what the persona is for). Same delegations as
# the personas of tests/conftest.py.
USERS = [
    ("monitor1", "TR", roles.MONITOR, "files reports from the field"),
    ("monitor2", "UK", roles.MONITOR, "files reports from the field"),
    ("verifier1", "US", roles.VERIFIER, "triages reports into cases, records findings"),
    ("chair", "FR", roles.CHAIR, "opens votes, extends deadlines, closes cases"),
    ("member1", "FR", roles.MEMBER, "votes on attribution, proposes measures"),
    ("member2", "UK", roles.MEMBER, "votes on attribution, proposes measures"),
    ("member3", "US", roles.MEMBER, "votes on attribution, proposes measures"),
    ("member4", "DE", roles.MEMBER, "votes on attribution, proposes measures"),
    ("member5", "UA", roles.MEMBER, "member from a party: recused from attribution"),
    ("auditor1", "JP", roles.AUDITOR, "reads the whole trail, writes nothing"),
]
# Party representatives: (username, delegation or None, party, what for).
# RU is no delegation of the commission's, so its representative sits for none.
REPRESENTATIVES = [
    ("rep_ru", None, "RU", "representative of RU: reads the cases naming RU, replies before attribution"),
    ("rep_ua", "UA", "UA", "representative of UA: reads the cases naming UA, replies before attribution"),
]
ADMIN_USERNAME = "admin"

# Sample reports, each filed once: the idempotency key makes a re-run a replay.
# Times are hours before the first seeding.
SAMPLE_REPORTS = [
    (
        "monitor1",
        "seed-demo-report-1",
        {
            "hours_ago": 30,
            "location": {"lat": 47.5689, "lon": 35.8612, "precision_m": 500,
                         "place_name": "Orikhiv", "admin1": "Zaporizhzhia Oblast"},
            "category": "shelling",
            "description": "Artillery impacts observed on the northern outskirts, about twelve rounds over 20 minutes.",
            "alleged_party": "RU",
            "source_type": "direct_observation",
            "casualties": {"civilian_killed": 0, "civilian_injured": 2, "military_killed": 0, "military_injured": 0},
            "weapons": "152 mm artillery",
            "severity": 3,
        },
    ),
    (
        "monitor1",
        "seed-demo-report-2",
        {
            "hours_ago": 29,
            "location": {"lat": 47.5712, "lon": 35.8701, "precision_m": 1000,
                         "place_name": "Orikhiv", "admin1": "Zaporizhzhia Oblast"},
            "category": "shelling",
            "description": "Second observation post reports impacts near the grain silo (likely the same event).",
            "alleged_party": "RU",
            "source_type": "acoustic",
            "severity": 3,
        },
    ),
    (
        "monitor2",
        "seed-demo-report-3",
        {
            "hours_ago": 20,
            "location": {"lat": 49.9935, "lon": 36.2304, "precision_m": 200,
                         "place_name": "Kharkiv", "admin1": "Kharkiv Oblast"},
            "category": "drone_strike",
            "description": "Loitering munition struck a substation; power out in two districts.",
            "alleged_party": "RU",
            "source_type": "imagery",
            "casualties": {"civilian_killed": 0, "civilian_injured": 1, "military_killed": 0, "military_injured": 0},
            "weapons": "Shahed-type UAV",
            "severity": 4,
            "links": ["https://example.org/demo/imagery-kharkiv-substation"],
        },
    ),
    (
        "monitor2",
        "seed-demo-report-4",
        {
            "hours_ago": 8,
            "location": {"lat": 48.5950, "lon": 38.0000, "precision_m": 2000,
                         "place_name": "near Bakhmut", "admin1": "Donetsk Oblast"},
            "category": "small_arms_fire",
            "description": "Exchange of small arms fire across the contact line, origin not established.",
            "alleged_party": None,
            "source_type": "third_party",
            "severity": 2,
        },
    ),
    (
        "monitor2",
        "seed-demo-report-6",
        {
            "hours_ago": 50,
            "location": {"lat": 47.8388, "lon": 35.1396, "precision_m": 300,
                         "place_name": "Zaporizhzhia", "admin1": "Zaporizhzhia Oblast"},
            "category": "missile_strike",
            "description": "Ballistic missile hit the rail depot at 04:10; two hangars destroyed, fire for two hours.",
            "alleged_party": "RU",
            "source_type": "direct_observation",
            "casualties": {"civilian_killed": 1, "civilian_injured": 4, "military_killed": 0, "military_injured": 0},
            "weapons": "ballistic missile",
            "severity": 5,
        },
    ),
    (
        "monitor1",
        "seed-demo-report-5",
        {
            "hours_ago": 3,
            "location": {"lat": 46.6354, "lon": 32.6169, "place_name": "Kherson", "admin1": "Kherson Oblast"},
            "category": "heavy_weapons_movement",
            "description": "Draft: column of tracked vehicles seen moving towards the river; to be confirmed.",
            "alleged_party": None,
            "source_type": "uav",
            "status": "draft",
        },
    ),
]


class Command(BaseCommand):
    help = "Create (or bring back to a known state) the demo delegations, parties, roles, users and sample data."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password",
            default=None,
            help=f"password for every demo user (default: {DEFAULT_PASSWORD!r}); also resets it on a re-run",
        )

    def handle(self, *args, password=None, **options):
        if password is None:
            # A published password must never open a real deployment.
            if not settings.DEBUG:
                raise CommandError("DEBUG is off: pass --password to choose the demo users' password")
            password = DEFAULT_PASSWORD
        if not password:
            raise CommandError("--password must not be empty")

        with transaction.atomic():
            people = seed_people(password=password)
        reports = seed_reports(people=people)
        seed_cases(people=people, reports=reports, warn=self.stderr.write)
        self._print_credentials(password)

    def _print_credentials(self, password: str) -> None:
        out = self.stdout
        out.write(f"\nDemo logins (password for all: {password})\n")
        out.write(f"  {'username':<10} {'role':<9} {'delegation':<10} what for\n")
        out.write(f"  {'-' * 10} {'-' * 9} {'-' * 10} {'-' * 45}\n")
        for username, delegation, role, purpose in USERS:
            out.write(f"  {username:<10} {role:<9} {delegation:<10} {purpose}\n")
        for username, delegation, _party, purpose in REPRESENTATIVES:
            out.write(f"  {username:<10} {'party rep':<9} {delegation or '-':<10} {purpose}\n")
        out.write(f"  {ADMIN_USERNAME:<10} {'staff':<9} {'-':<10} Django admin at /admin/ (superuser)\n")


def seed_people(*, password: str) -> dict[str, User]:
    """Delegations, parties, demo users and the admin; returns users by username.
    Authority (roles, delegations, parties' links, flags) goes through
    accounts.services, so the demo's trail says who holds what from the start."""
    delegations = {}
    for code, name in DELEGATIONS.items():
        delegation, _ = Delegation.objects.update_or_create(code=code, defaults={"name": name})
        delegations[code] = delegation
    for code, name, delegation_code in PARTIES:
        delegation = delegations[delegation_code] if delegation_code else None
        party = Party.objects.filter(code=code).first()
        if party is None:
            account_services.party_create(actor=None, code=code, name=name, delegation=delegation, reason=SEEDED)
        else:
            account_services.party_delegation_set(actor=None, party=party, delegation=delegation, reason=SEEDED)

    people = {}
    for username, delegation_code, role, _purpose in USERS:
        people[username] = _ensure_user(username=username, password=password,
                                        delegation=delegations[delegation_code], roles=[role])
    for username, delegation_code, party_code, _purpose in REPRESENTATIVES:
        people[username] = _ensure_user(username=username, password=password,
                                        delegation=delegations[delegation_code] if delegation_code else None,
                                        roles=[roles.PARTY_REPRESENTATIVE], represents=Party.objects.get(code=party_code))
    people[ADMIN_USERNAME] = _ensure_user(username=ADMIN_USERNAME, password=password, delegation=None, roles=[],
                                          staff=True)
    return people


SEEDED = "seed_demo: the demo's known state"


def _ensure_user(*, username: str, password: str, delegation, roles: list[str], staff: bool = False,
                 represents=None) -> User:
    flags = {"is_active": True, "is_staff": staff, "is_superuser": staff}
    email = f"{username}@demo.invalid"
    user = User.objects.filter(username=username).first()
    if user is None:
        return account_services.user_create(actor=None, username=username, password=password, email=email,
                                            delegation=delegation, roles=roles, flags=flags, represents=represents,
                                            reason=SEEDED)
    # check_password first: re-hashing an unchanged password would rewrite the
    # row with a new salt on every run.
    if user.email != email or not user.check_password(password):
        user.email = email
        user.set_password(password)
        user.save(update_fields=["email", "password"])
    return account_services.user_authority_set(actor=None, user=user, roles=roles, delegation=delegation,
                                               flags=flags, represents=represents, reason=SEEDED)


def seed_reports(*, people: dict[str, User]) -> list:
    """File the sample reports through the reports service, once each.

    Does nothing while reports.services does not exist yet. Going through
    the service (not Report.objects.create) gives the samples their audit
    events and references like any filed report.
    """
    now = timezone.now()
    reports = []
    for username, key, sample in SAMPLE_REPORTS:
        data = {k: v for k, v in sample.items() if k != "hours_ago"}
        data["occurred_at"] = now - timedelta(hours=sample["hours_ago"])
        report, _created = report_create(actor=people[username], data=data, idempotency_key=key)
        reports.append(report)
    return reports


# Sample cases, keyed by title: a re-run finds each by its title and only
# takes the steps it still lacks, so it changes nothing once all are taken.
# (title, idempotency keys of its sample reports, stage to bring it to,
#  ballots: member -> (choice, rationale), measure proposed in measures)
SAMPLE_CASES = [
    {
        "title": "Substation strike in Kharkiv",
        "reports": ["seed-demo-report-3"],
        "stage": "verification",
    },
    {
        "title": "Shelling of Orikhiv, northern outskirts",
        "reports": ["seed-demo-report-1", "seed-demo-report-2"],
        "stage": "attribution",
        "findings": "Two observation posts, craters and fragments consistent with 152 mm artillery fired from "
                    "the south-east.",
        "reply": "RU forces did not fire on Orikhiv on that day; the craters face positions that changed hands "
                 "twice that week.",
        "ballots": {
            "member1": ("RU", "Crater orientation and the acoustic bearing point to positions held by RU."),
            "member2": ("RU", "Consistent with the verifier's findings and the firing pattern of the week."),
        },
    },
    {
        "title": "Missile strike on the Zaporizhzhia rail depot",
        "reports": ["seed-demo-report-6"],
        "stage": "measures",
        "findings": "Debris identified as a 9M723 missile; the launch was tracked by two partners' radars.",
        "reply": "The depot served military logistics; the Russian Federation disputes the radar tracks.",
        "ballots": {
            "member1": ("RU", "Radar tracks from two partners agree on the launch area."),
            "member2": ("RU", "The missile type is fielded by RU only in this sector."),
            "member3": ("RU", "Tracks and debris agree."),
            "member4": ("undetermined", "I would have wanted the second radar track shared in full."),
        },
        "measure": ("sanctions", "RU", "Targeted sanctions on the missile brigade and its suppliers."),
    },
]


def seed_cases(*, people: dict[str, User], reports: list, warn=None) -> list:
    """Sample cases built from the sample reports, through the commission's
    services (so they have their deadlines and audit events like any case):
    one in verification, one in attribution with an open round where two
    members voted, one in measures with a proposed measure.

    A sample whose reports someone has put in another case is left out.
    """
    if not reports:
        return []

    by_key = {key: report for (_user, key, _sample), report in zip(SAMPLE_REPORTS, reports, strict=True)}
    chair, verifier = people["chair"], people["verifier1"]
    made = []
    for sample in SAMPLE_CASES:
        case = selectors.case_list_for(chair).filter(title=sample["title"]).order_by("id").first()
        try:
            if case is None:
                case = services.case_open(actor=verifier, title=sample["title"],
                                          reports=[by_key[key] for key in sample["reports"]])
            made.append(case)
            if sample["stage"] == "verification":
                continue
            if case.stage == "verification":
                case = services.verification_record(actor=verifier, case=case, outcome="confirmed",
                                                    findings=sample["findings"])
            if (case.stage == "attribution" and sample.get("reply")
                    and selectors.reply_refusal(case, people["rep_ru"].represents) is None):
                # RU is heard before the vote: its reply closes the window, and the round may open.
                services.reply_submit(actor=people["rep_ru"], case=case, text=sample["reply"])
            rnd = selectors.round_open_for_case(case)
            if case.stage == "attribution" and rnd is None and not selectors.case_rounds(case).exists():
                rnd = services.round_open(actor=chair, case=case)
            if rnd is not None:
                for username, (choice, rationale) in sample["ballots"].items():
                    if selectors.ballot_own(rnd, people[username]) is None:
                        services.ballot_cast(actor=people[username], round=rnd, choice=choice, rationale=rationale)
            case = selectors.case_get_for(chair, case.pk)
            if case.stage == "measures" and sample.get("measure") and not selectors.case_measures(case).exists():
                kind, addressee, description = sample["measure"]
                services.measure_propose(actor=people["member3"], case=case, kind=kind, addressee=addressee,
                                         description=description)
        except ApplicationError as exc:  # e.g. a sample report was put in another case by hand
            if warn is not None:
                warn(f"Sample case {sample['title']!r} left as it is: {exc.message}")
    return made
