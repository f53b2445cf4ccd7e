"""Canonical JSON, payload validation and payload policies (allow-list, masking).

Plain functions, testable without the ORM.
"""

import copy
import json
from functools import lru_cache

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

MASK = "***"


def canonical_json(payload):
    """Serialize ``payload`` the one way the suite signs and stores it: sorted keys, compact."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@lru_cache(maxsize=256)
def _validator(schema_text):
    schema = json.loads(schema_text)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def check_schema(schema_text):
    """Raise ``jsonschema.SchemaError`` or ``ValueError`` if ``schema_text`` is no JSON Schema."""
    _validator(schema_text)


def schema_errors(schema_text, payload):
    """Return ``None`` if ``payload`` is valid, else ``(json_path, message)`` of the best error."""
    error = best_match(_validator(schema_text).iter_errors(payload))
    if error is None:
        return None
    return error.json_path, error.message


def _paths(spec):
    return [part.strip() for part in (spec or "").replace("\n", ",").split(",") if part.strip()]


def _pick(source, parts):
    """Copy the value at ``parts`` (a split dotted path) out of ``source``, keeping the keys
    that lead to it; lists are walked element by element."""
    if isinstance(source, list):
        return [_pick(item, parts) or {} for item in source]
    if not isinstance(source, dict) or parts[0] not in source:
        return None
    if len(parts) == 1:
        return {parts[0]: copy.deepcopy(source[parts[0]])}
    inner = _pick(source[parts[0]], parts[1:])
    return None if inner is None else {parts[0]: inner}


def _merge(target, value):
    for key, item in value.items():
        if isinstance(item, dict) and isinstance(target.get(key), dict):
            _merge(target[key], item)
        elif isinstance(item, list) and isinstance(target.get(key), list):
            for index, element in enumerate(item):
                if isinstance(element, dict) and index < len(target[key]):
                    _merge(target[key][index], element)
        else:
            target[key] = item
    return target


def _mask(node, parts):
    if isinstance(node, list):
        for item in node:
            _mask(item, parts)
    elif isinstance(node, dict) and parts[0] in node:
        if len(parts) == 1:
            if node[parts[0]] not in (None, ""):
                node[parts[0]] = MASK
        else:
            _mask(node[parts[0]], parts[1:])


def apply_policy(payload, allowed_fields=None, masked_fields=None):
    """Return a copy of ``payload`` reduced to ``allowed_fields`` then with ``masked_fields``
    replaced by ``***``. Both are comma-separated dotted paths; a path through a list applies
    to each element::

        apply_policy({"a": 1, "lines": [{"sku": "X", "qty": 2}]}, "lines.sku")
        == {"lines": [{"sku": "X"}]}
    """
    allowed = _paths(allowed_fields)
    if allowed:
        result = {}
        for path in allowed:
            picked = _pick(payload, path.split("."))
            if picked is not None:
                _merge(result, picked)
    else:
        result = copy.deepcopy(payload)
    for path in _paths(masked_fields):
        _mask(result, path.split("."))
    return result
