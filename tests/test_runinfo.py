"""The run's commit and branch, read from the repository's files, agree with git itself."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pytest_carbon import runinfo

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def git(cwd: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t", "HOME": str(cwd), "PATH": "/usr/bin:/bin:/usr/local/bin"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout.strip()


def as_git_says(cwd: Path) -> tuple[str | None, str | None]:
    sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True)
    branch = subprocess.run(["git", "rev-parse", "--abbrev-ref", "HEAD"], cwd=cwd, capture_output=True, text=True)
    name = branch.stdout.strip() if branch.returncode == 0 else ""
    return (sha.stdout.strip() or None if sha.returncode == 0 else None), (name if name and name != "HEAD" else None)


@pytest.fixture
def repo(tmp_path, monkeypatch):
    for var in ("GITHUB_HEAD_REF", "GITHUB_REF_NAME", "GIT_DIR", "GIT_WORK_TREE"):
        monkeypatch.delenv(var, raising=False)
    r = tmp_path / "repo"
    (r / "sub").mkdir(parents=True)
    git(r, "init", "-q", "-b", "work")
    (r / "f").write_text("1")
    git(r, "add", "f")
    git(r, "commit", "-q", "-m", "one")
    return r


def test_a_branch_a_subdirectory_packed_refs_a_detached_head_and_a_worktree(repo, tmp_path):
    cases = [repo, repo / "sub"]
    for cwd in cases:
        assert runinfo.read_head(cwd) is not None  # read from the files, no git started
        assert (runinfo.git_sha(cwd), runinfo.git_branch(cwd)) == as_git_says(cwd) == (git(repo, "rev-parse", "HEAD"), "work")
    git(repo, "pack-refs", "--all")  # no loose file for the branch any more
    assert not (repo / ".git/refs/heads/work").exists()
    assert runinfo.read_head(repo) == (git(repo, "rev-parse", "HEAD"), "work") == as_git_says(repo)
    (repo / "f").write_text("2")
    git(repo, "commit", "-q", "-am", "two")
    git(repo, "checkout", "-q", "--detach", "HEAD~1")
    assert runinfo.read_head(repo) == (as_git_says(repo)[0], None) and as_git_says(repo)[1] is None
    git(repo, "worktree", "add", "-q", str(tmp_path / "wt"), "-b", "other", "work")
    wt = tmp_path / "wt"
    assert (wt / ".git").is_file()
    assert runinfo.read_head(wt) == as_git_says(wt) == (git(repo, "rev-parse", "work"), "other")


def test_outside_a_repository_and_before_the_first_commit(tmp_path, monkeypatch):
    monkeypatch.delenv("GITHUB_HEAD_REF", raising=False)
    monkeypatch.delenv("GITHUB_REF_NAME", raising=False)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))  # git (and so read_head) stop here
    lone = tmp_path / "lone"
    lone.mkdir()
    monkeypatch.delenv("GIT_CEILING_DIRECTORIES")
    assert runinfo.read_head(lone) == (None, None)  # no .git up to / (nor would git find one)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    assert (runinfo.git_sha(lone), runinfo.git_branch(lone)) == as_git_says(lone) == (None, None)
    monkeypatch.delenv("GIT_CEILING_DIRECTORIES")
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    git(fresh, "init", "-q", "-b", "main")
    assert runinfo.read_head(fresh) is None  # an unborn branch: git is asked, and has no commit either
    assert runinfo.git_sha(fresh) is None and runinfo.git_sha(fresh) == as_git_says(fresh)[0]
