"""The vocabulary (``shared/vocabulary.py``) is the one place its words are written: the schemas' enums of causes,
bounds, verdicts, outcome statuses and fault knobs equal it, and no other module of the package spells its words."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import stallscope
from stallscope import schemas
from stallscope.shared import vocabulary as v

PACKAGE = Path(stallscope.__file__).resolve().parent

RUNS = "properties/runs/items/properties"
DIAGNOSIS = "properties/diagnosis/items/properties"


def _at(schema: str, path: str) -> Any:
    node: Any = schemas.load_schema(schema)
    for part in path.split("/"):
        node = node[part]
    return node


@pytest.mark.parametrize(("schema", "path", "names"), [
    ("claims.schema.json", f"{RUNS}/bound/properties/cause/enum", set(v.BOUNDS)),
    ("config.schema.yaml", "$defs/bound_name/enum", set(v.BOUNDS) - {v.UNKNOWN}),
    ("claims.schema.json", f"{DIAGNOSIS}/bottleneck/enum", {*v.CAUSES, v.NONE, v.UNKNOWN}),
    ("claims.schema.json", f"{DIAGNOSIS}/evidence_against/items/properties/cause/enum", {*v.CAUSES, v.NONE}),
    ("claims.schema.json", f"{RUNS}/expected_cause/enum", {*v.EXPECTED_CAUSES, None}),
    ("claims.schema.json", f"{DIAGNOSIS}/expected_cause/enum", {*v.EXPECTED_CAUSES, None}),
    ("manifest.schema.json", "properties/expected_cause/enum", {*v.EXPECTED_CAUSES, None}),
    ("metrics.schema.json", "properties/expected_cause/enum", {*v.EXPECTED_CAUSES, None}),
    ("config.schema.yaml", "properties/scenarios/additionalProperties/properties/expected_cause/enum",
     set(v.EXPECTED_CAUSES)),
    ("claims.schema.json", "properties/claims/items/properties/verdict/enum", set(v.VERDICTS)),
    ("claims.schema.json", "properties/claims/items/properties/trials/items/properties/verdict/enum", set(v.VERDICTS)),
    ("summary.schema.json", "properties/verdicts/items/properties/verdict/enum", set(v.VERDICTS)),
    ("metrics.schema.json", "properties/outcome/properties/status/enum", set(v.OUTCOME_STATUSES)),
    ("claims.schema.json", f"{RUNS}/outcome/enum", set(v.OUTCOME_STATUSES)),
    ("claims.schema.json", f"{DIAGNOSIS}/outcome/enum", set(v.OUTCOME_STATUSES)),
])
def test_a_schema_enum_equals_the_vocabulary(schema: str, path: str, names: set[Any]) -> None:
    enum = _at(schema, path)
    assert len(enum) == len(set(enum)), f"{schema} {path}: a name twice"
    assert set(enum) == names, f"{schema} {path}: {sorted(map(str, set(enum) ^ names))} differ"


def test_the_config_fault_knobs_are_the_vocabulary_s() -> None:
    assert set(_at("config.schema.yaml", "$defs/faults/properties")) == {k.name for k in v.FAULT_KNOBS}


def test_every_enum_naming_a_cause_or_verdict_is_checked() -> None:
    """A new enum of causes or verdicts in any schema names only vocabulary words (and the outcomes' statuses)."""
    words = {*v.BOUNDS, *v.CAUSES, *v.EXPECTED_CAUSES, *v.VERDICTS}
    telling = words - {v.UNKNOWN, v.NONE, v.HARNESS_ERROR, v.NOT_RUN}  # words other enums use as well
    found: list[tuple[str, list[Any]]] = []

    def walk(node: Any, name: str) -> None:
        if isinstance(node, dict):
            enum = node.get("enum")
            if isinstance(enum, list) and telling & {e for e in enum if isinstance(e, str)}:
                found.append((name, enum))
            for x in node.values():
                walk(x, name)
        elif isinstance(node, list):
            for x in node:
                walk(x, name)

    for path in sorted(schemas.SCHEMA_DIR.glob("*.schema.*")):
        walk(schemas.load_schema(path.name), path.name)
    assert len(found) >= 12
    for name, enum in found:
        assert {e for e in enum if e is not None} <= words, (name, enum)


def test_the_tables_agree() -> None:
    assert sorted(v.TIE_ORDER) == sorted(v.CAUSES)
    assert all(k.cause is None or k.cause in v.BOUNDS or k.cause in v.CAUSES for k in v.FAULT_KNOBS)
    assert set(v.SENDER_SHARES.values()) <= set(v.BOUNDS)
    assert set(v.VERDICTS_SHOWN) == set(v.VERDICTS)
    assert set(v.OUTCOME_STATUSES) >= {v.HARNESS_ERROR, v.UNKNOWN}
    assert v.knobs_of_role("runner") == ("stop_broker", "stop_after_s", "stop_for_s", "kill_broker", "kill_after_s",
                                         "cpu_hog")


# -- no module but the vocabulary spells its words ----------------------------------------------------------------
#: The words only ``shared/vocabulary.py`` may write: every cause and bound, verdict and fault knob, and the outcome
#: statuses but two whose spelling also names something else everywhere (``ack_timeout``: a log event's kind,
#: ``failed``: a trial's field).
WORDS = frozenset({*v.BOUNDS, *v.CAUSES, *v.EXPECTED_CAUSES, *v.VERDICTS, *(k.name for k in v.FAULT_KNOBS),
                   *v.OUTCOME_STATUSES} - {v.ACK_TIMEOUT, v.FAILED})

#: Where a word's spelling means something else, and so stays a literal: (word, why, {module: at most this many}).
#: A module may not use it more often than listed, and a listed module that no longer uses it must leave the list.
ELSEWHERE: tuple[tuple[str, str, dict[str, int]], ...] = (
    (v.NETWORK, "the scenario's and the manifest's ``network`` block (a config key), not the bound", {
        "experiment/config.py": 5, "experiment/placement.py": 1, "experiment/run.py": 4, "panel/assess.py": 1,
        "render/viewmodel.py": 2, "shared/manifest.py": 1, "targets.py": 1}),
    (v.NONE, "``phases.source``: no phase boundaries were found", {
        "analysis/metrics.py": 1, "analysis/phases.py": 3, "shared/signals.py": 2}),
    (v.NONE, "a report's word for an empty list", {
        "panel/predicates_env.py": 1, "render/runfacts.py": 1, "render/trials_view.py": 1, "render/viewmodel.py": 1}),
    (v.NONE, "a value on another program's command line or in its environment (srun --input, Embarcadero)", {
        "experiment/embarcadero.py": 1, "experiment/placement.py": 1}),
    (v.UNKNOWN, "the SUT's id when no commit is known", {
        "logs/layout.py": 1, "panel/assess.py": 1, "shared/manifest.py": 1, "shared/provenance.py": 1,
        "shared/rundir.py": 1, "targets.py": 1}),
    (v.UNKNOWN, "a consistency check's result when the counts it compares are not logged", {"analysis/checks.py": 8}),
    (v.UNKNOWN, "the stall timers' state when no line declares it", {
        "analysis/evidence.py": 2, "render/runfacts.py": 1}),
    (v.UNKNOWN, "the phase of a time that falls in none", {"analysis/phases.py": 2, "analysis/stalls.py": 1}),
    (v.UNKNOWN, "a report's word for a missing figure", {"panel/predicates_base.py": 1, "render/answer.py": 1}),
    (v.NOT_RUN, "the CPU sampling's status (``cpu.status``), not a claim's verdict", {
        "analysis/cpu.py": 1, "experiment/lifecycle.py": 1}),
    (v.FLOW_CONTROL, "a shipped scenario's name (config/config.yaml)", {"panel/kinds.py": 1}),
    (v.ACK_PATH, "a shipped scenario's name (config/config.yaml)", {"panel/kinds.py": 1}),
    (v.CPU_HOG, "a shipped scenario's name (config/config.yaml)", {"panel/kinds.py": 1}),
)


def _text_nodes(tree: ast.AST) -> set[int]:
    """The ids of the string nodes that are text, not names: docstrings (any string standing alone as a statement)
    and everything inside an f-string (a message)."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            skip.add(id(node.value))
        elif isinstance(node, ast.JoinedStr):
            skip.update(id(x) for x in ast.walk(node))
    return skip


def spelled_words(source: str, words: frozenset[str] = WORDS) -> list[tuple[int, str]]:
    """(line, word) of each string literal in ``source`` that is a vocabulary word, or a dotted key with one as a
    part (``faults.cpu_hog``); dict keys and call arguments count, docstrings and f-strings do not."""
    tree = ast.parse(source)
    skip = _text_nodes(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            hit = words & ({node.value} | (set(node.value.split(".")) if " " not in node.value else set()))
            found.extend((node.lineno, w) for w in sorted(hit))
    return sorted(found)


def test_no_module_but_the_vocabulary_spells_its_words() -> None:
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 100, "too few modules found: the test is looking in the wrong place"
    allowed: Counter[tuple[str, str]] = Counter()
    for word, _why, modules in ELSEWHERE:
        allowed.update({(word, m): n for m, n in modules.items()})
    seen: Counter[tuple[str, str]] = Counter()
    where: dict[tuple[str, str], list[int]] = {}
    for f in files:
        module = f.relative_to(PACKAGE).as_posix()
        if module == "shared/vocabulary.py":
            continue
        for line, word in spelled_words(f.read_text(encoding="utf-8")):
            seen[word, module] += 1
            where.setdefault((word, module), []).append(line)
    extra = [f"{m}:{','.join(map(str, where[w, m]))}: {w!r} ({n}, allowed {allowed[w, m]})"
             for (w, m), n in sorted(seen.items()) if n > allowed[w, m]]
    assert not extra, ("vocabulary words written as literals; import the constant from stallscope.shared.vocabulary"
                       " (or, where the spelling means something else, add it to ELSEWHERE with why):\n"
                       + "\n".join(extra))
    stale = [f"{m}: {w!r}" for (w, m) in sorted(allowed) if not seen[w, m]]
    assert not stale, "ELSEWHERE lists modules that no longer spell the word; remove them:\n" + "\n".join(stale)


def test_the_scan_sees_a_word_wherever_code_writes_it() -> None:
    """The rule itself: a word as a value, a dict key, an argument or a dotted key is seen; text is not."""
    src = ('"""A module naming flow_control."""\n'
           'SCORES = {"flow_control": 1}\n'
           'def f(run):\n'
           '    """Reads "ack_path"."""\n'
           '    x = run.get("faults.cpu_hog") or run.fault("kill_broker")\n'
           '    return f"{x} refuted" if x == "supported" else "broker_ring"\n')
    assert spelled_words(src) == [(2, "flow_control"), (5, "cpu_hog"), (5, "kill_broker"), (6, "broker_ring"),
                                  (6, "supported")]
    assert spelled_words('NOTE = "not a flow_control word"\n') == []
