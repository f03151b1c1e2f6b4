"""The command line: the only place that knows about argv, exit codes and terminals.

Exit codes (mkverify/result.py, docs/exit-codes.md): 0 no violation, 1
violations, 2 bad input or usage, 3 incomplete, 4 internal error.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path
import sys
import traceback

import click

from . import __version__
from .diag import MkverifyError, SourceLoc, UsageError
from .result import EXIT_BAD_INPUT, EXIT_INCOMPLETE, EXIT_INTERNAL, exit_code, overall_verdict, run_to_json


def _default_models() -> list[Path]:
    root = Path("models")
    if not root.is_dir():
        raise UsageError(SourceLoc("models"), "no model given and no models/ directory here",
                         "run in the repository root, or name a model: mkverify check PATH")
    dirs = sorted({p.parent for p in root.rglob("*.c")})
    if not dirs:
        raise UsageError(SourceLoc("models"), "models/ holds no model (.c files)")
    return dirs


def _progress_printer(enabled: bool, label: str):
    if not enabled:
        return None
    from rich.console import Console
    console = Console(stderr=True)

    def show(states, transitions, depth, seconds, exchanged=None, memory=None):
        """memory: the bytes of a run spread over processes (--ray, summed over them); else this process's"""
        rate = states / seconds if seconds > 0 else 0.0
        try:
            import resource
            mem = memory / 2 ** 20 if memory is not None else \
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        except Exception:  # pragma: no cover - not on every platform
            mem = 0.0
        sent = f", {exchanged:,.1f} B/state exchanged" if exchanged is not None else ""
        console.print(f"[dim]{label}: {states:,} states, {rate:,.0f}/s, depth {depth}, {mem:,.0f} MiB{sent}[/dim]",
                      end="\r", highlight=False)
    return show


def _depth_printer(enabled: bool, label: str):
    """The z3 engine's progress: the depth it has reached, and the findings so far."""
    if not enabled:
        return None
    from rich.console import Console
    console = Console(stderr=True)

    def show(found, depth, bound, seconds):
        console.print(f"[dim]{label}: depth {depth}/{bound}, {found} finding{'s' if found != 1 else ''}, "
                      f"{seconds:,.1f} s[/dim]", end="\r", highlight=False)
    return show


def _size(text: str) -> int:
    """'4G', '500M', '64k' or a number of bytes."""
    units = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
    t = text.strip().lower().removesuffix("ib").removesuffix("b")
    num, unit = (t[:-1], t[-1]) if t and t[-1] in units else (t, "")
    try:
        value = float(num) * units[unit]
    except ValueError:
        value = -1
    if value <= 0:
        raise UsageError(SourceLoc("<command line>"), f"--max-memory {text!r} is not a size",
                         "give bytes or a number with K, M, G or T, e.g. --max-memory 4G")
    return int(value)


def _fail(e: MkverifyError) -> None:
    click.echo(e.render(), err=True)
    sys.exit(EXIT_BAD_INPUT)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mkverify")
def main():
    """mkverify: exhaustive checking of kernel object lifecycles."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: gcc-style diagnostics on stderr; json: one JSON document on stdout.")
@click.option("--engine", type=click.Choice(["native", "python", "z3"]), default="native", show_default=True,
              help="Exploration engine (native: the C enumerator; python: the reference explorer; z3: bounded "
                   "model checking to --depth, with k-induction for the spec's invariants).")
@click.option("--spec", "spec_path", type=click.Path(path_type=Path), default=None,
              help="Use this spec instead of looking one up (only with one model).")
@click.option("--cpus", type=click.IntRange(1, 64), default=None, help="Override bounds.cpus.")
@click.option("--max-states", type=click.IntRange(0), default=None,
              help="Stop after this many states (verdict incomplete, exit 3, unless a violation was found).")
@click.option("--depth", type=click.IntRange(0), default=None, help="Explore at most this many steps deep.")
@click.option("--progress/--no-progress", default=None,
              help="Show progress on stderr (default: on a terminal, unless CI is set).")
@click.option("--reduce-private/--no-reduce-private", default=None,
              help="Fold accesses to objects only the running thread can reach into its step (default: on; "
                   "the z3 engine explores without it).")
@click.option("--jobs", "-j", type=click.IntRange(1, 256), default=None,
              help="native: threads to explore with (default: the CPUs available).")
@click.option("--fingerprint", is_flag=True,
              help="native: store 64-bit fingerprints instead of whole states (prints the probability of a miss).")
@click.option("--symmetry/--no-symmetry", default=None,
              help="native: explore one state per renaming of the host CPUs and of the slots of each pool, "
                   "which are interchangeable (default: on).")
@click.option("--atomic-sections/--no-atomic-sections", "atomic", default=None,
              help="Let a step go on through accesses to data a held lock protects everywhere, and through "
                   "unlocks (default: on with the native engine, off with the reference).")
@click.option("--max-memory", type=str, default=None, metavar="SIZE",
              help="native: stop (verdict incomplete) when the exploration's memory passes SIZE, e.g. 4G or 500M.")
@click.option("--ray", "ray_address", is_flag=False, flag_value="local", default=None, metavar="[ADDRESS]",
              help="Spread the native engine's states over Ray actors, one per partition: without ADDRESS on a "
                   "Ray runtime started here, with one on the cluster there (pip install 'mkverify[distributed]'; "
                   "docs/distributed.md).")
@click.option("--partitions", type=click.IntRange(1, 4096), default=None,
              help="With --ray: partitions (actors) to spread the states over (default: the CPUs of this machine, "
                   "or of the cluster).")
@click.option("--timeout", type=click.FloatRange(0, min_open=True), default=None, metavar="SECONDS",
              help="Stop exploring after SECONDS of wall-clock time for the whole command (verdict incomplete, "
                   "exit 3, unless a violation was found); SIGINT and SIGTERM stop the same way.")
@click.option("--json", "json_file", type=click.Path(path_type=Path, dir_okay=False), default=None, metavar="FILE",
              help="Also write the JSON document of --format json to FILE (whole or not at all).")
@click.option("--sarif", type=click.Path(path_type=Path, dir_okay=False), default=None, metavar="FILE",
              help="Also write the findings as SARIF 2.1.0 (GitHub code scanning), traces as per-CPU thread flows.")
@click.option("--junit", type=click.Path(path_type=Path, dir_okay=False), default=None, metavar="FILE",
              help="Also write JUnit XML: one test case per model and check.")
@click.option("--markdown", type=click.Path(path_type=Path, dir_okay=False), default=None, metavar="FILE",
              help="Also write a Markdown report (mermaid diagrams), e.g. for a CI job summary.")
@click.option("--html", "html_dir", type=click.Path(path_type=Path, file_okay=False), default=None, metavar="DIR",
              help="Also write DIR/index.html: verdicts, lifecycle graphs, sequence charts of the traces.")
def check(paths, fmt, engine, spec_path, cpus, max_states, depth, progress, reduce_private, jobs, fingerprint,
          symmetry, atomic, max_memory, ray_address, partitions, timeout, json_file, sarif, junit, markdown, html_dir):
    """Check models (default: every model under models/) and report every violation."""
    from .limits import watch
    if timeout is not None and not math.isfinite(timeout):
        _fail(UsageError(SourceLoc("<command line>"), f"--timeout {timeout} is not a number of seconds",
                         "give seconds, e.g. --timeout 600"))
    reports = {"json": json_file, "sarif": sarif, "junit": junit, "markdown": markdown, "html": html_dir}
    with watch(timeout) as stop:
        try:
            results = _check_models(paths, engine, spec_path, cpus, max_states, depth, progress, reduce_private,
                                    jobs, fingerprint, symmetry, atomic, max_memory, stop, ray_address, partitions)
        except MkverifyError as e:
            if stop.signal:  # e.g. the preprocessor, killed by the same Ctrl-C
                click.echo(f"mkverify: {stop.reason()}", err=True)
                sys.exit(EXIT_INCOMPLETE)
            _fail(e)
        # still inside: a signal now no longer stops anything, and must not cut the output or a report short
        _print_results(results, fmt)
        try:
            _write_reports(results, reports)
        except MkverifyError as e:
            _fail(e)
    sys.exit(exit_code(overall_verdict(results)))


def _warn(text: str) -> None:
    click.echo(f"mkverify: warning: {text}", err=True)


def _write_reports(results, reports: dict) -> None:
    """The report files asked for (docs/reports.md), each written whole or not at all."""
    if not any(reports.values()):
        return
    from .report.common import repo_root, write_report
    root = repo_root()
    if reports.get("json"):
        write_report(reports["json"], json.dumps(run_to_json(results), indent=2) + "\n")
    if reports.get("sarif"):
        from .report.sarif import to_sarif
        write_report(reports["sarif"], json.dumps(to_sarif(results, root), indent=2) + "\n")
    if reports.get("junit"):
        from .report.junit import to_junit
        write_report(reports["junit"], to_junit(results, root))
    if reports.get("markdown"):
        from .report.markdown import to_markdown
        write_report(reports["markdown"], to_markdown(results, root))
    if reports.get("html"):  # last: it is the one that runs graphviz
        from .report.html import write_html
        write_html(results, reports["html"], root, _warn)


def _check_models(paths, engine="native", spec_path=None, cpus=None, max_states=None, depth=None, progress=None,
                  reduce_private=None, jobs=None, fingerprint=False, symmetry=None, atomic=None,
                  max_memory=None, stop=None, ray_address=None, partitions=None) -> list:
    """Load, explore and prove every model: the results `check` and `report` render."""
    from . import frontend
    if ray_address is not None and (engine != "native" or jobs is not None):
        raise UsageError(SourceLoc("<command line>"), "--ray spreads the native engine over processes, one "
                                                      "partition each: it goes with --engine native and without -j",
                         "set the number of partitions with --partitions N")
    if partitions is not None and ray_address is None:
        raise UsageError(SourceLoc("<command line>"), "--partitions goes with --ray", "add --ray [ADDRESS]")
    if engine != "native" and (jobs is not None or fingerprint or max_memory is not None or
                               symmetry is not None):
        raise UsageError(SourceLoc("<command line>"), "--jobs, --fingerprint, --symmetry and --max-memory go "
                                                      "with --engine native")
    if engine == "z3" and (reduce_private or atomic or max_states is not None):
        raise UsageError(SourceLoc("<command line>"), "the z3 engine explores the machine without reductions "
                                                      "and bounds it by depth, not by states",
                         "drop --reduce-private, --atomic-sections and --max-states; bound it with --depth K")
    reduce_private = reduce_private is not False
    memory_limit = _size(max_memory) if max_memory is not None else 0
    targets = list(paths) or _default_models()
    if spec_path is not None and len(targets) != 1:
        raise UsageError(SourceLoc("<command line>"), "--spec goes with exactly one model")
    models = [frontend.open_model(t, spec_path) for t in targets]
    programs = [frontend.build(m, {"cpus": cpus}) for m in models]
    # the flag proofs take well under a second: run them first, so a bad [flags] stops before exploring
    flag_outcomes = [_model_flags(m) for m in models]
    if progress is None:
        progress = sys.stderr.isatty() and not os.environ.get("CI")
    results = []
    for p in programs:
        show = _progress_printer(progress, p.name)
        if engine == "z3":
            from .engines.bmc import explore as bmc
            r = bmc(p, depth=depth or 0, progress=_depth_printer(progress, p.name), stop=stop)
        elif engine == "python":
            from .engines.reference import explore
            r = explore(p, max_states=max_states or 0, depth=depth or 0, progress=show,
                        reduce_private=reduce_private, atomic=bool(atomic), stop=stop)
        elif ray_address is not None:
            from .engines.distributed import explore as distributed
            r = distributed(p, partitions=partitions or 0, address=None if ray_address == "local" else ray_address,
                            max_states=max_states or 0, depth=depth or 0, progress=show,
                            reduce_private=reduce_private, fingerprint=fingerprint, max_memory=memory_limit,
                            symmetry=symmetry is not False, atomic=atomic is not False, stop=stop)
        else:
            from .engines.native import default_jobs, explore as native
            r = native(p, max_states=max_states or 0, depth=depth or 0, progress=show,
                       reduce_private=reduce_private, jobs=jobs or default_jobs(), fingerprint=fingerprint,
                       max_memory=memory_limit, symmetry=symmetry is not False, atomic=atomic is not False,
                       stop=stop)
        if progress:
            click.echo(" " * 79 + "\r", err=True, nl=False)
        if stop is not None and stop.signal and r.incomplete_reason.startswith("interrupted"):
            r.notes.append(f"stopped by {stop.signal}: the statistics and findings are those of the part explored")
        if flag_outcomes[len(results)] is not None:
            from .flags import merge
            merge(r, *flag_outcomes[len(results)])
        results.append(r)
    return results


def _model_flags(model):
    """(Outcome, header names) of a model's flag proofs, or None when its spec has no [flags]."""
    if model.spec.flags is None:
        return None
    from . import flags
    headers = flags.spec_headers(model.spec, flags.model_dir(model.spec, model.path))
    return flags.prove(headers, model.spec.flags, {}), ", ".join(h.name for h in headers)


def _print_results(results, fmt: str) -> None:
    """The report of `check` and `flags`: JSON on stdout, or gcc-style text on stderr."""
    if fmt == "json":
        click.echo(json.dumps(run_to_json(results), indent=2))
        return
    from .report.text import render, print_styled
    if sys.stderr.isatty() and not os.environ.get("CI"):
        print_styled(render(results))
    else:
        click.echo(render(results), err=True, nl=False)


@main.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--spec", "spec_path", type=click.Path(path_type=Path), default=None,
              help="A spec with a [flags] section: fields, ranges, sets and their validation.")
@click.option("--range", "ranges", multiple=True, metavar="MACRO=LO..HI",
              help="The values callers encode with the field MACRO (overrides the spec's range).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: gcc-style diagnostics on stderr; json: one JSON document on stdout.")
def flags(files, spec_path, ranges, fmt):
    """Prove the flag encodings of C headers or patches (docs/flags.md).

    FILE is a header, a patch (the post-image of its *.h hunks is read) or a
    directory (its .h files). Without FILE, the spec's headers are read."""
    from . import flags as fl
    from .spec import display_path, load_spec
    try:
        bounds = {}
        for text in ranges:
            name, rng, loc = fl.parse_range(text)
            bounds[name] = (rng, loc)
        spec = load_spec(spec_path) if spec_path is not None else None
        if files:
            paths = [h for f in files for h in fl.headers_of(f)]
        elif spec is not None:
            paths = fl.spec_headers(spec, fl.model_dir(spec, None))
        else:
            raise UsageError(SourceLoc("<command line>"), "no header given",
                             "mkverify flags FILE... (headers or patches), or --spec SPEC with a model")
        outcome = fl.prove(paths, spec.flags if spec is not None else None, bounds)
    except MkverifyError as e:
        _fail(e)
    name = ", ".join(dict.fromkeys(display_path(Path(f)) for f in (files or paths)))
    results = [fl.result(name, outcome)]
    _print_results(results, fmt)
    sys.exit(exit_code(overall_verdict(results)))


@main.command()
@click.option("--output", "-o", "out_dir", type=click.Path(path_type=Path, file_okay=False), default=Path("reports"),
              show_default=True, help="The directory to write the reports to.")
@click.option("--progress/--no-progress", default=None,
              help="Show progress on stderr (default: on a terminal, unless CI is set).")
def report(out_dir, progress):
    """Regenerate the reports of the shipped models (every model under models/): for each, NAME.txt and
    NAME.json (as `check` prints them), NAME.md, NAME.html, NAME.sarif and NAME.junit.xml, where NAME is
    its path under models/ with / as - (docs/reports.md)."""
    from .report.common import repo_root, write_report
    from .report.html import to_html
    from .report.junit import to_junit
    from .report.markdown import to_markdown
    from .report.sarif import to_sarif
    from .report.text import render
    try:
        targets = _default_models()
        root = repo_root()
        # one thread: the choice among equally short traces is then the same on every run (docs/engines.md)
        results = _check_models(targets, progress=progress, jobs=1)
        for target, r in zip(targets, results):
            name = "-".join(target.relative_to("models").parts)
            base = out_dir / name
            write_report(base.with_name(name + ".txt"), render([r]))
            write_report(base.with_name(name + ".json"), json.dumps(run_to_json([r]), indent=2) + "\n")
            write_report(base.with_name(name + ".md"), to_markdown([r], root))
            write_report(base.with_name(name + ".html"), to_html([r], root, _warn))
            write_report(base.with_name(name + ".sarif"), json.dumps(to_sarif([r], root), indent=2) + "\n")
            write_report(base.with_name(name + ".junit.xml"), to_junit([r], root))
            click.echo(f"mkverify: {r.model}: {r.verdict}: wrote {out_dir}/{name}.{{txt,json,md,html,sarif,junit.xml}}",
                       err=True)
    except MkverifyError as e:
        _fail(e)


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--spec", "spec_path", type=click.Path(path_type=Path), default=None)
@click.option("--json", "as_json", is_flag=True, help="Print the stable serialized form instead of text.")
def ir(path, spec_path, as_json):
    """Print a model's IR (text, or the serialized JSON form)."""
    from . import frontend, ir as irmod
    try:
        p = frontend.load(path, spec_path)
    except MkverifyError as e:
        _fail(e)
    if as_json:
        click.echo(json.dumps(irmod.to_json(p), indent=1, sort_keys=True))
    else:
        click.echo(irmod.print_program(p), nl=False)


def _emit(text: str, output, what: str) -> None:
    """`text` on stdout, or written whole to `output` (write_atomic); a file that cannot be written is bad
    usage (exit 2)."""
    if output is None:
        click.echo(text, nl=False)
        return
    from .report.common import write_atomic
    try:
        write_atomic(output, text)
    except OSError as e:
        raise UsageError(SourceLoc(str(output)), f"cannot write the {what}: {e.strerror or e}")


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--promela", is_flag=True, help="Write a Promela model for SPIN (the only format so far).")
@click.option("--output", "-o", "output", type=click.Path(path_type=Path), default=None,
              help="Write to this file instead of stdout.")
@click.option("--spec", "spec_path", type=click.Path(path_type=Path), default=None)
@click.option("--reduce-private/--no-reduce-private", default=True, show_default=True,
              help="Fold accesses to objects only the running thread can reach into its step, as `check` does.")
def export(path, promela, output, spec_path, reduce_private):
    """Export a model for another model checker, step for step (docs/promela.md)."""
    from . import frontend
    from .export.promela import to_promela
    try:
        if not promela:
            raise UsageError(SourceLoc("<command line>"), "name the format to export to",
                             "mkverify export --promela PATH")
        _emit(to_promela(frontend.load(path, spec_path), reduce_private=reduce_private), output, "model")
    except MkverifyError as e:
        _fail(e)


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--spec", "spec_path", type=click.Path(path_type=Path), default=None)
@click.option("--format", "fmt", type=click.Choice(["dot", "graphml"]), default="dot", show_default=True,
              help="dot: Graphviz; graphml: GraphML (networkx, yEd, Gephi).")
@click.option("--output", "-o", "output", type=click.Path(path_type=Path), default=None,
              help="Write to this file (atomically) instead of stdout.")
@click.option("--max-states", type=click.IntRange(1), default=None,
              help="Draw at most this many states (default: 2000, or the spec's bounds.max_states if smaller); "
                   "past it the partial graph is written and the exit code is 3.")
@click.option("--reduce-private/--no-reduce-private", default=True, show_default=True,
              help="Fold accesses to objects only the running thread can reach into its step, as `check` does.")
def graph(path, spec_path, fmt, output, max_states, reduce_private):
    """Write the explored state graph of a small model as DOT or GraphML (docs/output.md).

    The graph is a view, not a verdict: it exits 0 even when violating states
    are in it (run `mkverify check` for the verdict), 3 when a bound cut it short."""
    from . import frontend
    from .report.graph import DEFAULT_MAX_STATES, incomplete_message, state_graph, to_dot, to_graphml
    from .result import EXIT_INCOMPLETE
    try:
        p = frontend.load(path, spec_path)
        bound = max_states or min(DEFAULT_MAX_STATES, p.bounds.max_states or DEFAULT_MAX_STATES)
        g, complete = state_graph(p, max_states=bound, reduce_private=reduce_private)
        _emit(to_dot(g) if fmt == "dot" else to_graphml(g), output, "graph")
    except MkverifyError as e:
        _fail(e)
    if not complete:
        click.echo(f"mkverify: {p.name}: {incomplete_message(g)}", err=True)
        sys.exit(EXIT_INCOMPLETE)


_click_main = main.main


def _guarded_main(*args, **kwargs):
    """Bad input exits 2 with a message; anything else is a bug in mkverify: exit 4, never a bare traceback.

    Click runs outside its standalone mode, in which Ctrl-C would be "Aborted!" and exit 1, the code of
    violations: here an interrupt that gets this far (a second Ctrl-C, limits.py) is exit 3."""
    kwargs.setdefault("standalone_mode", False)
    try:
        rv = _click_main(*args, **kwargs)
    except SystemExit:
        raise
    except (KeyboardInterrupt, click.exceptions.Abort):
        click.echo("mkverify: interrupted", err=True)
        sys.exit(EXIT_INCOMPLETE)
    except click.ClickException as e:  # usage errors: click's message, exit 2
        e.show()
        sys.exit(e.exit_code)
    except RecursionError:
        click.echo("mkverify: error: the input is nested too deeply to process", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except Exception:
        click.echo("mkverify: internal error (a bug in mkverify, not in your model); please report it with "
                   "this trace:", err=True)
        click.echo(traceback.format_exc(), err=True)
        sys.exit(EXIT_INTERNAL)
    sys.exit(rv if isinstance(rv, int) else 0)


main.main = _guarded_main
