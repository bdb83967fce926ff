"""The workbook: what turns the notebooks into a reproducible set of results.

- notebook side: :func:`record` (metrics + provenance into ``metrics.json``),
  :func:`save_table`, :func:`save_figure`, :func:`expect_artifacts`,
  :func:`resolve_output_dir`, :func:`paper_table` / :func:`compare` / :class:`Missing`
  ("paper vs ours" tables);
- runner side: ``maskstyle run`` (:mod:`maskstyle.workbook.runner`), notebook conventions
  (:func:`notebook_problems`) and stripping (``python -m maskstyle.workbook.strip``).

The guide for series authors is ``notebooks/README.md``.
"""

import time

from maskstyle._lazy import lazy_exports

# record() reports the time since the notebook first imported the workbook as wall time.
STARTED_AT = time.monotonic()

_EXPORTS = {
    "record": ".provenance",
    "load_metrics": ".provenance",
    "collect_provenance": ".provenance",
    "save_table": ".artifacts",
    "save_figure": ".artifacts",
    "expect_artifacts": ".artifacts",
    "dataframe_to_markdown": ".artifacts",
    "compare": ".paper_tables",
    "Missing": ".paper_tables",
    "paper_table": ".paper_tables",
    "load_paper_table": ".paper_tables",
    "describe_provenance": ".paper_tables",
    "repo_root": ".paths",
    "resolve_output_dir": ".paths",
    "discover_series": ".series",
    "notebook_parameters": ".parameters",
    "notebook_problems": ".conventions",
    "strip_notebook": ".strip",
    "new_notebook": ".scaffold",
    "write_notebook": ".scaffold",
    "training_command": ".launch",
    "launch_training": ".launch",
    "plan_batch": ".runner",
    "run_batch": ".runner",
    "write_results_index": ".results_index",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = ["STARTED_AT", *sorted(_EXPORTS)]
