"""Reporting: the header, the compact tables (100 columns), the full table, notes, JSON, the plot.

The compact tables (the default output, and the README's) have one table
per operation, holding only the ratios that have a target.  The full table
(``--markdown``) and the JSON (``--json``) have every time and every ratio.
"""

import textwrap

from .cases import PEERS

WIDTH = 100  # the terminal the compact tables fit


def fmt_ms(seconds):
    if seconds is None:
        return "-"
    ms = seconds * 1e3
    if ms >= 100:
        return f"{ms:.0f}"
    if ms >= 10:
        return f"{ms:.1f}"
    if ms >= 0.1:
        return f"{ms:.2f}"
    return f"{ms:.3f}"


def fmt_ratio(r):
    if r is None:
        return "-"
    if r >= 100:
        return f"{r:.0f}"
    if r >= 0.01:
        return f"{r:.2f}"
    return f"{r:.4f}"


def _short_dtype(dtype):
    return {"float64": "f64", "float32": "f32"}.get(dtype, dtype)


def _target_name(t):
    return ("" if t["ours"] == "ours" else t["ours"]) + "/" + t["peer"]


def print_header(meta):
    print(f"machine:  {meta['platform']}; {meta['cpu']}; {meta['cores']} cores "
          f"({meta['usable_cores']} usable)")
    print(f"date:     {meta['date']}; load average {meta['load_average']} at the start")
    print(f"versions: python {meta['python']}, numpy {meta['numpy']}, "
          f"torch {meta['torch'] or '(not used)'}, im2col_ext {meta['im2col_ext']}")
    ours = meta["backend"] + ("" if meta["backend"] == "c" else " (extension not built)")
    print(f"backend:  ours = {ours}; threads {meta['threads']} (im2col_ext, torch)")
    print(f"BLAS:     {meta['blas_threads']}")


def print_table(header, rows, markdown=False, align=None):
    """A plain-text table with aligned columns, or a Markdown one.

    ``align`` has one letter per column, "l" or "r" (default: the first three
    columns left, the others right).
    """
    align = align or "lll" + "r" * (len(header) - 3)
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join(" ---: " if a == "r" else " --- " for a in align) + "|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
        return
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]

    def line(cells):
        return "  ".join(str(c).rjust(wd) if a == "r" else str(c).ljust(wd)
                         for c, wd, a in zip(cells, widths, align)).rstrip()

    print(line(header))
    print("  ".join("-" * wd for wd in widths))
    for row in rows:
        print(line(row))


# --------------------------------------------------------------------------
# the full table
# --------------------------------------------------------------------------

FULL_HEADER = (["case", "shape", "dtype", "ours ms"] + [f"{p} ms" for p in PEERS]
               + [f"/{p}" for p in PEERS] + ["target", "met"])
FULL_ALIGN = "lll" + "r" * (1 + 2 * len(PEERS)) + "ll"


def _fmt_targets(case):
    parts, met = [], []
    for t in case.target_results():
        parts.append(f"{_target_name(t)}<={t['limit']:g}")
        if t["met"] is None:
            met.append(f"n/a ({t['note']})")
        else:
            met.append("yes" if t["met"] else f"NO ({fmt_ratio(t['ratio'])})")
    return ", ".join(parts) or "-", ", ".join(met) or "-"


def full_rows(cases):
    rows = []
    for case in cases:
        if "ours" in case.skipped:
            continue
        ratios = case.ratios()
        target, met = _fmt_targets(case)
        rows.append([case.op, case.label, case.dtype, fmt_ms(case.medians.get("ours"))]
                    + [fmt_ms(case.medians.get(p)) for p in PEERS]
                    + [fmt_ratio(ratios.get(p)) for p in PEERS] + [target, met])
    return rows


# --------------------------------------------------------------------------
# the compact tables
# --------------------------------------------------------------------------

def _cell(t):
    """A target's ratio; ``NO`` after a miss, in parentheses where the target does not apply."""
    r = fmt_ratio(t["ratio"])
    if t["ratio"] is None:
        return r
    if t["met"] is None:
        return f"({r})"
    return r if t["met"] else f"{r} NO"


def compact_tables(cases):
    """``[(title, legend, header, rows)]``: one table per operation, the targets' ratios only."""
    groups = {}
    for case in cases:
        if "ours" not in case.skipped:
            groups.setdefault(case.op, []).append(case)
    tables = []
    for op, group in groups.items():
        names, limits = [], {}
        for case in group:
            for target, t in zip(case.targets, case.target_results()):
                name = _target_name(t)
                if name not in names:
                    names.append(name)
                limit = f"{t['limit']:g}" + (" for cols >= 10 MB" if target.min_bytes else "")
                limits.setdefault(name, {}).setdefault(limit, []).append(case.dtype)
        legend = []
        for name in names:
            by_limit = limits[name]
            if len(by_limit) == 1:
                legend.append(f"{name} <= {next(iter(by_limit))}")
            else:
                legend.append(f"{name} <= " + ", ".join(
                    f"{lim} ({'/'.join(sorted(set(map(_short_dtype, dts))))})"
                    for lim, dts in by_limit.items()))
        header = ["shape", "dtype", "ours ms"] + names
        rows = []
        for case in group:
            results = {_target_name(t): t for t in case.target_results()}
            rows.append([case.label, _short_dtype(case.dtype), fmt_ms(case.medians.get("ours"))]
                        + [_cell(results[n]) if n in results else "-" for n in names])
        tables.append((op, "targets: " + "; ".join(legend), header, rows))
    return tables


def print_compact(cases, markdown=False):
    for title, legend, header, rows in compact_tables(cases):
        print(f"{title} -- " + "\n".join(textwrap.wrap(legend, WIDTH - len(title) - 4,
                                                     subsequent_indent="  ")))
        print_table(header, rows, markdown, "ll" + "r" * (len(header) - 2))
        print()


def print_notes(cases):
    """Skipped cases and peers, result mismatches, and the target summary."""
    for c in cases:
        if "ours" in c.skipped:
            print(f"skipped: {c.op} {c.label} {c.dtype}: {c.skipped['ours']}")
    reasons = {}
    for c in cases:
        for peer, why in c.skipped.items():
            if peer != "ours":
                reasons.setdefault((peer, why), []).append(f"{c.op} {c.label} {c.dtype}")
    for (peer, why), where in reasons.items():
        print(f"peer {peer} not timed in {len(where)} case(s): {why}"
              + ("" if len(where) > 3 else f" [{'; '.join(where)}]"))
    for c in cases:
        if c.mismatches:
            print(f"WARNING: results differ from ours: {', '.join(c.mismatches)} in "
                  f"{c.op} {c.label} {c.dtype}")
    met = missed = 0
    for c in cases:
        for t in c.target_results():
            if t["met"] is True:
                met += 1
            elif t["met"] is False:
                missed += 1
                print(f"missed: {c.op} {c.label} {_short_dtype(c.dtype)}: {_target_name(t)} "
                      f"{fmt_ratio(t['ratio'])} > {t['limit']:g}")
    print(f"targets: {met} met, {missed} missed (of {met + missed} that apply)")


def print_threads(rows, markdown=False):
    if not rows:
        return
    print("\nC kernels on 1 vs 2 threads (ratio = t2/t1; 0.5 is perfect scaling):")
    print_table(["kernel", "shape", "dtype", "1 thread ms", "2 threads ms", "t2/t1"],
                [[r["op"], r["shape"], r["dtype"], fmt_ms(r["t1_ms"] / 1e3),
                  fmt_ms(r["t2_ms"] / 1e3), fmt_ratio(r["ratio"])] for r in rows],
                markdown)


def to_json(meta, settings, cases, thread_rows):
    out = []
    for c in cases:
        out.append({
            "op": c.op, "kind": c.kind, "dtype": c.dtype, "shape": c.label,
            "params": {k: list(v) if isinstance(v, tuple) else v for k, v in c.params.items()},
            "cols_bytes": c.cols_bytes,
            "medians_ms": {p: t * 1e3 for p, t in c.medians.items()},
            "samples_ms": {p: [t * 1e3 for t in s] for p, s in c.samples.items()},
            "ratios": {f"ours/{p}": r for p, r in c.ratios().items()},
            "targets": c.target_results(),
            "skipped": c.skipped,
            "mismatches": c.mismatches,
        })
    return {"meta": meta, "settings": settings, "cases": out, "threads_compare": thread_rows}


# --------------------------------------------------------------------------
# the plot
# --------------------------------------------------------------------------

_COLORS = {"memcpy": "tab:blue", "copy": "tab:cyan", "torch": "tab:red",
           "cs231n": "tab:green", "layers": "tab:purple", "numpy": "tab:olive",
           "cf": "tab:orange", "zeros": "tab:brown", "sum": "tab:pink"}


def plot(cases, path, meta):
    """Draw every target's ratio (log scale), one panel per operation, into ``path``.

    Needs matplotlib (``pip install im2col_ext[plot]``).  Markers left of
    their peer's dashed line meet the target; hollow markers are targets that
    do not apply (columns under 10 MB).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import ticker

    tables = compact_tables(cases)
    groups = {}
    for case in cases:
        if "ours" not in case.skipped:
            groups.setdefault(case.op, []).append(case)
    ncols = 3
    nrows = -(-len(groups) // ncols)
    heights = [max(len(g) for g in list(groups.values())[r * ncols:(r + 1) * ncols])
               for r in range(nrows)]
    fig, axes = plt.subplots(nrows, ncols, figsize=(16, 0.32 * sum(heights) + 1.2 * nrows),
                             gridspec_kw={"height_ratios": heights}, squeeze=False)
    for ax, (op, group), (_, legend, _, _) in zip(axes.flat, groups.items(), tables):
        labels = [f"{c.label} {_short_dtype(c.dtype)}" for c in group]
        seen = set()
        for y, case in enumerate(group):
            for t in case.target_results():
                if t["ratio"] is None:
                    continue
                peer = t["peer"]
                color = _COLORS.get(peer, "black")
                name = _target_name(t)
                ax.plot([t["ratio"]], [y], "o", color=color,
                        markerfacecolor=color if t["met"] is not None else "none",
                        label=name if name not in seen else None)
                ax.plot([t["limit"]] * 2, [y - 0.4, y + 0.4], "--", color=color, lw=1)
                seen.add(name)
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
        ax.xaxis.set_minor_formatter(ticker.NullFormatter())
        ax.set_yticks(range(len(group)))
        ax.set_yticklabels(labels, fontsize=7)
        ax.invert_yaxis()
        ax.set_title(op, fontsize=10)
        ax.grid(axis="x", alpha=0.3)
        if seen:
            ax.legend(fontsize=7, loc="best")
    for ax in list(axes.flat)[len(groups):]:
        ax.set_visible(False)
    fig.suptitle(f"ours / peer, median, {meta['threads']} thread(s); dashes = targets; "
                 f"hollow = not counted (cols < 10 MB); {meta['cpu']}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
