"""Load the dialect catalogue (catalogue.yaml) so that message forms live in data, not in code."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from stallscope import schemas
from stallscope.errors import StallscopeError
from stallscope.logs import values
from stallscope.logs.values import INT64

CATALOGUE_PATH = Path(__file__).with_name("catalogue.yaml")
_KV = re.compile(r"([A-Za-z_][\w.]*)=([^\s,()\[\]]+)")
_BROKER_COUNT = re.compile(r"\bB(\d+)=(\d+)(?:\(sent=(\d+),short=(\d+)\))?")
_TRUE = {"yes", "true", "1", "y"}
#: what stands in for a number in the loose form of a regex: any run of characters up to a separator
_LOOSE_NUMBER = r"[^\s,;()\[\]=]*?"
#: text right after a number that would make it another number (a fraction, a suffix, hex digits)
_NUMBER_GOES_ON = re.compile(r"[A-Za-z0-9_]|\.[0-9]", re.ASCII)


def auto_value(raw: str) -> int | float | str:
    """Turn a k=v value into an int or float when it is one, so fields compare as numbers."""
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        return float(raw) if re.fullmatch(r"-?\d+\.\d*(?:[eE][-+]?\d+)?", raw) else raw
    except ValueError:
        return raw


def parse_kv(text: str) -> dict[str, Any]:
    """Collect every ``name=value`` pair of a message (BrokerMetrics, TcpInfo, Fault lines)."""
    return {k: auto_value(v) for k, v in _KV.findall(text)}


def parse_broker_counts(text: str) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """Read ``B<i>=<n>`` lists; also the ``B<i>=<n>(sent=<n>,short=<n>)`` form of later builds."""
    counts: dict[str, int] = {}
    sent: dict[str, int] = {}
    short: dict[str, int] = {}
    for b, n, s, sh in _BROKER_COUNT.findall(text):
        counts[b] = int(n)
        if s:
            sent[b] = int(s)
            short[b] = int(sh)
    return counts, sent, short


def convert(raw: str | None, kind: str) -> Any:
    """Convert one captured group by its declared type; None stays None."""
    if kind == "flag":
        return raw is not None
    if raw is None:
        return None
    if kind == "int":
        return int(raw)
    if kind == "float":
        return float(raw)
    if kind == "bool":
        return raw.strip().lower() in _TRUE
    return raw


@dataclass(frozen=True)
class Recogniser:
    """One message form: key prefilter, regex and field types."""

    kind: str
    role: str
    key: str
    regex: re.Pattern[str]
    fields: tuple[tuple[str, str], ...]
    extras: tuple[re.Pattern[str], ...]
    aliases: tuple[tuple[str, str], ...]
    kv: bool
    broker_field: str | None
    limits: tuple[tuple[str, int, int], ...] = ()
    loose: re.Pattern[str] | None = None
    numeric: tuple[str, ...] = ()

    def match(self, text: str) -> dict[str, Any] | None:
        """Return the event fields if the message is of this form with every number in range, else None."""
        if not text.startswith(self.key):
            return None
        m = self.regex.match(text)
        if m is None:
            return None
        if self.out_of_range(m) is not None:
            return None
        out: dict[str, Any] = parse_kv(text) if self.kv else {}
        groups = m.groupdict()
        for name, kind in self.fields:
            if kind == "broker_counts":
                counts, sent, short = parse_broker_counts(groups.get(name) or "")
                out[name] = counts
                if sent:
                    out["sent"], out["short"] = sent, short
            elif name in groups:
                try:
                    out[name] = convert(groups[name], kind)
                except ValueError:
                    out[name] = None
        for pat in self.extras:
            em = pat.search(text)
            if em:
                for name, raw in em.groupdict().items():
                    out[name] = convert(raw, dict(self.fields).get(name, "str"))
        for src, dst in self.aliases:
            if out.get(dst) is None and out.get(src) is not None:
                out[dst] = out[src]
            out.pop(src, None)
        return out

    def out_of_range(self, m: re.Match[str]) -> str | None:
        """Name the first number of a match its field cannot hold (values.py): out of its limits (int64 unless
        the catalogue says more), not finite, a number ending the match that goes on in the text
        (``bytes_read=1.5`` is not 1), a key=value number or a ``B<i>=<n>`` count out of type."""
        tail = _NUMBER_GOES_ON.match(m.string, m.end())
        if tail is not None:
            for name, end in ((n, m.end(n)) for n in self.numeric if n in m.re.groupindex):
                if end == m.end() and m.group(name) is not None:
                    return f"{name}={m.group(name)[:40]}{tail.group(0)}... is not a valid number"
        bounds = {n: (lo, hi) for n, lo, hi in self.limits}
        kinds = dict(self.fields)
        for name in self.numeric:
            raw = m.group(name) if name in m.re.groupindex else None
            if raw is not None:
                why = values.problem(name, raw, kinds[name], *bounds.get(name, INT64))
                if why is not None:
                    return why
        if self.kv:
            pairs = dict(_KV.findall(m.string))
            for name, kind in self.fields:
                if name not in m.re.groupindex and name in pairs:
                    why = values.problem(name, pairs[name], kind, *bounds.get(name, INT64))
                    if why is not None:
                        return why
        for name, kind in self.fields:
            if kind == "broker_counts" and m.group(name) is not None:
                why = values.broker_counts_problem(name, m.group(name))
                if why is not None:
                    return why
        return None

    def misfit(self, text: str) -> str | None:
        """Why a message of this form cannot be read (a number out of type or range), or None when it is not
        of this form at all (then it is an ordinary unrecognised record)."""
        if not text.startswith(self.key):
            return None
        m = self.regex.match(text)
        if m is not None:
            return self.out_of_range(m)
        lm = self.loose.match(text) if self.loose is not None else None
        if lm is None:
            return None
        bounds = {n: (lo, hi) for n, lo, hi in self.limits}
        for name, kind in self.fields:
            raw = lm.groupdict().get(name)
            why = None if raw is None else values.problem(name, raw, kind, *bounds.get(name, INT64))
            if why is not None:
                return why
        return "a value out of type"


@dataclass(frozen=True)
class Banner:
    """The multi-line banner: title regex, field-line regex, label -> field name map."""

    kind: str
    role: str
    start: re.Pattern[str]
    field: re.Pattern[str]
    names: dict[str, str]
    types: dict[str, str]


@dataclass(frozen=True)
class Catalogue:
    """All recognisers and prefix-less line rules of the dialect."""

    recognisers: tuple[Recogniser, ...]
    continuation: tuple[tuple[str, re.Pattern[str]], ...]
    script: tuple[tuple[str, re.Pattern[str]], ...]
    banner: Banner

    def for_role(self, role: str) -> tuple[Recogniser, ...]:
        """Recognisers that apply to a broker or client log."""
        return tuple(r for r in self.recognisers if r.role in (role, "any"))


def _compile(path: Path, where: str, pattern: str, flags: int = 0) -> re.Pattern[str]:
    try:
        return re.compile(pattern, flags)
    except re.error as exc:
        raise StallscopeError(path, None, f"{where}: bad regex {pattern!r}: {exc}") from None


def _group_end(pattern: str, start: int) -> int:
    """Index just past the group that opens at ``pattern[start]`` (escapes and character classes skipped)."""
    depth, i, in_class = 0, start, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            if pattern[i + 1 : i + 2] == "]":
                i += 1
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ValueError("unbalanced group")


def loose_form(pattern: str, numeric: set[str]) -> str | None:
    """The regex with every numeric capture widened to any token: it matches the same wording with numbers
    out of type (``-5ms``, ``NaNms``, ``0x10ms``), which tells a malformed record of a form from another
    message. None when the regex has no numeric capture (then nothing can be out of type)."""
    out, i, changed = [], 0, False
    for m in re.finditer(r"\(\?P<([A-Za-z_]\w*)>", pattern):
        if m.start() < i or m.group(1) not in numeric or (m.start() > 0 and pattern[m.start() - 1] == "\\"):
            continue
        end = _group_end(pattern, m.start())
        out.append(pattern[i : m.start()] + f"(?P<{m.group(1)}>{_LOOSE_NUMBER})")
        i, changed = end, True
    if not changed:
        return None
    return "".join(out) + pattern[i:]


def _limits(r: dict[str, Any]) -> tuple[tuple[str, int, int], ...]:
    given = r.get("limits", {})
    out = []
    for name, kind in r["fields"].items():
        if kind == "int":
            lo, hi = given.get(name, [None, None])
            out.append((name, INT64[0] if lo is None else lo, INT64[1] if hi is None else hi))
    return tuple(out)


def build_catalogue(data: dict[str, Any], path: Path) -> Catalogue:
    """Validate catalogue data against catalogue.schema.yaml and compile its regexes."""
    schemas.validate(data, schemas.load_schema("catalogue.schema.yaml"), path)
    recs = []
    for i, r in enumerate(data["recognisers"]):
        where = f"recognisers[{i}] ({r['kind']})"
        # ASCII: a broker prints ASCII digits; Python's Unicode \d would read "١٢" as 12
        regex = _compile(path, where, r["regex"], re.ASCII)
        numeric = {n for n, k in r["fields"].items() if k in ("int", "float")}
        try:
            loose_src = loose_form(r["regex"], numeric)
        except ValueError:
            loose_src = None
        recs.append(
            Recogniser(
                kind=r["kind"],
                role=r["role"],
                key=r["key"],
                regex=regex,
                fields=tuple(r["fields"].items()),
                extras=tuple(_compile(path, where, e) for e in r.get("extras", [])),
                aliases=tuple(r.get("aliases", {}).items()),
                kv=bool(r.get("kv", False)),
                broker_field=r.get("broker_field"),
                limits=tuple(lim for lim in _limits(r) if lim[0] in regex.groupindex or r.get("kv")),
                numeric=tuple(sorted(numeric)),
                loose=None if loose_src is None else _compile(path, where + " (loose form)", loose_src, re.ASCII),
            )
        )
    b = data["banner"]
    banner = Banner(
        kind=b["kind"],
        role=b["role"],
        start=_compile(path, "banner.start", b["start"]),
        field=_compile(path, "banner.field", b["field"]),
        names=dict(b["names"]),
        types=dict(b["fields"]),
    )
    cont = tuple((p["name"], _compile(path, p["name"], p["regex"])) for p in data["continuation"])
    script = tuple((p["name"], _compile(path, p["name"], p["regex"])) for p in data["script"])
    return Catalogue(tuple(recs), cont, script, banner)


@lru_cache(maxsize=4)
def load_catalogue(path: Path = CATALOGUE_PATH) -> Catalogue:
    """Read, validate and compile the catalogue (once per process)."""
    try:
        data = schemas.load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise StallscopeError(path, None, f"cannot read the dialect catalogue: {exc}") from None
    return build_catalogue(data, path)
