"""schemathesis hooks for scripts/schemathesis.sh.

A PUT's `data.id`, when present, must equal the `{id}` in its path: a cross-field rule JSON
Schema cannot state, so generated cases would otherwise "fail" with the documented 400
id_mismatch. Where both are UUIDs the body takes the path's id; a case made invalid on purpose
elsewhere stays invalid.
"""

import re
import uuid

import schemathesis


def _is_uuid(value):
    try:
        uuid.UUID(value)
        return True
    except (TypeError, ValueError, AttributeError):
        return False


@schemathesis.hook
def before_call(context, case, **kwargs):
    if case.method.upper() != "PUT" or not isinstance(case.body, dict):
        return
    data = case.body.get("data")
    path_id = (case.path_parameters or {}).get("id")
    if isinstance(data, dict) and _is_uuid(data.get("id")) and _is_uuid(path_id):
        data["id"] = path_id




@schemathesis.hook
def filter_case(context, case):
    """Drops a case labelled valid whose header breaks its own parameter's `pattern`.

    schemathesis 4.32's coverage phase emits `If-Match: 0` (unquoted) in cases it labels
    schema-valid, although the parameter's pattern requires `"0"`; the server's correct 400
    invalid_header would then be reported as a valid request refused. Cases meant to be invalid
    keep every header, so the server's refusal of bad `If-Match` values is still checked.
    """
    meta = case.meta
    if meta is None or meta.generation.mode.name != "POSITIVE":
        return True
    for parameter in case.operation.headers:
        value = (case.headers or {}).get(parameter.name)
        pattern = parameter.definition.get("schema", {}).get("pattern")
        if isinstance(value, str) and pattern and re.search(pattern, value) is None:
            return False
    return True
