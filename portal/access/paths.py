"""Every page of the app, declared by what it does with a household's data.

A route reads a household's data when it shows or hands out DTSEN data of a family (members,
desil, programs, address) or a case about a family. Each such route calls
portal.access.record, once per household it reads, with its purpose (RECORDS), or shows
again what another request of the same person already recorded (COVERED). Every other
route says why it reads no household's data (NO_HOUSEHOLD_DATA). A route in none of the
lists fails tests/access/test_every_path.py: a new page must be declared here, and a page
that reads a household's data must record it (the test hits each one).
"""

from __future__ import annotations

from portal.access import Purpose

# endpoint -> the purpose it records, one row per household read
RECORDS: dict[str, Purpose] = {
    "lookup.index": Purpose.LOOKUP,  # the POST that finds the household (not a miss)
    # the filing journey's "Who is filing" step, when NIK + No. KK are proven: the next steps
    # list the masked members of that card (its other steps are the filer's own answers)
    "appeals.step": Purpose.FILING,
    "review.case": Purpose.CASE,  # the case page with the household in DTSEN
    "review.decide": Purpose.CASE,  # the case page again, with the decision panel's errors
    "review.field_check": Purpose.FIELD_CHECK,  # the desa operator's task page
    "review.match": Purpose.SEARCH,  # the POST of a name search: each candidate household
    # the POST of a case search (ticket, NIK, No. KK, name): each listed case's household
    "review.search": Purpose.SEARCH,
    # the queue: each listed case's household whose head's name (DTSEN) it shows
    "review.queue": Purpose.QUEUE,
    "review.create_export": Purpose.EXPORT,  # the cases' households written into the export
    "review.download_export": Purpose.DOWNLOAD,  # the file, in an officer's hands
}

# endpoint -> (the endpoint whose request recorded it, why nothing is recorded again)
COVERED: dict[str, tuple[str, str]] = {
    "lookup.result": (
        "lookup.index",
        "shows again, for 30 minutes, the household its POST found and recorded",
    ),
    "review.photo": ("review.case", "a photo of the case, shown inside the case page"),
}

# endpoint -> why it reads no household's data
NO_HOUSEHOLD_DATA: dict[str, str] = {
    "static": "files of the site",
    "lookup.healthz": "liveness",
    "lookup.readyz": "readiness",
    "help.accessibility": "a fixed page",
    "help.other_ways": "a fixed page",
    "help.privacy": "a fixed page",
    "help.beware": "a fixed page",
    "statistik.index": "the kabupaten/kota list of the public statistics: counts, no household",
    "statistik.region": "suppressed counts per region (fewer than 5 shows <5): no household",
    "statistik.region_csv": "the same suppressed counts as CSV: no household",
    "access.record": "the access record itself: no household data, and no read to record",
    "appeals.start": "chooses a kind of case",
    "appeals.start_kind": "chooses a reason",
    "appeals.photo_step": "the filer's own photos",
    "appeals.check": "the filer's own answers",
    "appeals.receipt": "the ticket of the case just sent",
    "appeals.assist.start": "a desa operator's consent, desa office and kind, before the journey",
    "appeals.assist.stop": "ends filing for a citizen",
    "appeals.assist.receipt": "the ticket of a case the operator filed for a citizen",
    "appeals.assist.send_sms": "queues that ticket by SMS to a number the citizen gives",
    "tracking.track": "opens the filer's own case with its ticket and NIK",
    "tracking.case": "the filer's own case: its state and decision, no DTSEN data",
    "tracking.withdraw": "the filer's own case",
    "tracking.contest": "the filer's own case",
    "tracking.forget": "closes the case on this device",
    "my_cases.index": "proves NIK + No. KK to list the filer's own cases (no family data)",
    "my_cases.cases": "tickets, kinds and states of the filer's own cases",
    "my_cases.open_case": "opens one of them (tracking.case)",
    "my_cases.forget": "closes the list on this device",
    "auth.login": "signing in",
    "auth.enrol": "enrolling",
    "auth.logout": "signing out",
    "auth.logout_everywhere": "signing out",
    "auth.sessions": "the officer's own sessions",
    "review.dashboard": "counts only",
    "review.exports": "the list of exports: counts and states (a held export whose undo window"
    " is over is made then, recording as review.create_export does)",
    "review.preview_export": "what the next export would take: counts by reason and outcome",
    "review.cancel_export": "cancels a held export: its cases wait again, nothing is read",
    "review.bulk_verval": "tickets, reasons and due dates of a desa's open cases; field checks",
    "review.reassign_page": "officers and the tickets of the open cases they hold",
    "review.reassign": "moves cases between officers: no family's data",
    "review.print_summary": "counts only",
    "review.messages": "messages to filers: tickets, masked contacts, states and errors",
    "review.retry_message": "queues a failed message to a filer again: no family's data",
    "review.contacts_home": "the Dinsos contact list",
    "review.contact": "a Dinsos office's contacts",
    "review.explanations": "the office's standard explanations of decisions: no family's data",
    "review.field_checks": "tickets and desa of the operator's open checks",
    "review.field_history": "tickets, dates and the operator's own findings: no DTSEN data",
    "review.take_next": "claims a case, then shows its case page (which records)",
    "review.claim": "claims a case, then shows its case page (which records)",
    "review.request_check": "asks for a field check, then shows the case page (which records)",
    "review.link": "links a household, then shows the case page (which records)",
}
