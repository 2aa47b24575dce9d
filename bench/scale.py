"""A realistic mission at scale, built for the load benchmark (bench/load.py).

    nice -n 10 .venv/bin/python bench/scale.py                 # full size, database bench_scale (kept)
    .venv/bin/python bench/scale.py --reports 2000 --cases 200 --database bench_scale_small

Full size: 1,000,000 reports over three years (clustered along the front line in
eastern and southern Ukraine; drafts and returned reports among them), 100,000
cases in every stage (verification, attribution, measures, closed) with their
rounds, ballots, measures, deadlines, replies and notifications, 50 users per
role, and the whole decision trail (one event per change of state), chained
and valid: the app's own verification (audit.services.trail_verify, what
`manage.py verify_audit` runs) passes at the end.

How it stays the project's own recipe without running a million requests:
1. People (delegations, parties, 50 users per role) are created through
   accounts.services in the target database, so their authority is in the trail.
2. Template cases: in a scratch database holding the same people, the real
   services (case_open, verification_record, reply_submit, round_open,
   ballot_cast, round_close_due, measure_propose/decide/compliance_record,
   case_close, deadline_fire: the sweep's step, on the case's own deadlines)
   play each scenario once, on a frozen clock.
   Their rows and audit events are read back.
3. Reports: built as Report objects and described by the intake's own event
   code (reports.services._created_event_fields: reference, sha256, ...),
   COPYed in with their events.
4. Cases: each template is cloned, ids renumbered, times shifted, its reports
   swapped for bulk reports filed just before; its events are rewritten the
   same way (references, ids, times), so they are the events the services
   would have written for that case.
5. Every event is COPYed into a staging table, then into the trail in time
   order with seq, prev_hash and hash computed by audit.chain (the sealer's
   recipe) from the values as PostgreSQL stores them.
6. The overview's daily counts and the map's cells, rebuilt from the
   reports (what `manage.py rebuild_report_counts` runs after a restore).
7. VACUUM ANALYZE; trail_verify; pg_database_size.

The database is kept (others reuse it). Every user's password is --password.
"""

import argparse
import bisect
import json
import os
import random
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchdb import drop, recreate  # noqa: E402 (after the path set-up)

PASSWORD = "bench-scale-password"  # noqa: S105 (a benchmark database's published password)
PER_ROLE = 50
YEARS = 3

DELEGATIONS = {"FR": "France", "UK": "United Kingdom", "US": "United States", "UA": "Ukraine",
               "EU": "European Union", "NATO": "NATO", "TR": "Türkiye", "JP": "Japan", "DE": "Germany"}
MEMBER_DELEGATIONS = ["FR", "UK", "US", "DE", "EU", "NATO", "TR", "JP", "UA"]

# Hot spots along the line of contact (lat, lon, oblast, place, weight): a
# report lands near one of them, a few km off (gaussian).
HOTSPOTS = [
    (49.71, 37.61, "Kharkiv Oblast", "Kupiansk", 6), (49.43, 37.85, "Kharkiv Oblast", "Borova", 3),
    (50.21, 36.93, "Kharkiv Oblast", "Vovchansk", 4), (48.99, 37.80, "Donetsk Oblast", "Lyman", 5),
    (49.03, 38.23, "Luhansk Oblast", "Kreminna", 4), (48.85, 38.43, "Luhansk Oblast", "Bilohorivka", 2),
    (48.60, 38.00, "Donetsk Oblast", "Bakhmut", 7), (48.53, 37.96, "Donetsk Oblast", "Chasiv Yar", 6),
    (48.40, 37.85, "Donetsk Oblast", "Toretsk", 6), (48.14, 37.74, "Donetsk Oblast", "Avdiivka", 6),
    (48.28, 37.18, "Donetsk Oblast", "Pokrovsk", 9), (48.11, 37.37, "Donetsk Oblast", "Kurakhove", 6),
    (47.78, 37.25, "Donetsk Oblast", "Vuhledar", 4), (47.79, 36.83, "Donetsk Oblast", "Velyka Novosilka", 4),
    (47.66, 36.26, "Zaporizhzhia Oblast", "Huliaipole", 4), (47.45, 35.84, "Zaporizhzhia Oblast", "Robotyne", 5),
    (47.49, 35.43, "Zaporizhzhia Oblast", "Kamianske", 3), (47.57, 34.39, "Dnipropetrovsk Oblast", "Nikopol", 5),
    (46.75, 33.37, "Kherson Oblast", "Nova Kakhovka", 3), (46.64, 32.62, "Kherson Oblast", "Kherson", 7),
    (46.55, 32.43, "Kherson Oblast", "Antonivka", 3), (51.20, 34.30, "Sumy Oblast", "Sumy border", 3),
    (46.48, 31.95, "Mykolaiv Oblast", "Kinburn Spit", 1),
]
CATEGORIES = [("shelling", 34), ("drone_strike", 22), ("small_arms_fire", 9), ("missile_strike", 5),
              ("air_strike", 5), ("ground_assault", 6), ("heavy_weapons_movement", 5), ("mine_ied", 3),
              ("infrastructure_attack", 4), ("airspace_violation", 3), ("maritime_incident", 1), ("other", 3)]
PARTIES_MIX = [("RU", 72), ("UA", 16), (None, 12)]
SOURCES = [("direct_observation", 35), ("uav", 20), ("imagery", 10), ("acoustic", 10), ("third_party", 15),
           ("open_source", 10)]
STATUS_MIX = [("submitted", 970), ("draft", 20), ("returned", 10)]
WEAPONS = {"shelling": ["152mm artillery", "122mm howitzer", "120mm mortar", "MLRS BM-21 Grad"],
           "drone_strike": ["Shahed-136", "FPV drone", "Lancet loitering munition"],
           "missile_strike": ["Iskander-M", "Kh-101", "S-300 in ground mode"],
           "air_strike": ["KAB-500 guided bomb", "FAB-250 with UMPK"],
           "small_arms_fire": ["rifles", "heavy machine gun"], "ground_assault": ["infantry, armoured vehicles"],
           "heavy_weapons_movement": ["tanks moved forward", "artillery within the withdrawal zone"],
           "mine_ied": ["anti-tank mine", "PFM-1 scatterable mines"]}
RETURN_QUESTION = "Please give the exact position of the impact and the time you heard it."


def weighted(rng: random.Random, mix):
    values = [v for v, _w in mix]
    weights = [w for _v, w in mix]
    return rng.choices(values, weights)[0]


# --- the frozen clock the template services run on --------------------------

class Clock:
    """timezone.now() for the services while they play a template: every
    module reads it as django.utils.timezone.now at call time."""

    def __init__(self, start: datetime):
        self.now = start

    def install(self):
        from django.utils import timezone
        self._real = timezone.now
        timezone.now = lambda: self.now

    def uninstall(self):
        from django.utils import timezone
        timezone.now = self._real

    def advance(self, **delta):
        self.now += timedelta(**delta)
        return self.now


def use_database(name: str) -> None:
    from django.db import connections
    connections.close_all()
    connections["default"].settings_dict["NAME"] = name


def migrate(url: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v0"], check=True,
                   cwd=ROOT, env={**os.environ, "DATABASE_URL": url})


# --- people ------------------------------------------------------------------

def people_create(clock: Clock) -> None:
    """Delegations, RU and UA, 50 users per role, through accounts.services
    (user.created events), in the same order in every database, so that the
    ids match between the template database and the target."""
    from django.contrib.auth.hashers import make_password

    from accounts import roles
    from accounts import services as account_services
    from accounts.models import Delegation, User

    reason = "bench/scale.py: the mission's staff"
    delegations = {}
    for code, name in DELEGATIONS.items():
        delegations[code] = Delegation.objects.create(code=code, name=name)
    ru = account_services.party_create(actor=None, code="RU", name="Russian Federation", reason=reason)
    ua = account_services.party_create(actor=None, code="UA", name="Ukraine", delegation=delegations["UA"],
                                       reason=reason)
    plan = []
    for i in range(1, PER_ROLE + 1):
        plan.append((f"monitor{i}", ["TR", "UK", "FR", "JP", "DE"][i % 5], roles.MONITOR, None, False))
        plan.append((f"verifier{i}", ["US", "UK", "FR", "EU"][i % 4], roles.VERIFIER, None, False))
        plan.append((f"member{i}", MEMBER_DELEGATIONS[(i - 1) % len(MEMBER_DELEGATIONS)], roles.MEMBER, None, False))
        plan.append((f"chair{i}" if i > 1 else "chair", "FR", roles.CHAIR, None, False))
        plan.append((f"auditor{i}", "JP", roles.AUDITOR, None, False))
        if i <= PER_ROLE // 2:
            plan.append((f"rep_ru{i}", None, roles.PARTY_REPRESENTATIVE, ru, False))
        else:
            plan.append((f"rep_ua{i - PER_ROLE // 2}", "UA", roles.PARTY_REPRESENTATIVE, ua, False))
    plan.append(("admin", None, None, None, True))
    for username, delegation, role, represents, staff in plan:
        clock.advance(seconds=7)
        account_services.user_create(
            actor=None, username=username, password=None, email=f"{username}@bench.invalid",
            delegation=delegations[delegation] if delegation else None, roles=[role] if role else [],
            flags={"is_active": True, "is_staff": staff, "is_superuser": staff}, represents=represents,
            reason=reason)
    # One PBKDF2 hash for all (the password is no part of the trail).
    User.objects.update(password=make_password(PASSWORD))


# --- templates: the real services, once per scenario --------------------------

# (name, stage at the end, weight) and what the services do in it. Ages (how
# long ago the case was opened) decide which scenarios a clone may follow:
# a scenario fits from its length (its last event) on, and an open one until
# its next deadline is long past (the sweep would have fired it).
SCENARIOS = {
    # name: (stage, weight, open_for) -- open_for: how long after its last
    # event a case can still be found in this state (None: closed, forever).
    "verification": ("verification", 10, timedelta(hours=72)),
    "verification_missed": ("verification", 3, timedelta(days=10)),
    "closed_unfounded": ("closed", 12, None),
    "closed_not_confirmed": ("closed", 14, None),
    "reply_window": ("attribution", 4, timedelta(hours=72)),
    "round_open": ("attribution", 6, timedelta(days=6)),
    "round_no_quorum": ("attribution", 3, timedelta(days=20)),
    "measures": ("measures", 10, timedelta(days=55)),
    "measures_overdue": ("measures", 4, timedelta(days=60)),
    "closed_after_measures": ("closed", 30, None),
    "closed_undetermined": ("closed", 8, None),
}


OPEN_SCENARIOS = [name for name, (_stage, _w, open_for) in SCENARIOS.items() if open_for is not None]


def _sweep(case, now) -> None:
    """deadlines_sweep's firing, for this case's due deadlines only: a
    global sweep would also fire the other templates' deadlines."""
    from commission import services
    from commission.models import OPEN_DEADLINE, Deadline

    for deadline_id in (Deadline.objects.filter(case=case, status__in=OPEN_DEADLINE, due_at__lte=now)
                        .order_by("due_at", "pk").values_list("pk", flat=True)):
        services.deadline_fire(deadline_id=deadline_id, now=now, email_now=False)


def _ballots(clock, rnd, voters, choices, rationale, *, change_first=False):
    from commission import services
    for i, (voter, choice) in enumerate(zip(voters, choices, strict=False)):
        clock.advance(minutes=5 + 3 * (i % 7))
        services.ballot_cast(actor=voter, round=rnd, choice=choice, rationale=f"{rationale} ({voter.username})")
        if change_first and i == 0:
            clock.advance(minutes=20)
            services.ballot_cast(actor=voter, round=rnd, choice="undetermined",
                                 rationale=f"On reflection the evidence is thin ({voter.username})")


def play(name: str, clock: Clock, reports, people, title: str):
    """One scenario through the real services, from the case's opening."""
    from commission import services
    from commission.models import Deadline, DeadlineKind, Measure
    from commission.selectors import eligible_members

    verifier, chair = people["verifier1"], people["chair"]
    case = services.case_open(actor=verifier, title=title, reports=reports)
    if name == "verification":
        return case
    if name == "verification_missed":
        clock.advance(hours=73)
        _sweep(case, clock.now)
        return case
    if name in ("closed_unfounded", "closed_not_confirmed"):
        clock.advance(hours=30 if name == "closed_unfounded" else 50)
        outcome = "unfounded" if name == "closed_unfounded" else "not_confirmed"
        return services.verification_record(actor=verifier, case=case, outcome=outcome,
                                            findings="Imagery and witness accounts do not support the report.")
    clock.advance(hours=40)
    case = services.verification_record(
        actor=verifier, case=case, outcome="confirmed",
        findings="Crater analysis and two independent witnesses confirm the incident; direction of fire from the east.")
    if name == "reply_window":
        return case
    clock.advance(hours=20)
    for rep in ("rep_ru1", "rep_ua1"):
        from commission.selectors import waiting_parties
        if waiting_parties(case).filter(code=people[rep].represents.code).exists():
            clock.advance(hours=2)
            services.reply_submit(actor=people[rep], case=case,
                                  text="Our forces did not fire in that sector on that day; see our log.")
    clock.advance(hours=4)
    rnd = services.round_open(actor=chair, case=case, override_reason="Reply window overridden: urgent case"
                              if Deadline.objects.filter(case=case, kind=DeadlineKind.REPLY, status="pending").exists()
                              else "")
    voters = list(eligible_members(case))
    if name == "round_open":
        _ballots(clock, rnd, voters[: len(voters) * 3 // 5], ["RU"] * len(voters), "Direction of fire",
                 change_first=True)
        return case
    if name == "round_no_quorum":
        _ballots(clock, rnd, voters[: len(voters) // 4], ["RU", "undetermined"] * len(voters), "Too early to say")
        clock.now = rnd.closes_at + timedelta(seconds=40)
        _sweep(case, clock.now)
        return case
    if name == "closed_undetermined":
        choices = ["undetermined"] * (len(voters) * 2 // 3) + ["RU"] * len(voters)
        _ballots(clock, rnd, voters, choices, "Insufficient attribution evidence")
        return case
    choices = ["RU"] * (len(voters) * 3 // 4) + ["abstain", "undetermined"] * len(voters)
    _ballots(clock, rnd, voters, choices, "The crater and the fragments point to the east", change_first=True)
    clock.advance(days=1)
    due = clock.now + timedelta(days=45)
    adopted = services.measure_propose(actor=people["member2"], case=case, kind="diplomatic_action",
                                       addressee="RU", description="Joint démarche to the party's representative.",
                                       compliance_due_at=due)
    clock.advance(hours=3)
    rejected = services.measure_propose(actor=people["member3"], case=case, kind="sanctions", addressee="RU",
                                        description="New sanctions on the unit's commanders.", compliance_due_at=due)
    clock.advance(days=2)
    services.measure_decide(actor=chair, measure=adopted, adopt=True, reason="Proportionate first answer.")
    clock.advance(hours=1)
    services.measure_decide(actor=chair, measure=rejected, adopt=False, reason="Premature before the démarche.")
    if name == "measures":
        return case
    if name == "measures_overdue":
        clock.now = due + timedelta(minutes=5)
        _sweep(case, clock.now)
        return case
    clock.advance(days=30)
    services.measure_compliance_record(actor=chair, measure=Measure.objects.get(pk=adopted.pk),
                                       compliance="complied", note="The party withdrew the battery.")
    clock.advance(days=2)
    from commission.models import Case
    return services.case_close(actor=chair, case=Case.objects.get(pk=case.pk),
                               summary="Violation attributed; the diplomatic measure was complied with.")


# Tables a case's story writes, in an order where a row's references come first.
CLONED = ["commission_case", "commission_casereport", "commission_round", "commission_roundvoter",
          "commission_ballot", "commission_measure", "commission_deadline", "commission_replynotice",
          "commission_reply", "notifications_notification"]
OBJECT_TABLE = {"case": "commission_case", "round": "commission_round", "ballot": "commission_ballot",
                "measure": "commission_measure", "deadline": "commission_deadline", "report": "reports_report"}
# Integer ids inside events' JSON, and the table they point into.
JSON_IDS = {"round": "commission_round", "report_id": "reports_report", "reply": "commission_reply",
            "measure": "commission_measure", "deadline": "commission_deadline", "case_id": "commission_case"}


def _max_ids(cursor) -> dict:
    out = {}
    for table in [*CLONED, "audit_auditevent", "reports_report"]:
        cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")  # noqa: S608 (constant names)
        out[table] = cursor.fetchone()[0]
    return out


def _fetch(cursor, table, where, params):
    # The stored columns only: a generated one (a case's search vector) is
    # the database's to compute, and COPY refuses a value for it.
    cursor.execute("SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
                   "AND NOT attisdropped AND attgenerated = '' ORDER BY attnum", [table])
    columns = [row[0] for row in cursor.fetchall()]
    cursor.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE {where} ORDER BY id", params)  # noqa: S608 (constant names)
    return columns, cursor.fetchall()


def templates_build(start: datetime, variants: int) -> dict:
    """Play each scenario `variants` times (with 1, 2, 3... reports), and
    return, per template: its rows per table, its events, its report ids,
    its length and its stage."""
    from django.db import connection

    from accounts.models import User
    from reports.services import report_create

    clock = Clock(start)
    clock.install()
    try:
        people_create(clock)
        people = {u.username: u for u in User.objects.select_related("represents")}
        out = []
        n = 0
        for name in SCENARIOS:
            for variant in range(variants):
                n += 1
                clock.now = start + timedelta(days=n)
                reports = []
                for j in range(1 + variant % 3):
                    clock.advance(minutes=30)
                    report, _created = report_create(actor=people[f"monitor{1 + j}"], data={
                        "occurred_at": clock.now - timedelta(hours=3), "lat": 48.3, "lon": 37.2,
                        "place_name": "Pokrovsk", "admin1": "Donetsk Oblast", "category": "shelling",
                        "description": "Template report", "alleged_party": "RU" if j or variant % 2 == 0 else "UA",
                        "source_type": "direct_observation", "severity": 3})
                    reports.append(report)
                clock.advance(hours=2)
                with connection.cursor() as c:
                    marks = _max_ids(c)
                opened_at = clock.now
                title = f"@@TITLE{n}@@"
                play(name, clock, reports, people, title)
                from audit.services import trail_seal
                trail_seal(blocking=True)
                with connection.cursor() as c:
                    tables = {}
                    for table in CLONED:
                        tables[table] = _fetch(c, table, "id > %s", [marks[table]])
                    columns, events = _fetch(c, "audit_auditevent", "id > %s", [marks["audit_auditevent"]])
                out.append({"name": name, "stage": SCENARIOS[name][0], "opened_at": opened_at,
                            "length": clock.now - opened_at, "reports": [(r.pk, r.reference) for r in reports],
                            "report_parties": [r.alleged_party.code if r.alleged_party_id else None
                                               for r in reports],
                            "tables": tables, "event_columns": columns, "events": events})
        return {"templates": out, "people": list(User.objects.order_by("id").values_list("id", "username"))}
    finally:
        clock.uninstall()


# --- the bulk build -------------------------------------------------------------

ISO_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
KEY_ID_RE = re.compile(r"(case|round|measure|deadline|returned|reply|replies-complete|reply-ended|missed|reminder):(\d+)")
KEY_TIME_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")


class Remap:
    """One clone's renumbering: ids per table, strings (references, the
    title), and a time shift applied to every datetime and ISO string."""

    def __init__(self, ids: dict, strings: dict, shift: timedelta):
        self.ids, self.strings, self.shift = ids, strings, shift

    def when(self, value: datetime | None):
        return None if value is None else value + self.shift

    def iso(self, text: str) -> str:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        shifted = parsed + self.shift
        if text.endswith("Z"):
            return shifted.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ" if "." in text else "%Y-%m-%dT%H:%M:%SZ")
        return shifted.isoformat()

    def json(self, value, key=None):
        if isinstance(value, dict):
            return {k: self.json(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self.json(v, key) for v in value]
        if isinstance(value, str):
            if value in self.strings:
                return self.strings[value]
            if ISO_RE.match(value):
                return self.iso(value)
            if "@@TITLE" in value:
                for old, new in self.strings.items():
                    value = value.replace(old, new)
            return value
        if isinstance(value, int) and not isinstance(value, bool) and key in JSON_IDS:
            return self.ids.get(JSON_IDS[key], {}).get(value, value)
        return value

    def key(self, text: str) -> str:
        def sub(match):
            kind, number = match.group(1), int(match.group(2))
            table = {"case": "commission_case", "round": "commission_round", "measure": "commission_measure",
                     "deadline": "commission_deadline", "returned": "reports_report", "reply": "commission_case",
                     "replies-complete": "commission_case", "missed": "commission_deadline",
                     "reminder": "commission_deadline", "reply-ended": "commission_deadline"}[kind]
            return f"{kind}:{self.ids.get(table, {}).get(number, number)}"
        text = KEY_ID_RE.sub(sub, text)
        text = KEY_TIME_RE.sub(lambda match: self.iso(match.group(0)), text)
        for old, new in self.strings.items():
            text = text.replace(old, new)
        return text


def foreign_keys() -> tuple[dict, dict]:
    """({table: {column: referenced table}}, {table: JSON columns}) from the models."""
    from django.apps import apps
    from django.db.models import JSONField
    out, json_columns = {}, {}
    for model in apps.get_models():
        columns = {}
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is not None:
                columns[field.column] = field.related_model._meta.db_table
        out[model._meta.db_table] = columns
        json_columns[model._meta.db_table] = {f.column for f in model._meta.concrete_fields
                                              if isinstance(f, JSONField)}
    return out, json_columns


def _loaded(value):
    """A JSON column as Django's raw cursor hands it back (text) -> its value."""
    return json.loads(value) if isinstance(value, (str, bytes)) else value


def report_rows(args, rng, people, parties, now):
    """Yield (Report instance, status) in filing order over YEARS years."""
    from reports.models import Report

    monitors = [u for u in people.values() if u.username.startswith("monitor")]
    start = now - timedelta(days=365 * YEARS)
    span = (now - timedelta(hours=6) - start).total_seconds()
    n = args.reports
    hot_weights = [h[4] for h in HOTSPOTS]
    # Intensity grows slowly over the years (an escalating conflict): filing
    # times are drawn from a density rising from 0.7 to 1.3.
    times = sorted(span * ((-0.7 + (0.49 + 1.2 * rng.random()) ** 0.5) / 0.6) for _ in range(n))
    for i, seconds in enumerate(times):
        created = start + timedelta(seconds=seconds)
        lat, lon, admin1, place, _w = rng.choices(HOTSPOTS, hot_weights)[0]
        category = weighted(rng, CATEGORIES)
        party_code = weighted(rng, PARTIES_MIX)
        status = weighted(rng, STATUS_MIX)
        occurred = created - timedelta(minutes=rng.randint(20, 60 * 48))
        killed = rng.choices([0, 1, 2, 3], [90, 6, 3, 1])[0]
        injured = rng.choices([0, 1, 2, 5], [80, 10, 7, 3])[0]
        report = Report(
            pk=args.first_report_id + i, author=rng.choice(monitors), status="submitted",
            occurred_at=occurred, occurred_until=occurred + timedelta(minutes=rng.randint(1, 90)) if i % 4 == 0 else None,
            lat=round(lat + rng.gauss(0, 0.06), 5), lon=round(lon + rng.gauss(0, 0.09), 5),
            precision_m=rng.choice([10, 50, 100, 500, 1000, 5000]), place_name=f"near {place}", admin1=admin1,
            category=category,
            description=(f"{category.replace('_', ' ').capitalize()} reported near {place}"
                         f" at {occurred:%H:%M}; {rng.choice(['impacts observed', 'damage to houses', 'crater found', 'heard from the OP', 'seen by UAV'])}."),
            alleged_party=parties.get(party_code), source_type=weighted(rng, SOURCES),
            civilian_killed=killed if rng.random() < 0.5 else 0, civilian_injured=injured,
            military_killed=0 if rng.random() < 0.8 else killed, military_injured=0,
            weapons=rng.choice(WEAPONS.get(category, [""])), severity=rng.choices([1, 2, 3, 4, 5], [20, 30, 28, 15, 7])[0],
            links=[] if rng.random() < 0.8 else [f"https://example.org/osint/{i}"],
            created_at=created, updated_at=created, submitted_at=created)
        if status == "draft":
            report.status = "draft"
            report.submitted_at = None
            if rng.random() < 0.5:
                report.description = ""
        yield report, status


REPORT_COLUMNS = ("id", "author_id", "status", "occurred_at", "occurred_until", "lat", "lon", "precision_m",
                  "place_name", "admin1", "category", "description", "alleged_party_id", "source_type",
                  "civilian_killed", "civilian_injured", "military_killed", "military_injured", "weapons",
                  "severity", "links", "idempotency_key", "request_fingerprint", "created_at", "updated_at",
                  "submitted_at", "returned_reason", "returned_by_id", "returned_at")
EVENT_COLUMNS = ("at", "actor_id", "actor_username", "action", "object_type", "object_id", "before", "after",
                 "reason")


def build(args, template_data) -> dict:
    from django.core.serializers.json import DjangoJSONEncoder
    from django.db import connection

    from accounts.models import Party, User
    from audit import chain
    from reports.services import _created_event_fields

    encoder = DjangoJSONEncoder()
    rng = random.Random(args.seed)
    now = args.now
    people = {u.username: u for u in User.objects.all()}
    assert sorted((u.pk, u.username) for u in people.values()) == template_data["people"], \
        "the template database's people differ from the target's"
    parties = {p.code: p for p in Party.objects.all()}
    verifiers = [u for u in people.values() if u.username.startswith("verifier")]
    fks, json_columns = foreign_keys()
    connection.ensure_connection()
    raw = connection.connection
    counts = {}

    with raw.cursor() as cursor:
        # ord: the order the services wrote a case's events in, for events
        # of the same instant (a tally and the last ballot share a clock).
        cursor.execute("CREATE UNLOGGED TABLE bench_staging (at timestamptz, actor_id bigint, actor_username text, "
                       "action text, object_type text, object_id text, before jsonb, after jsonb, reason text, "
                       "ord bigserial)")
    raw.commit()

    # 1. Reports and their events. Submitted reports are kept (id, time) for
    # the cases to pick from.
    t0 = time.perf_counter()
    pool = []  # (submitted_at, id, reference, alleged party code, title) of submitted reports, in time order
    statuses = {"submitted": 0, "draft": 0, "returned": 0}
    # One COPY at a time per connection: the events go in on a second one.
    import psycopg
    events_conn = psycopg.connect(args.url)
    with raw.cursor() as rc, events_conn.cursor() as ec, \
            rc.copy(f"COPY reports_report ({', '.join(REPORT_COLUMNS)}) FROM STDIN") as rcopy, \
            ec.copy(f"COPY bench_staging ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as ecopy:
        for report, status in report_rows(args, rng, people, parties, now):
            action, after = _created_event_fields(report)
            ecopy.write_row((report.created_at, report.author_id, report.author.username, action, "report",
                             str(report.pk), None, encoder.encode(after), ""))
            if status == "returned":
                verifier = rng.choice(verifiers)
                returned_at = report.created_at + timedelta(hours=rng.randint(2, 40))
                if returned_at < now:
                    report.status = "returned"
                    report.returned_reason, report.returned_by, report.returned_at = \
                        RETURN_QUESTION, verifier, returned_at
                    # The event report_return writes (commission.services.triage).
                    ecopy.write_row((returned_at, verifier.pk, verifier.username, "report.returned", "report",
                                     str(report.pk), encoder.encode({"status": "submitted"}),
                                     encoder.encode({"status": "returned", "reference": report.reference,
                                                     "author": report.author.username,
                                                     "returned_at": encoder.default(returned_at)}),
                                     RETURN_QUESTION))
            statuses[report.status] += 1
            if report.status == "submitted":
                pool.append((report.created_at, report.pk, report.reference,
                             report.alleged_party.code if report.alleged_party_id else None,
                             f"{report.get_category_display()} near {report.place_name[5:]}"))
            rcopy.write_row((report.pk, report.author_id, report.status, report.occurred_at,
                             report.occurred_until, report.lat, report.lon, report.precision_m,
                             report.place_name, report.admin1, report.category, report.description,
                             report.alleged_party_id, report.source_type, report.civilian_killed,
                             report.civilian_injured, report.military_killed, report.military_injured,
                             report.weapons, report.severity, encoder.encode(report.links), None, "",
                             report.created_at, report.updated_at, report.submitted_at,
                             report.returned_reason, report.returned_by_id, report.returned_at))
    raw.commit()
    events_conn.commit()
    counts["reports"] = statuses
    print(f"  reports: {args.reports:,} {statuses} in {time.perf_counter() - t0:.0f} s", flush=True)

    # 2. Cases: clone templates onto bulk reports.
    t0 = time.perf_counter()
    templates = template_data["templates"]
    by_name: dict[str, list] = {}
    for tpl in templates:
        by_name.setdefault(tpl["name"], []).append(tpl)
    next_id = dict.fromkeys(CLONED, 1)
    longest = {name: max(t["length"] for t in group) for name, group in by_name.items()}
    stage_counts: dict[str, int] = {}
    scenario_counts: dict[str, int] = {}
    # The reports a case takes: submitted ones naming the template's parties
    # (so the reply window and the vote name the same parties), the first not
    # taken yet from the case's point on the time line; those skipped stay
    # in the verifiers' inbox, as unlinked reports do.
    by_party: dict = {}
    for entry in pool:
        by_party.setdefault(entry[3], []).append(entry)
    party_times = {party: [e[0] for e in entries] for party, entries in by_party.items()}
    cursor_at = dict.fromkeys(by_party, 0)
    n_cases = min(args.cases, len(pool) // 3)
    first_at, last_at = pool[0][0], pool[-1][0]
    rows_out: dict[str, list] = {table: [] for table in CLONED}
    table_columns: dict[str, list] = {}
    notif_horizon = now - timedelta(days=args.notifications_days)
    with events_conn.cursor() as ec, ec.copy(f"COPY bench_staging ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as ecopy:
        for k in range(n_cases):
            target = first_at + (last_at - first_at) * ((k + 0.5) / n_cases)
            # Which scenarios fit a case opened about then (its events all in
            # the past; an open one not long past its next deadline).
            age = now - target
            fitting = [name for name, (_stage, _w, open_for) in SCENARIOS.items()
                       if longest[name] <= age and (open_for is None or age <= longest[name] + open_for)]
            name = rng.choices(fitting, [SCENARIOS[f][1] for f in fitting])[0] if fitting else "verification"
            if k >= n_cases - len(OPEN_SCENARIOS):
                # The last few cases: one of each open scenario, so that even
                # a small build has every stage (a full one has hundreds).
                name = OPEN_SCENARIOS[n_cases - 1 - k]
                target = now - longest[name] - SCENARIOS[name][2] / 3
            tpl = rng.choice(by_name[name])
            chosen = []
            for party in tpl["report_parties"]:
                times = party_times.get(party, [])
                at = max(cursor_at.get(party, 0), bisect.bisect_left(times, target - timedelta(hours=36)))
                if at >= len(times):
                    break
                chosen.append(by_party[party][at])
                cursor_at[party] = at + 1
            if len(chosen) < len(tpl["reports"]):
                continue
            opened_at = max(c[0] for c in chosen) + timedelta(minutes=rng.randint(30, 60 * 12))
            opened_at = min(opened_at, now - longest[name] - timedelta(minutes=5))
            shift = opened_at - tpl["opened_at"]
            ids: dict[str, dict] = {"reports_report": {}}
            strings = {}
            for table in CLONED:
                columns, rows = tpl["tables"][table]
                table_columns[table] = columns
                mapping = ids.setdefault(table, {})
                for row in rows:
                    mapping[row[0]] = next_id[table]
                    next_id[table] += 1
            for (old, old_ref), new in zip(tpl["reports"], chosen, strict=True):
                ids["reports_report"][old] = new[1]
                strings[old_ref] = new[2]
            case_columns, case_rows = tpl["tables"]["commission_case"]
            old_case = dict(zip(case_columns, case_rows[0], strict=True))
            new_case_id = ids["commission_case"][old_case["id"]]
            case_ref_new = f"CASE-{opened_at:%Y}-{new_case_id:06d}"
            strings[old_case["reference"]] = case_ref_new
            strings[old_case["title"]] = chosen[0][4] + (f" (and {len(chosen) - 1} more)" if len(chosen) > 1 else "")
            remap = Remap(ids, strings, shift)
            recent = opened_at >= notif_horizon
            for table in CLONED:
                if table == "notifications_notification" and not recent:
                    continue
                columns, rows = tpl["tables"][table]
                refs = fks.get(table, {})
                for row in rows:
                    new = []
                    for column, value in zip(columns, row, strict=True):
                        if column == "id":
                            value = ids[table][value]
                        elif column in refs and value is not None and refs[column] in ids:
                            value = ids[refs[column]].get(value, value)
                        elif column == "case_id" and table == "notifications_notification" and value is not None:
                            value = ids["commission_case"].get(value, value)
                        elif isinstance(value, datetime):
                            value = remap.when(value)
                        elif isinstance(value, str) and column in ("reference", "title", "case_reference"):
                            value = strings.get(value, value)
                        elif column == "key":
                            value = remap.key(value)
                        elif column in json_columns.get(table, ()) and value is not None:
                            value = encoder.encode(remap.json(_loaded(value)))
                        new.append(value)
                    rows_out[table].append(new)
            for event in tpl["events"]:
                row = dict(zip(tpl["event_columns"], event, strict=True))
                object_table = OBJECT_TABLE.get(row["object_type"])
                object_id = row["object_id"]
                if object_table:
                    object_id = str(ids.get(object_table, {}).get(int(object_id), int(object_id)))
                before = None if row["before"] is None else encoder.encode(remap.json(_loaded(row["before"])))
                after = None if row["after"] is None else encoder.encode(remap.json(_loaded(row["after"])))
                ecopy.write_row((remap.when(row["at"]), row["actor_id"], row["actor_username"], row["action"],
                                 row["object_type"], object_id, before, after, remap.json(row["reason"])))
            stage_counts[tpl["stage"]] = stage_counts.get(tpl["stage"], 0) + 1
            scenario_counts[name] = scenario_counts.get(name, 0) + 1
            if sum(len(v) for v in rows_out.values()) > 200_000:
                _flush(raw, rows_out, table_columns)
        _flush(raw, rows_out, table_columns)
    raw.commit()
    events_conn.commit()
    events_conn.close()
    with raw.cursor() as cursor:
        for table in CLONED:
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 (constants)
                           f"greatest((SELECT coalesce(max(id), 0) FROM {table}), 1))")
        cursor.execute("SELECT setval(pg_get_serial_sequence('reports_report', 'id'), "
                       "(SELECT max(id) FROM reports_report))")
    raw.commit()
    counts["cases"] = stage_counts
    counts["scenarios"] = scenario_counts
    print(f"  cases: {sum(stage_counts.values()):,} {stage_counts} in {time.perf_counter() - t0:.0f} s", flush=True)

    # 3. The trail, in time order, chained by audit.chain's recipe.
    t0 = time.perf_counter()
    with raw.cursor() as cursor:
        cursor.execute("SELECT seq, hash FROM audit_auditevent WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1")
        seq, prev = cursor.fetchone()
    raw.commit()
    reader = psycopg.connect(args.url)
    columns = ("at", "actor_id", "actor_username", "action", "object_type", "object_id", "before", "after",
               "reason", "seq", "prev_hash", "hash")
    written = 0
    with reader.cursor(name="staging") as src, raw.cursor() as dst, \
            dst.copy(f"COPY audit_auditevent ({', '.join(columns)}) FROM STDIN") as copy:
        src.itersize = 5000
        # The JSON as PostgreSQL will store it (jsonb's text), so that what is
        # hashed here is what the verifier reads back.
        src.execute("SELECT at, actor_id, actor_username, action, object_type, object_id, before::text, "
                    "after::text, reason FROM bench_staging ORDER BY at, ord")
        for at, actor_id, username, action, object_type, object_id, before, after, reason in src:
            seq += 1
            obj = chain.obj_from_row((None, seq, at, username, action, object_type, object_id, before, after,
                                      reason, prev, None))
            digest = chain.event_hash(prev, obj)
            copy.write_row((at, actor_id, username, action, object_type, object_id, before, after, reason, seq,
                            prev, digest))
            prev = digest
            written += 1
    raw.commit()
    reader.close()
    with raw.cursor() as cursor:
        cursor.execute("DROP TABLE bench_staging")
    raw.commit()
    counts["events"] = written
    print(f"  trail: {written:,} events chained in {time.perf_counter() - t0:.0f} s", flush=True)
    return counts


def _flush(raw, rows_out, table_columns):
    for table in CLONED:
        rows = rows_out[table]
        if not rows:
            continue
        columns = table_columns[table]
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        rows.clear()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--database", default="bench_scale")
    parser.add_argument("--admin-url", default=os.environ.get("BENCH_ADMIN_URL",
                                                              "postgres://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--variants", type=int, default=3, help="templates per scenario (1-3 reports each)")
    parser.add_argument("--notifications-days", type=int, default=60,
                        help="clone the notifications of cases opened in the last N days only")
    parser.add_argument("--per-role", type=int, default=PER_ROLE, help="users per role (tests: fewer)")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--no-verify", action="store_true", help="skip the trail verification at the end")
    parser.add_argument("--drop", action="store_true", help="drop the database at the end (tests)")
    args = parser.parse_args()
    return run(args)


def run(args) -> int:
    global PER_ROLE
    PER_ROLE = args.per_role
    started = time.perf_counter()
    base = args.admin_url.rsplit("/", 1)[0]
    args.url = f"{base}/{args.database}"
    scratch = f"{args.database}_tpl"
    os.environ["DATABASE_URL"] = f"{base}/{scratch}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "false")
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/9")
    args.now = datetime.now(UTC).replace(microsecond=0)
    args.first_report_id = 1

    recreate(args.admin_url, scratch)
    recreate(args.admin_url, args.database)
    migrate(f"{base}/{scratch}")
    migrate(args.url)
    import django

    django.setup()
    from django.db import connection

    from audit.services import trail_seal

    t0 = time.perf_counter()
    start = args.now - timedelta(days=365 * YEARS + 30)
    template_data = templates_build(start, args.variants)
    print(f"templates: {len(template_data['templates'])} scenarios played by the services in "
          f"{time.perf_counter() - t0:.0f} s", flush=True)
    use_database(args.database)
    clock = Clock(start - timedelta(days=1))
    clock.install()
    try:
        people_create(clock)
    finally:
        clock.uninstall()
    trail_seal(blocking=True)
    counts = build(args, template_data)
    # The reports went in by COPY, past the services that keep the
    # overview's daily counts and the map's cells on write: fill them the
    # way a restore does (rebuild_report_counts), or the overview and the
    # map of the mission would show no report at all.
    from reports.services.counts import report_counts_rebuild
    t0 = time.perf_counter()
    report_counts_rebuild()
    print(f"report counts (rebuild_report_counts): {time.perf_counter() - t0:.0f} s", flush=True)
    connection.close()
    drop(args.admin_url, scratch)

    import psycopg
    t0 = time.perf_counter()
    with psycopg.connect(args.url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    print(f"VACUUM ANALYZE: {time.perf_counter() - t0:.0f} s", flush=True)
    if not args.no_verify:
        from audit.services import trail_verify
        t0 = time.perf_counter()
        report = trail_verify()
        assert report.ok, report.as_dict()
        print(f"trail_verify: ok, {report.checked:,} events, checks "
              f"{[(c.name, c.checked, c.ok) for c in report.checks]} in {time.perf_counter() - t0:.0f} s", flush=True)
        counts["verify"] = report.as_dict()
    with psycopg.connect(args.url) as conn:
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    took = time.perf_counter() - started
    counts["size"] = size
    counts["seconds"] = took
    print(f"database {args.database}: {size / 1e9:.2f} GB (pg_database_size), built in {took / 60:.1f} min")
    connection.close()
    if args.drop:
        drop(args.admin_url, args.database)
    args.counts = counts
    return 0


if __name__ == "__main__":
    sys.exit(main())
