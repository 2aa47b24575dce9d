#!/usr/bin/env python3
"""The commission's API from first report to closed case, against a running server.

    python3 docs/api_walkthrough.py --base http://127.0.0.1:8000 --password ceasefire-demo

Every demo persona (README, "Demo logins") signs in for a token, then:
monitor1 files two reports (and retries one with the same Idempotency-Key,
which creates nothing); verifier1 returns one with a question and monitor1
answers it; verifier1 opens a case from both and confirms it; the chair opens
a vote; member5 (UA delegation) is refused as recused, member1..member4 vote
(member1 changes their ballot), and the round closes when the last eligible
member has voted; member2 proposes a sanction, the chair adopts it, records
compliance and closes the case; auditor1 reads the case's trail and verifies
the whole one.

Every id comes from an answer of the server: the script never guesses one, so
it touches nothing but what it creates, and can run again and again on the
same demo. Each request states the status it expects; any other status stops
the script with the server's answer and exit status 1. Standard library only,
so any python3 runs it; .ci/run runs it against a live server.
"""

import argparse
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone

UTC = timezone.utc  # noqa: UP017 (datetime.UTC is Python 3.11+; this script runs on any python3)

MEMBERS_WHO_VOTE = ["member1", "member2", "member3", "member4"]
RECUSED_MEMBER = "member5"  # of the UA delegation, and UA is a party: recused from attribution
PERSONAS = ["monitor1", "verifier1", "chair", *MEMBERS_WHO_VOTE, RECUSED_MEMBER, "auditor1"]


class WalkthroughFailed(Exception):
    pass


class Api:
    """JSON over HTTP with a token per persona; prints each step as it goes."""

    def __init__(self, base: str, quiet: bool = False):
        self.base = base.rstrip("/")
        self.quiet = quiet
        self.tokens = {}

    def say(self, text: str) -> None:
        if not self.quiet:
            print(text)

    def sign_in(self, username: str, password: str) -> None:
        answer = self.call(None, "POST", "/api/v1/auth/token/", {"username": username, "password": password},
                           expect=200, label=username)
        self.tokens[username] = answer["token"]

    def call(self, who, method, path, body=None, *, expect, headers=None, label=None):
        """Send one request as `who` (a username, or None: anonymous) and
        return the decoded answer; any status but `expect` raises."""
        url = path if path.startswith("http") else self.base + path
        # The URL is the user's own --base: any scheme they give is theirs to choose.
        request = urllib.request.Request(url, method=method, headers={"Accept": "application/json"})  # noqa: S310
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        if who is not None:
            request.add_header("Authorization", f"Token {self.tokens[who]}")
        if body is not None:
            request.data = json.dumps(body).encode()
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                status, raw, self.last_headers = response.status, response.read(), response.headers
        except urllib.error.HTTPError as error:
            # 4xx/5xx arrive as an exception; some steps expect one (a refusal).
            status, raw, self.last_headers = error.code, error.read(), error.headers
        except urllib.error.URLError as error:
            raise WalkthroughFailed(f"{method} {url}: cannot reach the server ({error.reason})") from None
        shown = urllib.parse.urlsplit(url)
        shown = shown.path + (f"?{shown.query}" if shown.query else "")
        if not self.quiet:
            print(f"  {label or who or '-':<10} {method:<5} {shown:<42} {status}")
        if status != expect:
            raise WalkthroughFailed(f"{method} {shown} as {who or 'nobody'}: expected {expect}, got {status}\n"
                                    f"{raw.decode(errors='replace')[:2000]}")
        return json.loads(raw) if raw else None


def check(condition: bool, what: str, answer=None) -> None:
    """A step's answer must say what the flow promises, or the run fails."""
    if not condition:
        detail = "" if answer is None else "\n" + json.dumps(answer, indent=2)[:2000]
        raise WalkthroughFailed(f"unexpected answer: {what}{detail}")


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def report_body(description: str, hours_ago: float, lat: float, lon: float) -> dict:
    return {
        "occurred_at": iso(datetime.now(UTC) - timedelta(hours=hours_ago)),
        "location": {"lat": lat, "lon": lon, "precision_m": 500, "place_name": "Orikhiv",
                     "admin1": "Zaporizhzhia Oblast"},
        "category": "shelling",
        "description": description,
        "alleged_party": "RU",
        "source_type": "direct_observation",
        "casualties": {"civilian_killed": 0, "civilian_injured": 2, "military_killed": 0, "military_injured": 0},
        "weapons": "152 mm artillery",
        "severity": 3,
    }


def walk(api: Api, password: str) -> str:
    """The whole flow; returns the reference of the case it closed."""
    # A mark in every text this run writes, so its rows are easy to find among the demo's.
    run = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")

    api.say("Sign in: POST /api/v1/auth/token/ with username and password, for each persona")
    for username in PERSONAS:
        api.sign_in(username, password)

    api.say("monitor1 files two reports; a retry with the same Idempotency-Key creates nothing")
    key = str(uuid.uuid4())
    body = report_body(f"About twelve impacts on the northern outskirts over 20 minutes ({run}).",
                       hours_ago=2, lat=47.5689, lon=35.8612)
    first = api.call("monitor1", "POST", "/api/v1/reports/", body, expect=201, headers={"Idempotency-Key": key})
    check(first["status"] == "submitted", "a filed report is submitted", first)
    retry = api.call("monitor1", "POST", "/api/v1/reports/", body, expect=201, headers={"Idempotency-Key": key})
    check(retry["id"] == first["id"] and api.last_headers.get("Idempotent-Replayed") == "true",
          "the retry answers the same report, marked Idempotent-Replayed", retry)
    second = api.call("monitor1", "POST", "/api/v1/reports/",
                      report_body(f"Impacts near the grain silo, likely the same shelling ({run}).",
                                  hours_ago=1.5, lat=47.5712, lon=35.8701),
                      expect=201, headers={"Idempotency-Key": str(uuid.uuid4())})
    api.say(f"    filed {first['reference']} (id {first['id']}) and {second['reference']} (id {second['id']})")

    api.say("verifier1 returns the second report with a question; monitor1 answers and submits it again")
    returned = api.call("verifier1", "POST", f"/api/v1/reports/{second['id']}/return/",
                        {"reason": "How many impacts did you count yourself, and from where?"}, expect=200)
    check(returned["status"] == "returned", "the report is returned to its monitor", returned)
    answered = api.call("monitor1", "PATCH", f"/api/v1/reports/{second['id']}/",
                        {"description": f"Eight impacts counted from the observation post at the silo ({run}).",
                         "status": "submitted"}, expect=200)
    check(answered["status"] == "submitted", "the answered report is submitted again", answered)

    api.say("verifier1 reads the newest reports one at a time: the list pages by cursor (follow next; no count)")
    newest = api.call("verifier1", "GET", "/api/v1/reports/?page_size=1", expect=200)
    check(set(newest) == {"next", "previous", "results"} and newest["results"][0]["id"] == second["id"],
          "the newest report comes first, with a link to the next page", newest)
    after = api.call("verifier1", "GET", newest["next"], expect=200)
    check(after["results"][0]["id"] == first["id"], "the next page goes on from there", after)

    api.say("verifier1 opens a case from both reports and records the findings")
    case = api.call("verifier1", "POST", "/api/v1/cases/",
                    {"title": f"Shelling of Orikhiv ({run})", "reports": [first["id"], second["id"]]}, expect=201)
    case_id = case["id"]
    check(case["stage"] == "verification", "a new case is in verification", case)
    api.say(f"    opened {case['reference']} (id {case_id})")
    case = api.call("verifier1", "POST", f"/api/v1/cases/{case_id}/verification/",
                    {"outcome": "confirmed", "findings": "Craters and fragments match 152 mm rounds."}, expect=200)
    check(case["stage"] == "attribution", "a confirmed case moves to attribution", case)

    api.say("The parties named in the reports are called to reply; each representative replies once")
    hearing = api.call("chair", "GET", f"/api/v1/cases/{case_id}/replies/", expect=200)
    for party in hearing["parties"]:
        if party["replied"]:
            continue
        # The demo's representatives are rep_ru and rep_ua (README, "Demo logins").
        representative = f"rep_{party['party'].lower()}"
        if representative not in api.tokens:
            api.sign_in(representative, password)
        seen = api.call(representative, "GET", f"/api/v1/cases/{case_id}/replies/", expect=200)
        check(seen["can_reply"] and seen["case"]["findings"], "the representative reads the findings and may reply",
              seen)
        api.call(representative, "POST", f"/api/v1/cases/{case_id}/replies/",
                 {"text": f"{party['name']} disputes the findings ({run})."}, expect=201)

    api.say("The chair opens an attribution vote (closes_at defaults to now + DEADLINE_VOTE)")
    round_ = api.call("chair", "POST", f"/api/v1/cases/{case_id}/rounds/", {"quorum": 0.5, "threshold": "simple"},
                      expect=201)
    round_id = round_["id"]
    check(round_["status"] == "open", "the round is open", round_)

    api.say(f"{RECUSED_MEMBER} is recused (403 says why); {', '.join(MEMBERS_WHO_VOTE)} cast sealed ballots")
    refusal = api.call(RECUSED_MEMBER, "POST", f"/api/v1/rounds/{round_id}/ballots/",
                       {"choice": "RU", "rationale": "Radar tracks."}, expect=403)
    api.say(f"    {RECUSED_MEMBER} is told: {refusal.get('detail', refusal)}")
    mine = api.call("member1", "POST", f"/api/v1/rounds/{round_id}/ballots/",
                    {"choice": "undetermined", "rationale": "Waiting for the radar data."}, expect=201)
    check(mine["my_ballot"]["choice"] == "undetermined" and mine["result"] is None,
          "a member sees their own ballot and no result while the round is open", mine)
    api.say("While the round is open, members discuss the case; a reply tells the comment's author")
    first = api.call("member2", "POST", f"/api/v1/cases/{case_id}/comments/",
                     {"body": f"Does the radar log match the fragments? ({run})"}, expect=201)
    api.call("member3", "POST", f"/api/v1/cases/{case_id}/comments/",
             {"body": "It does: 152 mm, same axis.", "parent": first["id"]}, expect=201)
    thread = api.call("auditor1", "GET", f"/api/v1/cases/{case_id}/comments/", expect=200)
    check(any(c["parent"] == first["id"] for c in thread) and "choice" not in json.dumps(thread),
          "the auditor reads the thread, which carries no ballot", thread)
    # Until the round closes a member may change their ballot: 200, not 201.
    api.call("member1", "POST", f"/api/v1/rounds/{round_id}/ballots/",
             {"choice": "RU", "rationale": "Radar tracks point to RU positions."}, expect=200)
    for member in MEMBERS_WHO_VOTE[1:]:
        api.call(member, "POST", f"/api/v1/rounds/{round_id}/ballots/",
                 {"choice": "RU", "rationale": f"{member}: radar tracks and crater analysis."}, expect=201)

    api.say("The round closed when the last eligible member voted: the result is revealed")
    round_ = api.call("chair", "GET", f"/api/v1/rounds/{round_id}/", expect=200)
    check(round_["status"] == "closed" and round_["closed_because"] == "all_voted",
          f"the round closes once its {round_['eligible_count']} eligible members have voted", round_)
    check(round_["result"]["outcome"] == "RU", "the round attributes the violation to RU", round_)
    check(round_["result"]["outcome_name"] == "Russian Federation" and round_["result"]["closed_because"] == "all_voted"
          and len(round_["result"]["ballots"]) == round_["ballots_cast"],
          "the result names the party and reveals each ballot with its rationale", round_["result"])
    case = api.call("chair", "GET", f"/api/v1/cases/{case_id}/", expect=200)
    check(case["stage"] == "measures" and case["attributed_party"] == "RU", "the case moves to measures", case)

    api.say("member2 proposes a measure; the chair adopts it, records compliance and closes the case")
    due = iso(datetime.now(UTC) + timedelta(days=30))
    measure = api.call("member2", "POST", f"/api/v1/cases/{case_id}/measures/",
                       {"kind": "sanctions", "addressee": "RU", "compliance_due_at": due,
                        "description": "Targeted sanctions on the artillery brigade's command."}, expect=201)
    measure_id = measure["id"]
    # Adopting cannot be undone: the chair reads what it will do, then confirms in so many words.
    preview = api.call("chair", "GET", f"/api/v1/measures/{measure_id}/adopt/", expect=200)
    check(preview["allowed"] and preview["status"] == "adopted", "the preview says the adoption is possible", preview)
    api.call("chair", "POST", f"/api/v1/measures/{measure_id}/adopt/", {"reason": "Proportionate."}, expect=400)
    measure = api.call("chair", "POST", f"/api/v1/measures/{measure_id}/adopt/",
                       {"reason": "Proportionate.", "confirm": True}, expect=200)
    check(measure["status"] == "adopted" and measure["compliance"] == "pending",
          "an adopted measure's compliance is followed", measure)
    deadlines = api.call("chair", "GET", f"/api/v1/deadlines/?case={case_id}", expect=200)["results"]
    check(any(d["kind"] == "compliance" and d["measure"] == measure_id and d["status"] == "pending"
              for d in deadlines), "the adopted measure has a compliance deadline", deadlines)
    compliance = next(d for d in deadlines if d["kind"] == "compliance" and d["measure"] == measure_id)
    api.say("The chair pauses the compliance deadline (monitors denied access), then resumes it: due_at moves")
    paused = api.call("chair", "POST", f"/api/v1/deadlines/{compliance['id']}/pause/",
                      {"reason": f"Monitors denied access to the site ({run})."}, expect=200)
    check(paused["status"] == "paused" and paused["paused_at"], "a paused deadline shows status paused", paused)
    api.call("chair", "POST", f"/api/v1/deadlines/{compliance['id']}/pause/", {"reason": "Again."}, expect=409)
    resumed = api.call("chair", "POST", f"/api/v1/deadlines/{compliance['id']}/resume/",
                       {"reason": "Access restored."}, expect=200)
    check(resumed["status"] == "pending" and datetime.fromisoformat(resumed["due_at"]) > datetime.fromisoformat(compliance["due_at"]),
          "resuming moves due_at later by the time paused", resumed)
    measure = api.call("chair", "POST", f"/api/v1/measures/{measure_id}/compliance/",
                       {"compliance": "complied", "note": "Confirmed by the monitors."}, expect=200)
    check(measure["compliance"] == "complied", "compliance is recorded", measure)
    preview = api.call("chair", "GET", f"/api/v1/cases/{case_id}/close/", expect=200)
    check(preview["allowed"] and preview["outcome"] == "decided", "the preview says what the close records", preview)
    case = api.call("chair", "POST", f"/api/v1/cases/{case_id}/close/",
                    {"summary": "Attributed to RU; targeted sanctions adopted and complied with.", "confirm": True},
                    expect=200)
    check(case["stage"] == "closed", "the case is closed", case)

    api.say("auditor1 verifies the whole trail, then reads this case's decision trail")
    verified = api.call("auditor1", "GET", "/api/v1/audit/verify/", expect=200)
    check(verified["ok"] is True, "the trail verifies", verified)
    events, page = [], f"/api/v1/cases/{case_id}/trail/?page_size=500"
    while page:
        answer = api.call("auditor1", "GET", page, expect=200)
        events += answer["results"]
        page = answer["next"]
    actions = [event["action"] for event in events]
    for action in ("report.submitted", "report.returned", "case.opened", "verification.recorded",
                   "round.opened", "ballot.cast", "ballot.changed", "round.tallied", "measure.proposed",
                   "measure.compliance_recorded", "deadline.paused", "deadline.resumed", "case.closed"):
        check(action in actions, f"the case's trail records {action}", actions)
    api.say(f"    {len(events)} events on {case['reference']}; the whole trail: {verified['checked']} events, intact")
    return case["reference"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000", help="the server's URL (default %(default)s)")
    parser.add_argument("--password", default="ceasefire-demo",
                        help="the demo users' password (seed_demo --password; default %(default)s)")
    parser.add_argument("--quiet", action="store_true", help="print only the outcome")
    args = parser.parse_args()
    api = Api(args.base, quiet=args.quiet)
    try:
        reference = walk(api, args.password)
    except WalkthroughFailed as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    print(f"OK: {reference} went from two reports to a closed case, and the trail is intact.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
