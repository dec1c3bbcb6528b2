"""The Dockerfile, parsed (Docker cannot build here): official Ray GPU base, installs
distlm with extras, copies and declares no credentials, has a WORKDIR and a CMD."""
from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import List, Tuple

import pytest

import deploy_manifests as dm

DOCKERFILE = dm.REPO / "Dockerfile"
DOCKERIGNORE = dm.REPO / ".dockerignore"
RAY_GPU_TAG = re.compile(r"^rayproject/ray(-ml)?:(?P<ver>\d+\.\d+\.\d+)(-py3\d+)?-(gpu|cu\d+)$")
CREDENTIAL_NAMES = re.compile(r"(?i)(secret|passw|token|credential|\.aws|\.kube|\.env\b|\.pem$"
                              r"|id_rsa|\.key$|aws_access|aws_secret)")


def instructions(text: str) -> List[Tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs; comments dropped, continuations joined."""
    out: List[Tuple[str, str]] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1].rstrip() + " "
            continue
        full = (pending + stripped).strip()
        pending = ""
        word, _, rest = full.partition(" ")
        out.append((word.upper(), rest.strip()))
    if pending:
        raise ValueError(f"{DOCKERFILE}: dangling line continuation")
    return out


@pytest.fixture(scope="module")
def steps() -> List[Tuple[str, str]]:
    assert DOCKERFILE.is_file(), f"{DOCKERFILE} is missing"
    return instructions(DOCKERFILE.read_text())


def test_parser_joins_continuations_and_drops_comments() -> None:
    text = "# c\nFROM a:b\nRUN x \\\n  # inner\n  && y\n"
    assert instructions(text) == [("FROM", "a:b"), ("RUN", "x && y")]


def test_base_is_an_official_ray_gpu_image_matching_our_ray(steps) -> None:
    froms = [[w for w in args.split() if not w.startswith("--")][0]
             for ins, args in steps if ins == "FROM"]
    assert len(froms) == 1, f"expected one build stage, got FROM {froms}"
    match = RAY_GPU_TAG.match(froms[0])
    assert match, f"{froms[0]!r} is not an official rayproject GPU tag"
    import ray

    assert match["ver"] == ray.__version__, "image Ray must equal the Ray the code is tested with"


def test_installs_the_package_with_extras(steps) -> None:
    runs = " ".join(args for ins, args in steps if ins == "RUN")
    assert re.search(r"pip install [^&;]*\"?\.\[faces[^\]]*\]\"?", runs), runs
    assert "--no-cache-dir" in runs


def test_copies_only_existing_sources_and_no_credentials(steps) -> None:
    for ins, args in steps:
        if ins not in ("COPY", "ADD"):
            continue
        assert ins == "COPY", "ADD can fetch URLs and unpack archives: use COPY"
        words = [w for w in shlex.split(args) if not w.startswith("--")]
        for src in words[:-1]:
            assert src not in (".", "./"), "COPY of the whole context: list what is needed"
            assert not CREDENTIAL_NAMES.search(src), f"COPY of a credentials-like file {src}"
            assert (dm.REPO / src).exists(), f"COPY source {src} does not exist in the repo"


def test_no_secrets_in_arg_or_env(steps) -> None:
    for ins, args in steps:
        if ins in ("ARG", "ENV"):
            names = re.findall(r"([A-Za-z_][A-Za-z0-9_]*)(?==|\s|$)", args)
            bad = [n for n in names if re.search(r"(?i)secret|key|token|passw|credential", n)]
            assert not bad, f"{ins} {args}: secrets must come from the runtime environment"


def test_has_workdir_and_default_command(steps) -> None:
    kinds = [ins for ins, _ in steps]
    assert "WORKDIR" in kinds
    assert "CMD" in kinds or "ENTRYPOINT" in kinds
    workdir = [a for i, a in steps if i == "WORKDIR"][-1]
    assert workdir.startswith("/") and workdir != "/"


def test_dockerignore_excludes_envs_data_runs_and_credentials() -> None:
    lines = {ln.strip() for ln in DOCKERIGNORE.read_text().splitlines()
             if ln.strip() and not ln.startswith("#")}
    for needed in (".venv", "data", "runs", ".git", ".env", ".aws", "*.pem"):
        assert needed in lines, f".dockerignore should exclude {needed}"
