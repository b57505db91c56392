"""Fuzzing scenario files: a seeded mutation generator over the bundled scenarios.

Every mutated file must either validate or give exactly one line `error: ...` naming the file
where the fault is, with exit code 2: no traceback, and no validation slower than a few
seconds. The generator mutates keys, values, types, dates, table headers, nesting and the
`extends` chain (missing, circular, long, special files), and truncates or garbles the text.
Validation runs in process through the CLI's `main()` so that the whole test stays fast.
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import re
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sim.cli import main

from ..conftest import SCENARIOS

N_CASES = 600
SEED = 20240917
SLOW_SECONDS = 3.0

CHILDREN = ["bear_brigade_stays.toml", "no_bear_brigade.toml", "russian_restraint.toml",
            "africa_corps_exit.toml"]
VALUES = ['"0.5"', "true", "false", "-1", "0", "1", "2", "0.5", "1e308", "-1e308", "nan", "inf",
          "-inf", "[]", "{}", '"x"', '""', "[1, 2]", "[1.5, 2.5, 3.5]", '["a", 1]', "{a = 1}",
          "99999999999999999999", "2023-01-01", "0001-01-01", "9999-12-31", "1979-05-27T07:32:00Z",
          '"2024-08-30"', "12:00:00", '"Bamako"', '"Bamko"', '"jnim"', '"nosuchfaction"',
          "[12.6, -8.0]", "[50.0, 50.0]", '"#zzzzzz"', "'literal'", '"""multi"""', "0x10",
          "1_000", "+0.25", "-0.0", '"\\u00e9"']
DATES = ["2023-01-01", "2022-12-31", "2024-12-31", "2025-06-30", "1990-01-01", "1989-12-31",
         "2050-12-31", "2051-01-01", "0001-01-01", "9999-12-31", "2023-02-29", "2024-02-29",
         "2023-06-15", "2030-01-01", "2043-01-02"]


@dataclass
class Case:
    top: Path  # the file given to `sahel-sim validate`
    fault: str  # name of the file that was mutated (where an error must point)
    kind: str
    files: list[Path] = field(default_factory=list)


def _kv_lines(lines: list[str]) -> list[int]:
    return [i for i, line in enumerate(lines) if re.match(r"^\s*[A-Za-z_\"][^=]*=", line)]


def _mutate_text(rng: random.Random, text: str) -> tuple[str, str]:
    """One or more random mutations of a TOML text; returns (text, what was done)."""
    lines = text.splitlines()
    kinds = []
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        kind = rng.choice(["key", "value", "value", "type", "date", "delete", "duplicate",
                           "header", "nest", "swap", "truncate", "garbage", "unknown_key",
                           "remove_ids", "units_as_table"])
        kinds.append(kind)
        kv = _kv_lines(lines)
        if kind == "key" and kv:
            i = rng.choice(kv)
            key, sep, rest = lines[i].partition("=")
            k = list(key.strip())
            op = rng.choice(["drop", "swap", "add", "case"])
            if op == "drop" and len(k) > 1:
                del k[rng.randrange(len(k))]
            elif op == "swap" and len(k) > 2:
                j = rng.randrange(len(k) - 1)
                k[j], k[j + 1] = k[j + 1], k[j]
            elif op == "add":
                k.insert(rng.randrange(len(k) + 1), rng.choice("aeiorstx_"))
            else:
                k = list("".join(k).upper())
            lines[i] = "".join(k) + " " + sep + rest
        elif kind == "value" and kv:
            i = rng.choice(kv)
            key = lines[i].partition("=")[0]
            lines[i] = f"{key}= {rng.choice(VALUES)}"
        elif kind == "type" and kv:
            i = rng.choice(kv)
            key, _, value = lines[i].partition("=")
            value = value.strip()
            if value.startswith('"') and value.endswith('"') and len(value) > 1:
                value = value[1:-1] if rng.random() < 0.5 else f"[{value}]"
            else:
                value = f'"{value}"' if rng.random() < 0.6 else f"[{value}]"
            lines[i] = f"{key}= {value}"
        elif kind == "date":
            dated = [i for i in kv if re.search(r"\d{4}-\d{2}-\d{2}", lines[i])]
            if dated:
                i = rng.choice(dated)
                lines[i] = re.sub(r"\d{4}-\d{2}-\d{2}", rng.choice(DATES), lines[i], count=1)
        elif kind == "delete" and lines:
            del lines[rng.randrange(len(lines))]
        elif kind == "duplicate" and lines:
            i = rng.randrange(len(lines))
            lines.insert(i, lines[i])
        elif kind == "header":
            heads = [i for i, line in enumerate(lines) if line.startswith("[")]
            if heads:
                i = rng.choice(heads)
                inner = lines[i].strip("[] ")
                lines[i] = rng.choice([f"[{inner}.x]", f"[[{inner}]]", f"[{inner}",
                                       f"[{inner.split('.')[0]}]", "[]", f"[{inner}.{inner}]"])
        elif kind == "nest" and kv:
            i = rng.choice(kv)
            key, _, value = lines[i].partition("=")
            depth = rng.choice([2, 5, 20, 40, 200, 1200])
            if rng.random() < 0.5:
                value = "[" * depth + value.strip() + "]" * depth
            else:
                value = "{a = " * depth + value.strip() + "}" * depth
            lines[i] = f"{key}= {value}"
        elif kind == "swap" and len(lines) > 2:
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == "truncate":
            joined = "\n".join(lines)
            lines = joined[:rng.randrange(len(joined) + 1)].splitlines()
        elif kind == "garbage" and lines:
            i = rng.randrange(len(lines))
            lines[i] = lines[i] + rng.choice(["\x00", "\x7f", " = = ", "'''", "\\", "é", "\ufeff"])
        elif kind == "unknown_key":
            key = rng.choice(["foo", "restrant", "seeds"])
            lines.insert(rng.randrange(len(lines) + 1), f"{key} = {rng.choice(VALUES)}")
        elif kind == "remove_ids":
            ids = rng.sample(["bear_brigade", "bear_brigade_withdraws", "jnim_centre", "x",
                              "africa_corps_mali", "", "BEAR"], rng.randint(1, 3))
            lines.insert(1, f"remove_{rng.choice(['units', 'events'])} = "
                         + "[" + ", ".join(f'"{i}"' for i in ids) + "]")
        elif kind == "units_as_table":
            lines.append(rng.choice(["units = 5", "events = [1, 2]", "[units]", "factions = 1",
                                     "[[juntas]]", "parameters = []", "relations = 'x'"]))
    return "\n".join(lines) + ("\n" if rng.random() < 0.9 else ""), "+".join(kinds)


def make_case(rng: random.Random, folder: Path, originals: dict[str, str]) -> Case:
    folder.mkdir()
    base_text = originals["baseline.toml"]
    shape = rng.choice(["base", "child", "parent", "parent", "chain", "extends"])
    if shape == "base":  # the root file itself
        text, kind = _mutate_text(rng, base_text)
        top = folder / "baseline.toml"
        top.write_text(text, encoding="utf-8", errors="surrogateescape")
        return Case(top, top.name, kind)
    if shape == "child":  # a mutated counterfactual over an intact baseline
        name = rng.choice(CHILDREN)
        (folder / "baseline.toml").write_text(base_text, encoding="utf-8")
        text, kind = _mutate_text(rng, originals[name])
        top = folder / name
        top.write_text(text, encoding="utf-8")
        return Case(top, name, kind)
    if shape == "parent":  # an intact counterfactual over a mutated baseline
        name = rng.choice(CHILDREN)
        text, kind = _mutate_text(rng, base_text)
        (folder / "baseline.toml").write_text(text, encoding="utf-8")
        top = folder / name
        top.write_text(originals[name], encoding="utf-8")
        return Case(top, "baseline.toml", kind)
    if shape == "chain":  # a chain of files, one of them mutated
        n = rng.randint(2, 22)
        (folder / "baseline.toml").write_text(base_text, encoding="utf-8")
        names = [f"c{i}.toml" for i in range(n)]
        bad = rng.randrange(n)
        for i, name in enumerate(names):
            parent = names[i + 1] if i + 1 < n else "baseline.toml"
            text = f'extends = "{parent}"\nname = "c{i}"\n'
            kind = f"chain{n}"
            if i == bad:
                text, kind = _mutate_text(rng, text + '[factions.jnim]\nrestraint = 0.3\n')
                kind = f"chain{n}+{kind}"
                fault = name
            (folder / name).write_text(text, encoding="utf-8")
        return Case(folder / names[0], fault if n <= 16 else names[0], kind)
    # extends pointing somewhere odd
    target = rng.choice(["missing", "self", "cycle", "folder", "dev_zero", "fifo", "empty",
                         "number", "absolute", "big", "binary", "dev_null"])
    top = folder / "top.toml"
    extends = {"missing": '"nothere.toml"', "self": '"top.toml"', "cycle": '"other.toml"',
               "folder": '"sub"', "dev_zero": '"/dev/zero"', "fifo": '"pipe.toml"',
               "empty": '""', "number": "3", "absolute": f'"{folder / "baseline.toml"}"',
               "big": '"big.toml"', "binary": '"bin.toml"', "dev_null": '"/dev/null"'}[target]
    (folder / "baseline.toml").write_text(base_text, encoding="utf-8")
    (folder / "other.toml").write_text('extends = "top.toml"\n', encoding="utf-8")
    (folder / "sub").mkdir()
    if target == "fifo":
        os.mkfifo(folder / "pipe.toml")
    if target == "big":
        (folder / "big.toml").write_text("# " + "x" * (1 << 20) + "\n")
    if target == "binary":
        (folder / "bin.toml").write_bytes(bytes(rng.randrange(256) for _ in range(300)))
    top.write_text(f'extends = {extends}\nname = "t"\n', encoding="utf-8")
    fault = {"fifo": "pipe.toml", "big": "big.toml", "binary": "bin.toml"}.get(target, "top.toml")
    return Case(top, fault, f"extends-{target}")


def validate(path: Path) -> tuple[int | None, str, str, float, str | None]:
    out, err = io.StringIO(), io.StringIO()
    started = time.monotonic()
    crash = None
    code: int | None = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["validate", str(path)])
        except BaseException:  # any escape breaks the contract
            crash = traceback.format_exc()
    return code, out.getvalue(), err.getvalue(), time.monotonic() - started, crash


@pytest.mark.timeout(240)
def test_fuzzed_scenario_files_validate_or_give_one_line(tmp_path: Path) -> None:
    originals = {p.name: p.read_text(encoding="utf-8") for p in SCENARIOS.glob("*.toml")}
    rng = random.Random(SEED)
    counts = {"tried": 0, "valid": 0, "clean errors": 0, "tracebacks": 0, "hangs": 0,
              "bad messages": 0}
    problems: list[str] = []
    started = time.monotonic()
    for n in range(N_CASES):
        case = make_case(rng, tmp_path / f"case{n}", originals)
        code, out, err, seconds, crash = validate(case.top)
        counts["tried"] += 1
        label = f"case{n} ({case.kind})"
        if crash is not None or "Traceback" in err:
            counts["tracebacks"] += 1
            problems.append(f"{label}: traceback: {(crash or err)[-300:]}")
            continue
        if seconds > SLOW_SECONDS:
            counts["hangs"] += 1
            problems.append(f"{label}: took {seconds:.1f} s")
        if code == 0:
            assert out.startswith("ok: "), label
            counts["valid"] += 1
            continue
        message = err.rstrip("\n")
        # A required field missing is blamed on the file that writes its table: when the
        # parent's header is mangled, that is the child that still writes the table.
        named = case.fault in message or ("required field is missing" in message and any(
            f.name in message for f in case.top.parent.glob("*.toml")))
        ok = (code == 2 and message.count("\n") == 0 and message.startswith("error: ")
              and str(case.top) in message and named and ":None" not in message)
        if ok:
            counts["clean errors"] += 1
        else:
            counts["bad messages"] += 1
            problems.append(f"{label}: exit {code}: {message[:300]!r} (fault in {case.fault})")
    counts["seconds"] = round(time.monotonic() - started, 1)
    print(f"\nfuzz: {counts}")
    assert counts["tried"] >= 500
    assert counts["valid"] > 0 and counts["clean errors"] > 0
    assert problems == [], "\n".join(problems[:20])
