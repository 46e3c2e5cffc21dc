"""dockerfile.py - reads the repository's Dockerfile into instructions and stages."""
import json
import os

from k8s_render import ROOT

DOCKERFILE = os.path.join(ROOT, "Dockerfile")


def instructions(text):
    """[(INSTRUCTION, arguments)] of a Dockerfile: comments dropped, continuations joined."""
    out, pending = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#") or (not stripped and not pending):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = (pending + stripped).strip()
        pending = ""
        if full:
            word, _, rest = full.partition(" ")
            out.append((word.upper(), rest.strip()))
    assert not pending, "the Dockerfile ends inside a continued line"
    return out


def stages(text):
    """Instructions grouped by stage: [[('FROM', ...), ...], ...]. Before the first FROM only
    ARG may stand (the arguments FROM lines use), and it belongs to no stage."""
    result = []
    for ins in instructions(text):
        if ins[0] == "FROM":
            result.append([])
        if not result:
            assert ins[0] == "ARG", f"{ins[0]} before the first FROM"
            continue
        result[-1].append(ins)
    return result


def exec_form(args):
    """The JSON array of an exec-form instruction (CMD ["a", "b"])."""
    value = json.loads(args)
    assert isinstance(value, list), f"{args} is not in exec form"
    return value


def last(stage, name):
    found = [args for ins, args in stage if ins == name]
    assert found, f"no {name} in the stage"
    return found[-1]
