#!/usr/bin/env python3
"""Write traffic for scripts/fault.sh, recording every answer, then a verification pass.

`drive URL SECONDS THREADS LOG`: THREADS writers create payments with client-chosen ids and
update each once, for SECONDS; each request is one JSON line in LOG (time, op, id, version,
status, error_code, latency). Only the standard library, so it runs on any python3.

`report LOG KILLED_AT RESUMED_AT`: the outage's statuses and 503 latencies, the time to the
first success after the database is back; exits 1 on any 5xx other than 503 or transport error.

`verify URL LOG`: GETs every payment whose create or update was acknowledged (2xx) and checks it
is there with at least the acknowledged version and that version's amount; prints the figures
as JSON on stdout and exits 1 if any acknowledged write is missing.
"""

import http.client
import json
import sys
import threading
import time
import uuid
from urllib.parse import urlparse

ORGANISATION = str(uuid.uuid4())
TIMEOUT_S = 30


def connect(url):
    parsed = urlparse(url)
    return http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=TIMEOUT_S)


def call(connection, method, path, body=None):
    """One request; returns (status, parsed body or None). Reconnects after transport errors."""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    payload = json.dumps(body) if body is not None else None
    connection.request(method, path, body=payload, headers=headers)
    response = connection.getresponse()
    raw = response.read()
    try:
        return response.status, json.loads(raw) if raw else None
    except ValueError:
        return response.status, None


def document(payment_id, amount, version=None):
    data = {
        "id": payment_id,
        "organisation_id": ORGANISATION,
        "attributes": {"amount": amount, "currency": "GBP", "reference": "fault " + payment_id},
    }
    if version is not None:
        data["version"] = version
    return {"data": data}


def writer(url, deadline, log, lock):
    """Creates a payment, then updates it once; a write that was not acknowledged is retried
    as it was (the same id and content), so a create answered 503 but stored comes back 200."""
    connection = connect(url)
    step = None
    while time.time() < deadline:
        if step is None:
            amount = "%d.00" % (int(time.time() * 1000) % 100000 + 1)
            step = ("create", str(uuid.uuid4()), amount)
        op, payment_id, amount = step
        if op == "create":
            method, path, body = "POST", "/v1/payments", document(payment_id, amount)
        else:
            method, path = "PUT", "/v1/payments/" + payment_id
            body = document(payment_id, amount, 0)
        started = time.time()
        try:
            status, answer = call(connection, method, path, body)
            code = (answer or {}).get("error_code")
        except (OSError, http.client.HTTPException) as error:
            status, code = 0, type(error).__name__
            connection.close()
            connection = connect(url)
        record = {
            "t": started, "op": op, "id": payment_id, "status": status, "code": code,
            "amount": amount, "version": 0 if op == "create" else 1,
            "ms": round((time.time() - started) * 1000, 2),
        }
        with lock:
            log.write(json.dumps(record) + "\n")
        if op == "create" and status in (200, 201):
            step = ("update", payment_id, "7.77")
        elif op == "update" and (status == 200 or status == 409):
            # 409: an earlier unacknowledged attempt was applied after all.
            step = None
        elif status == 0:
            time.sleep(0.05)


def drive(url, seconds, threads, log_path):
    deadline = time.time() + float(seconds)
    lock = threading.Lock()
    with open(log_path, "w") as log:
        workers = [
            threading.Thread(target=writer, args=(url, deadline, log, lock))
            for _ in range(int(threads))
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()


def verify(url, log_path):
    acknowledged = {}
    records = [json.loads(line) for line in open(log_path)]
    for record in records:
        if 200 <= record["status"] < 300:
            known = acknowledged.get(record["id"])
            if known is None or record["version"] > known["version"]:
                acknowledged[record["id"]] = record
    connection = connect(url)
    missing, stale = [], []
    for payment_id, record in acknowledged.items():
        status, answer = call(connection, "GET", "/v1/payments/" + payment_id)
        if status != 200:
            missing.append((payment_id, status))
            continue
        data = answer["data"]
        if data["version"] < record["version"] or (
            data["version"] == record["version"] and data["attributes"]["amount"] != record["amount"]
        ):
            stale.append((payment_id, record["version"], data["version"]))
    figures = {
        "requests": len(records),
        "acknowledged_writes": sum(1 for r in records if 200 <= r["status"] < 300),
        "payments_verified": len(acknowledged) - len(missing) - len(stale),
        "missing": missing[:10],
        "missing_count": len(missing),
        "stale": stale[:10],
        "stale_count": len(stale),
    }
    print(json.dumps(figures))
    return 0 if not missing and not stale else 1


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else None


def report(log_path, killed_at, resumed_at):
    """Figures of the outage window [killed_at, resumed_at] and of the recovery after it."""
    killed_at, resumed_at = float(killed_at), float(resumed_at)
    records = [json.loads(line) for line in open(log_path)]
    outage = [r for r in records if killed_at <= r["t"] <= resumed_at]
    unavailable = [r["ms"] for r in outage if r["status"] == 503]
    statuses = {}
    for record in outage:
        key = "%s %s" % (record["status"], record["code"] or "")
        statuses[key] = statuses.get(key, 0) + 1
    after = sorted((r for r in records if r["t"] > resumed_at and 200 <= r["status"] < 300),
                   key=lambda r: r["t"])
    bad = [r for r in records if r["status"] >= 500 and r["status"] != 503 or r["status"] == 0]
    figures = {
        "outage_s": round(resumed_at - killed_at, 1),
        "outage_requests": len(outage),
        "outage_statuses": statuses,
        "unavailable_503": len(unavailable),
        "latency_503_ms": {
            "p50": percentile(unavailable, 0.5), "p99": percentile(unavailable, 0.99),
            "max": max(unavailable) if unavailable else None,
        },
        "first_2xx_after_resume_s": round(after[0]["t"] - resumed_at, 2) if after else None,
        "other_5xx_or_transport_errors": len(bad),
        "all_statuses": {},
    }
    for record in records:
        key = str(record["status"])
        figures["all_statuses"][key] = figures["all_statuses"].get(key, 0) + 1
    print(json.dumps(figures))
    non_503 = [r for r in outage if r["status"] not in (503,) and not 200 <= r["status"] < 300]
    return 0 if not bad and not non_503 else 1


if __name__ == "__main__":
    if sys.argv[1] == "drive":
        drive(*sys.argv[2:6])
    elif sys.argv[1] == "report":
        sys.exit(report(*sys.argv[2:5]))
    elif sys.argv[1] == "verify":
        sys.exit(verify(*sys.argv[2:4]))
    else:
        sys.exit("usage: fault_writer.py drive URL SECONDS THREADS LOG | report LOG KILLED_AT "
                 "RESUMED_AT | verify URL LOG")
