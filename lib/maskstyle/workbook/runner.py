"""The batch runner behind ``maskstyle run``: plan the notebooks, execute them with papermill,
keep run state so that an interrupted batch resumes, and write the results index.

Layout under the results root (default ``<repo>/results``), per series and profile::

    <series>/<profile>/metrics.json, *.csv, *.md, *.png   written by the notebooks
    <series>/<profile>/run.json                            written here (committed)
    <series>/<profile>/executed/<notebook>.ipynb           executed copies (git-ignored)
    <series>/<profile>/executed/state.json                 skip-on-rerun state (git-ignored)

A notebook is skipped when it finished ``ok`` before with the same parameters, notebook file
and commit, unless ``force``; once one notebook of a series runs, the later ones of that
series run too (their inputs may have changed).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from maskstyle.workbook.parameters import coerce_value
from maskstyle.workbook.paths import repo_root
from maskstyle.workbook.provenance import git_commit
from maskstyle.workbook.results_index import RUN_FILE, write_results_index
from maskstyle.workbook.series import Series, discover_series, load_profile

EXECUTED_DIR = "executed"
STATE_FILE = "state.json"
KERNEL_NAME = "python3"
OK, FAILED, NOT_RUN = "ok", "failed", "not run"


class WorkbookError(ValueError):
    """A problem with what was asked (unknown series, parameter, profile): nothing ran."""


@dataclass
class Job:
    """One notebook to execute with its final parameters."""

    series: str
    profile: str
    notebook: Path
    parameters: dict[str, Any]
    output_dir: Path
    execution_timeout: float | None
    key: str = ""

    @property
    def executed_path(self) -> Path:
        return self.output_dir / EXECUTED_DIR / self.notebook.name


@dataclass
class JobResult:
    job: Job
    status: str  # ok | failed | not run
    ran: bool = False
    wall_time_s: float | None = None
    error: str | None = None


@dataclass
class BatchReport:
    results: list[JobResult] = field(default_factory=list)

    @property
    def failed(self) -> list[JobResult]:
        return [r for r in self.results if r.status == FAILED]

    @property
    def ok(self) -> bool:
        return all(r.status == OK for r in self.results)


def parse_sets(items: Iterable[str]) -> dict[str, str]:
    """``["name=value", ...]`` -> ``{name: value}`` (values stay text until coerced)."""
    sets: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip().isidentifier():
            raise WorkbookError(f"--set expects name=value, got {item!r}")
        sets[name.strip()] = value
    return sets


def select_series(available: Mapping[str, Series], names: Iterable[str]) -> list[Series]:
    names = list(names)
    if not names:
        raise WorkbookError(f"name the series to run, or 'all'; available: {sorted(available)}")
    if "all" in names:
        return list(available.values())
    unknown = [n for n in names if n not in available]
    if unknown:
        raise WorkbookError(f"unknown series {unknown}; available: {sorted(available)}")
    return [available[n] for n in dict.fromkeys(names)]


def plan_batch(
    series_names: Iterable[str],
    profile: str,
    *,
    notebooks_root: str | os.PathLike | None = None,
    out_root: str | os.PathLike | None = None,
    sets: Mapping[str, str] | None = None,
    seed: int | None = None,
    execution_timeout: float | None = None,
) -> list[Job]:
    """The jobs of a batch, checked: unknown series, profile or ``--set`` name is an error
    before any kernel starts. Parameters, lowest to highest precedence: the notebook's
    defaults, the profile (``cpu.yaml`` or ``paper.yaml``), ``sets``; ``profile``,
    ``output_dir`` and ``seed`` (``seed`` argument > profile seed > notebook default) are
    always passed."""
    root = Path(notebooks_root) if notebooks_root else repo_root() / "notebooks"
    out = Path(out_root) if out_root else repo_root() / "results"
    try:
        chosen = select_series(discover_series(root), series_names)
    except (ValueError, FileNotFoundError) as err:
        raise WorkbookError(str(err)) from err
    broken = [s.error for s in chosen if s.error]
    if broken:
        raise WorkbookError("; ".join(broken))
    sets = dict(sets or {})
    known = sorted(set().union(*(s.known_parameters() for s in chosen)))
    reserved = [n for n in sets if n in ("profile", "output_dir")]
    if reserved:
        raise WorkbookError(f"--set cannot change {reserved}; use --profile / --out")
    unknown = [n for n in sets if n not in known]
    if unknown:
        raise WorkbookError(
            f"unknown parameter(s) {unknown} for series {[s.name for s in chosen]}; the "
            f"notebooks' parameters cells declare: {known}"
        )
    commit, _ = git_commit()
    jobs: list[Job] = []
    for series in chosen:
        try:
            prof = load_profile(series, profile)
        except ValueError as err:
            raise WorkbookError(str(err)) from err
        output_dir = (out / series.name / profile).resolve()
        for nb in series.notebooks:
            defaults = series.parameters[nb.name]
            params: dict[str, Any] = {}
            params.update({k: v for k, v in prof.shared.items() if k in defaults})
            params.update(prof.per_notebook.get(nb.name, {}))
            for name, value in params.items():
                try:
                    params[name] = coerce_value(
                        name, value, defaults[name], origin=f"{profile}.yaml"
                    )
                except ValueError as err:
                    raise WorkbookError(f"{nb}: {err}") from err
            for name, raw in sets.items():
                if name in defaults:
                    try:
                        params[name] = coerce_value(name, raw, defaults[name])
                    except ValueError as err:
                        raise WorkbookError(f"{nb}: {err}") from err
            chosen_seed = seed if seed is not None else params.pop("seed", None)
            if chosen_seed is None:
                chosen_seed = prof.seed if prof.seed is not None else defaults["seed"]
            params.update(profile=profile, output_dir=str(output_dir), seed=chosen_seed)
            timeout = execution_timeout if execution_timeout is not None else prof.execution_timeout
            job = Job(series.name, profile, nb, params, output_dir, timeout)
            job.key = _job_key(job, commit)
            jobs.append(job)
    return jobs


def execute_with_papermill(job: Job) -> None:
    """Run ``job.notebook`` into ``job.executed_path`` (kernel ``python3`` = this Python,
    working directory = the notebook's folder). Raises on a failing cell; papermill has
    then already written the executed copy with the error."""
    import papermill

    job.executed_path.parent.mkdir(parents=True, exist_ok=True)
    papermill.execute_notebook(
        str(job.notebook),
        str(job.executed_path),
        parameters=job.parameters,
        kernel_name=KERNEL_NAME,
        cwd=str(job.notebook.parent),
        execution_timeout=int(job.execution_timeout) if job.execution_timeout else None,
        progress_bar=False,
        log_output=False,
        request_save_on_cell_execute=True,
    )


def run_batch(
    jobs: list[Job],
    *,
    fail_fast: bool = False,
    force: bool = False,
    progress: bool = True,
    execute: Callable[[Job], None] | None = None,
    out_root: str | os.PathLike | None = None,
) -> BatchReport:
    """Execute ``jobs`` in order (a tqdm bar over notebooks), skipping finished ones, and
    write each series' ``run.json``, the run state and the results index ``README.md`` of
    ``out_root`` (default: the parent of the jobs' series folders). ``execute`` runs one
    job (default :func:`execute_with_papermill`)."""
    from tqdm.auto import tqdm

    execute = execute or execute_with_papermill
    report = BatchReport()
    stop = False
    series_failed: set[tuple[str, str]] = set()
    series_ran: set[tuple[str, str]] = set()
    bar = tqdm(total=len(jobs), unit="notebook", disable=not progress, file=sys.stderr)
    try:
        for job in jobs:
            ident = (job.series, job.profile)
            bar.set_description(f"{job.series}/{job.notebook.name}")
            state = _load_state(job)
            previous = state.get(job.notebook.name, {})
            if stop or ident in series_failed:
                report.results.append(JobResult(job, NOT_RUN))
            elif (
                not force
                and ident not in series_ran
                and previous.get("status") == OK
                and previous.get("key") == job.key
                and job.executed_path.is_file()
            ):
                report.results.append(
                    JobResult(job, OK, ran=False, wall_time_s=previous.get("wall_time_s"))
                )
            else:
                series_ran.add(ident)
                result = _run_one(job, state, execute)
                report.results.append(result)
                if result.status == FAILED:
                    series_failed.add(ident)
                    stop = fail_fast
            bar.update(1)
    finally:
        bar.close()
        done = {id(r.job) for r in report.results}
        report.results += [JobResult(j, NOT_RUN) for j in jobs if id(j) not in done]
        _write_run_files(report)
        roots = {Path(out_root)} if out_root else {j.output_dir.parent.parent for j in jobs}
        for root in roots:
            write_results_index(root)
    return report


def _run_one(job: Job, state: dict[str, Any], execute: Callable[[Job], None]) -> JobResult:
    entry = {"status": "running", "key": job.key, "started": _now()}
    state[job.notebook.name] = entry
    _save_state(job, state)
    start = time.monotonic()
    error: str | None = None
    try:
        execute(job)
    except KeyboardInterrupt:
        entry.update(status="interrupted", wall_time_s=round(time.monotonic() - start, 3))
        _save_state(job, state)
        raise
    except Exception as err:  # a failing notebook must not stop the batch
        error = _describe_error(err)
    wall = round(time.monotonic() - start, 3)
    entry.update(status=FAILED if error else OK, wall_time_s=wall, finished=_now(), error=error)
    _save_state(job, state)
    return JobResult(job, FAILED if error else OK, ran=True, wall_time_s=wall, error=error)


def _describe_error(err: BaseException) -> str:
    ename, evalue = getattr(err, "ename", None), getattr(err, "evalue", None)
    if ename:
        count = getattr(err, "exec_count", None)
        return f"{ename}: {evalue} (cell [{count}])"
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[-1] if text else ''}"


def _write_run_files(report: BatchReport) -> None:
    groups: dict[tuple[str, str], list[JobResult]] = {}
    for result in report.results:
        groups.setdefault((result.job.series, result.job.profile), []).append(result)
    commit, dirty = git_commit()
    for (series, profile), results in groups.items():
        statuses = {r.status for r in results}
        status = FAILED if FAILED in statuses else (OK if statuses == {OK} else "incomplete")
        out_dir = results[0].job.output_dir
        doc = {
            "series": series,
            "profile": profile,
            "status": status,
            "commit": commit,
            "dirty": dirty,
            "date": _now(),
            "wall_time_s": round(sum(r.wall_time_s or 0.0 for r in results), 3),
            "notebooks": [
                {
                    "notebook": r.job.notebook.name,
                    "status": r.status,
                    "ran_this_time": r.ran,
                    "wall_time_s": r.wall_time_s,
                    "error": r.error,
                    "executed": f"{EXECUTED_DIR}/{r.job.notebook.name}",
                    "parameters": {
                        **r.job.parameters,
                        "output_dir": f"<results>/{series}/{profile}",
                    },
                }
                for r in results
            ],
        }
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / RUN_FILE).write_text(json.dumps(doc, indent=2, default=str) + "\n")


def _job_key(job: Job, commit: str | None) -> str:
    notebook_sha = hashlib.sha256(job.notebook.read_bytes()).hexdigest()
    payload = {"parameters": job.parameters, "notebook": notebook_sha, "commit": commit}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _state_path(job: Job) -> Path:
    return job.output_dir / EXECUTED_DIR / STATE_FILE


def _load_state(job: Job) -> dict[str, Any]:
    path = _state_path(job)
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError:
        return {}  # a state torn by a crash: run again


def _save_state(job: Job, state: dict[str, Any]) -> None:
    path = _state_path(job)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2) + "\n")
    tmp.replace(path)


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
