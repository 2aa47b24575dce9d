"""The commission API: thin views that validate input, call one service or
selector, and serialize the result. Scoping lives in commission.selectors,
the rules in commission.services (whose errors config.api maps to 400, 403,
409). A round's ballots stay sealed here too: the only choice any response
carries is the requester's own (`my_ballot`).

base.py: what the views share; cases.py: a case and what is done to it;
decisions.py: rounds, ballots, measures, deadlines, returning a report."""
