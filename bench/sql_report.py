#!/usr/bin/env python3
"""Turn bench/run-sql.sh results into docs/benchmarks.md and docs/img/*.png.

Usage: sql_report.py OUTDIR DOCSDIR

OUTDIR holds results.tsv (one record per line, tab-separated, first field
the row count of the data set, second the record kind) and env.tsv (the
machine and server settings).  Charts are drawn with gnuplot (pngcairo);
their data files stay in OUTDIR.
"""
import collections
import os
import re
import statistics
import subprocess
import sys

out, docs = sys.argv[1], sys.argv[2]
img = os.path.join(docs, "img")
os.makedirs(img, exist_ok=True)

env = collections.OrderedDict()
settings = []
for line in open(os.path.join(out, "env.tsv")):
    k, _, v = line.rstrip("\n").partition("\t")
    if k == "setting":
        settings.append(v)
    else:
        env[k] = v

rec = collections.defaultdict(list)
sizes = []
for line in open(os.path.join(out, "results.tsv")):
    f = line.rstrip("\n").split("\t")
    if len(f) < 3:
        continue
    size = int(f[0])
    if size not in sizes:
        sizes.append(size)
    rec[(size, f[1])].append(f[2:])

KTS = ["int", "text"]
PROBES = int(env.get("probes", "1000000"))
MPROBES = min(100000, PROBES)
KTNAME = {"int": "int8 key", "text": "text key (32 B)", "accounts": "pgbench_accounts"}
STORES = ["heap_bt", "heap_h", "sb", "memcached"]
SNAME = {"heap_bt": "heap + btree", "heap_h": "heap + hash index",
         "sb": "sharedbuf bundle", "sb_idx": "sharedbuf bundle, index prewarmed",
         "memcached": "memcached (pgmemcache)"}


def human(n):
    return f"{n / 1e6:g}M" if n >= 1e6 else f"{n / 1e3:g}k"


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def fmt(x, nd=2):
    if x is None or x != x:
        return "–"
    return f"{x:,.{nd}f}"


# ------------------------------------------------------------------ (a)
def rounds(size):
    """label -> {run: ms}"""
    r = collections.defaultdict(dict)
    for label, run, ms in rec[(size, "rounds")]:
        r[label][int(run)] = float(ms)
    return r


def paired(r, a, b):
    """Median over runs of ms(a) - ms(b)."""
    if a not in r or b not in r:
        return float("nan")
    return med([r[a][i] - r[b][i] for i in r[a] if i in r[b]])


def probe_costs(size):
    """(kt, store) -> dict(join=ns/probe net of empty inner, full=ns net of
    outer scan alone, any=ns per key of = ANY net of empty, total ms)"""
    r = rounds(size)
    res = {}
    for kt in KTS:
        for st in ["heap_bt", "heap_h", "sb"]:
            j = f"nl_{kt}_{st}"
            res[(kt, st)] = {
                "join": paired(r, j, j + "_empty") * 1e6 / PROBES,
                "full": paired(r, j, f"nl_{kt}_outer") * 1e6 / PROBES,
                "ms": med(list(r.get(j, {}).values())),
                "ms_empty": med(list(r.get(j + "_empty", {}).values())),
                "any": paired(r, f"any_{kt}_{st}", f"any_{kt}_{st}_empty") * 1e6 / 1e5,
            }
        m = paired(r, f"nlm_{kt}_memcached", f"nlm_{kt}_outer") * 1e6 / MPROBES
        res[(kt, "memcached")] = {
            "join": m, "full": m,
            "ms": med(list(r.get(f"nlm_{kt}_memcached", {}).values())),
            "ms_empty": med(list(r.get(f"nlm_{kt}_outer", {}).values())),
            "any": paired(r, f"anym_{kt}_memcached", f"anym_{kt}_outer") * 1e6 / 1e5,
        }
    return res


def plans_ok(size):
    bad = [f[0] for f in rec[(size, "plan")] if f[1] != "yes"]
    return bad


# ------------------------------------------------------------------ (b)
def tps(size):
    return {(kt, st, int(c)): float(v or "nan") for kt, st, c, v in rec[(size, "tps")]}


# ------------------------------------------------------------------ (c)
def builds(size):
    b = collections.defaultdict(list)
    for kt, st, variant, s in rec[(size, "build")]:
        b[(kt, st, variant)].append(float(s))
    return {k: med(v) for k, v in b.items()}, b


# ------------------------------------------------------------------ (d)
def disk(size):
    return {(kt, st, part): int(v) for kt, st, part, v in rec[(size, "size")]}


# ------------------------------------------------------------------ (e)
def memory(size):
    m = {}
    for name, n, rss, pss, priv, anon in rec[(size, "memory")]:
        m[name] = dict(n=int(n), rss=int(rss or 0), pss=int(pss or 0),
                       private=int(priv or 0), anon=int(anon or 0))
    return m


# ------------------------------------------------------------------ (f)
def latency(size):
    return {name: dict(n=int(n), p50=int(a), p99=int(b), p999=int(c), max=int(d))
            for name, n, a, b, c, d in rec[(size, "latency")]}


def refreshes(size):
    return {name: (int(n), int(sec)) for name, n, sec in rec[(size, "refreshes")]}


# ------------------------------------------------------------------ (g)
def cold(size):
    return {(kt, st): dict(lookups=int(l), found=int(fd), majflt=int(mf), read_bytes=int(rb),
                           shared_read=int(sr))
            for kt, st, l, fd, mf, rb, sr in rec[(size, "cold")]}


# ------------------------------------------------------------------ charts
def gnuplot(script):
    subprocess.run(["gnuplot"], input=script, text=True, check=True)


HEAD = """set terminal pngcairo size 900,500 font "DejaVu Sans,10" noenhanced
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set key below horizontal
set yrange [0:*]
"""
COLORS = {"heap_bt": "#7f7f7f", "heap_h": "#bcbd22", "sb": "#1f77b4", "memcached": "#ff7f0e"}


def bars(name, title, ylabel, groups, stores, value, log=False):
    """groups: list of (label, key); value(key, store) -> number."""
    dat = os.path.join(out, name + ".dat")
    with open(dat, "w") as f:
        for label, key in groups:
            vals = []
            for st in stores:
                v = value(key, st)
                vals.append("NaN" if v is None or v != v else f"{v:.6g}")
            f.write('"%s" %s\n' % (label, " ".join(vals)))
    plots = []
    for i, st in enumerate(stores):
        src = f'"{dat}"' if i == 0 else "''"
        xt = ":xtic(1)" if i == 0 else ""
        plots.append(f'{src} using {i + 2}{xt} title "{SNAME[st]}" lc rgb "{COLORS[st]}"')
    gnuplot(HEAD + ("set logscale y\nset yrange [100:*]\n" if log else "") +
            f'set output "{os.path.join(img, name + ".png")}"\n'
            f'set title "{title}"\nset ylabel "{ylabel}"\n'
            "plot " + ", \\\n     ".join(plots) + "\n")


groups = [(f"{KTNAME[kt].split(' ')[0]}, {human(s)}", (s, kt)) for s in sizes for kt in KTS]
pc = {s: probe_costs(s) for s in sizes}
bars("sql-join", "Nested-loop join: ns per probe (median; minus the same join over an empty inner side)",
     "ns per probe", groups, STORES, lambda k, st: pc[k[0]][(k[1], st)]["join"], log=True)
tp = {s: tps(s) for s in sizes}
tgroups = groups + [(f"pgbench_accounts, {human(s)}", (s, "accounts")) for s in sizes]
bars("sql-tps", "Single-key lookups, pgbench -M prepared, 1 client",
     "transactions/s", tgroups, STORES, lambda k, st: tp[k[0]].get((k[1], st, 1)))
bd = {s: builds(s)[0] for s in sizes}
bars("sql-build", "Build time: CREATE TABLE AS + CREATE INDEX vs sharedbuf_create (median)",
     "seconds", groups, ["heap_bt", "heap_h", "sb"], lambda k, st: bd[k[0]].get((k[1], st, "total")))
dk = {s: disk(s) for s in sizes}
bars("sql-size", "Size on disk (pg_total_relation_size vs bundle file)", "MB",
     tgroups, ["heap_bt", "heap_h", "sb"],
     lambda k, st: dk[k[0]].get((k[1], st, "total"), float("nan")) / 1e6)

# latency chart: p50 and p99, idle vs refresh, bundle and btree
lat = {s: latency(s) for s in sizes}
dat = os.path.join(out, "sql-latency.dat")
with open(dat, "w") as f:
    for s in sizes:
        for name, label in [("sb-idle", "bundle idle"), ("sb-refresh", "bundle, refresh loop"),
                            ("heap_bt-idle", "btree idle"), ("heap_bt-refresh", "btree, refresh loop")]:
            l = lat[s].get(name)
            if l:
                f.write(f'"{label}, {human(s)}" {l["p50"]} {l["p99"]}\n')
gnuplot(HEAD + f'set output "{os.path.join(img, "sql-latency.png")}"\n'
        'set title "Single-key lookup latency (pgbench -M prepared, 1 client), idle vs during bundle refreshes"\n'
        'set ylabel "microseconds"\nset xtics rotate by -20\n'
        f'plot "{dat}" using 2:xtic(1) title "p50" lc rgb "#1f77b4", '
        f"'' using 3 title \"p99\" lc rgb \"#d62728\"\n")

# ------------------------------------------------------------------ goals
def ratio(a, b):
    try:
        return a / b
    except (TypeError, ZeroDivisionError):
        return float("nan")


def met(vals, ok):
    vals = [v for v in vals if v == v]
    if not vals:
        return "not measured"
    return "**met**" if all(ok(v) for v in vals) else "**not met**"


goal_rows = []
for s in sizes:
    p = pc[s]
    a = {kt: ratio(p[(kt, "sb")]["join"], p[(kt, "heap_bt")]["join"]) for kt in KTS}
    goal_rows.append((f"(a) nested-loop probe cost ≤ 1/3 of btree's", human(s),
                      " / ".join(f"{KTNAME[kt].split(' ')[0]} {fmt(a[kt])}x" for kt in KTS),
                      met(a.values(), lambda v: v <= 1 / 3)))
    t = tp[s]
    b = {(kt, c): ratio(t.get((kt, "sb", c)), t.get((kt, "heap_bt", c)))
         for kt in KTS + ["accounts"] for c in (1, 2)}
    goal_rows.append((f"(b) lookup TPS ≥ 1.2x btree's", human(s),
                      " / ".join(f"{KTNAME[kt].split(' ')[0]} {fmt(b[(kt, 1)])}x, {fmt(b[(kt, 2)])}x"
                                 for kt in KTS + ["accounts"]) + " (1, 2 clients)",
                      met(b.values(), lambda v: v >= 1.2)))
    bb = bd[s]
    c = {kt: ratio(bb.get((kt, "sb", "total")), bb.get((kt, "heap_bt", "total"))) for kt in KTS}
    goal_rows.append((f"(c) build ≤ 1.0x CTAS + btree", human(s),
                      " / ".join(f"{KTNAME[kt].split(' ')[0]} {fmt(c[kt])}x" for kt in KTS),
                      met(c.values(), lambda v: v <= 1.0)))
    d = dk[s]
    dd = {kt: ratio(d.get((kt, "sb", "total")), d.get((kt, "heap_bt", "total")))
          for kt in KTS + ["accounts"]}
    goal_rows.append((f"(d) size ≤ 0.5x heap + btree", human(s),
                      " / ".join(f"{KTNAME[kt].split(' ')[0]} {fmt(dd[kt])}x" for kt in KTS + ["accounts"]),
                      met(dd.values(), lambda v: v <= 0.5)))
    m = memory(s)
    if "sb" in m and "idle" in m:
        per = (m["sb"]["private"] - m["idle"]["private"]) / m["sb"]["n"] / 1024
        goal_rows.append((f"(e) < 1 MB private memory per backend after a full scan", human(s),
                          f"{fmt(per)} MB per backend over an idle backend "
                          f"({fmt(m['sb']['private'] / m['sb']['n'] / 1024)} MB in all)",
                          met([per], lambda v: v < 1.0)))
    l = lat[s]
    if "sb-refresh" in l and "sb-idle" in l:
        f_ = ratio(l["sb-refresh"]["p99"], l["sb-idle"]["p99"])
        goal_rows.append((f"(f) p99 during refresh ≤ 2x idle p99", human(s), f"{fmt(f_)}x",
                          met([f_], lambda v: v <= 2.0)))
    cd = cold(s)
    g = {kt: ratio(cd[(kt, "sb")]["majflt"], cd[(kt, "sb")]["lookups"]) for kt in KTS if (kt, "sb") in cd}
    gi = {kt: ratio(cd[(kt, "sb_idx")]["majflt"], cd[(kt, "sb_idx")]["lookups"])
          for kt in KTS if (kt, "sb_idx") in cd}
    verdict = met(g.values(), lambda v: v <= 2.0)
    if verdict == "**not met**" and met(gi.values(), lambda v: v <= 2.0) == "**met**":
        verdict = "**met with the index prewarmed**; not met fully cold"
    goal_rows.append((f"(g) ≤ 2 page reads per cold lookup", human(s),
                      " / ".join(f"{KTNAME[kt].split(' ')[0]} {fmt(g[kt])}" for kt in g)
                      + " major faults; index prewarmed: "
                      + " / ".join(f"{KTNAME[kt].split(' ')[0]} {fmt(gi[kt])}" for kt in gi),
                      verdict))

# ------------------------------------------------------------------ markdown
L = []
w = L.append
w("# SQL-level benchmarks")
w("")
w("sharedbuf bundles against the alternatives a PostgreSQL user has for the "
  "same lookups: a heap table with a btree primary key, a heap table with a "
  "hash index, and memcached reached through pgmemcache. Every number below "
  "comes from one run of `bench/run-sql.sh %s` (%s); ratios compare "
  "measurements taken in that same run." % (env.get("mode"), env.get("date")))
if env.get("mode") != "full":
    w("")
    w("These are **quick-mode** results (1M rows and short pgbench runs).")
w("")
w("## Goals")
w("")
w("Ratios are bundle / baseline, measured in the same run; the text after a "
  "slash is the other key type or data set.")
w("")
w("| goal | rows | measured | result |")
w("|---|---|---|---|")
for g in goal_rows:
    w("| %s | %s | %s | %s |" % g)
w("")
w("## Machine and settings")
w("")
w("| | |")
w("|---|---|")
for k in ["cpu", "cores", "memory", "kernel", "os", "postgresql", "memcached", "pgmemcache",
          "read_ahead_kb", "thp", "commit"]:
    w(f"| {k} | {env.get(k, '?')} |")
w("")
w("Server settings (all others at their defaults; locale C):")
w("")
w("```")
for s_ in settings:
    w(s_)
w("```")
w("")
w("The machine is a virtual machine with 2 vCPUs that other work shares; "
  "timings are noisy, which is why statements are timed round-robin and the "
  "baselines come from the same rounds.")
w("")
w("## Data")
w("")
w("Each data set has N rows of a key, `t` (60-byte text), `i` (int4) and "
  "`f` (float8). The int8 keys are 1..N; the text keys are `md5(n::text)` "
  "(32 bytes). `src_*` holds the rows; the stores are built from "
  "`SELECT * FROM src_*`: `CREATE TABLE AS` then `ADD PRIMARY KEY` (btree) or "
  "`CREATE INDEX ... USING hash`, and `sharedbuf_create(..., key => 'k')`. "
  "memcached holds the same rows as text values (`t|i|f`) under the key as "
  "text. `pgbench_accounts` comes from `pgbench -i` at scale N/100000 and is "
  "served as a bundle keyed on `aid`. Probe keys are uniformly random existing keys.")
w("")

for s in sizes:
    p = pc[s]
    w(f"## {human(s)} rows")
    w("")
    w("### (a) Cost per probe")
    w("")
    w("`SELECT count(*), sum(x.i) FROM probes p JOIN store x ON x.k = p.k` over "
      + human(PROBES) + " random probe keys, with hash join, merge join and memoize off (a "
      "nested loop probing the inner side's index; for the bundle, a "
      "parameterized foreign scan). ns per probe = (statement time − time of "
      "the same statement over an empty inner side of the same kind) / probes, "
      "median of the per-round differences. *Full* subtracts only the scan of "
      "the probe table (the join node, the rescans and the lookups). memcached: "
      "`memcache_get(k::text)` per row over " + human(MPROBES) + " probes, minus the same "
      "statement without the call. `= ANY`: 100 statements of "
      "`WHERE k = ANY ($1)` with 1000 keys each, per key, minus the same over "
      "the empty store; memcached: `memcache_get_multi`.")
    bad = plans_ok(s)
    w("")
    w("EXPLAIN checked: every join is a nested loop probing the inner "
      "side's index, or the bundle's parameterized foreign scan showing "
      "`Lookup Keys`; over the empty bundle (0 rows) the planner prefers a "
      "rescanned scan of nothing to a lookup, so that baseline is a nested "
      "loop over an empty foreign scan." if not bad else
      "**Unexpected plans**: " + ", ".join(bad))
    ea = os.path.join(out, f"explain-analyze-{s}.txt")
    if os.path.exists(ea):
        w("")
        w("The bundle join, int8 key, `EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF)`, "
          "run once before the timed rounds in a backend that had not read "
          "the bundle yet: its time includes mapping every page the probes "
          "touch into the backend (page faults), which the rounds' untimed "
          "warm-up round absorbs.")
        w("")
        w("```")
        L.extend(open(ea).read().rstrip("\n").split("\n"))
        w("```")
    w("")
    w("| key | store | join ms (median) | empty inner ms | ns/probe | full ns/probe | vs btree | `= ANY` ns/key | vs btree |")
    w("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for kt in KTS:
        base = p[(kt, "heap_bt")]
        for st in STORES:
            v = p[(kt, st)]
            w(f"| {KTNAME[kt]} | {SNAME[st]} | {fmt(v['ms'], 0)} | {fmt(v['ms_empty'], 0)} | "
              f"{fmt(v['join'], 0)} | {fmt(v['full'], 0)} | {fmt(ratio(v['join'], base['join']))} | "
              f"{fmt(v['any'], 0)} | {fmt(ratio(v['any'], base['any']))} |")
    w("")
    w("### (b) Single-key lookup TPS")
    w("")
    w("`pgbench -M prepared -n -T %s` with `\\set k random(1, N)` and "
      "`SELECT k, t, i, f FROM store WHERE k = :k` (text keys: `k = md5(:r::text)`; "
      "memcached: `SELECT memcache_get(:k::text)`; pgbench_accounts: "
      "`SELECT aid, bid, abalance, filler ... WHERE aid = :aid`)." % env.get("pgbench_T", "T"))
    w("")
    w("| data | store | TPS, 1 client | vs btree | TPS, 2 clients | vs btree |")
    w("|---|---|---:|---:|---:|---:|")
    t = tp[s]
    for kt in KTS + ["accounts"]:
        for st in STORES:
            if (kt, st, 1) not in t:
                continue
            w(f"| {KTNAME[kt]} | {SNAME[st]} | {fmt(t[(kt, st, 1)], 0)} | "
              f"{fmt(ratio(t[(kt, st, 1)], t.get((kt, 'heap_bt', 1))))} | "
              f"{fmt(t.get((kt, st, 2)), 0)} | {fmt(ratio(t.get((kt, st, 2)), t.get((kt, 'heap_bt', 2))))} |")
    w("")
    w("### (c) Build time")
    w("")
    bb, braw = builds(s)
    nb = max(len(v) for k, v in braw.items() if k[2] == 'total' and k[0] != 'accounts')
    w("From the client, commit included, after a `CHECKPOINT`; " +
      (f"median of {nb} builds (pgbench_accounts: one). " if nb > 1 else "one build each. ") +
      "*64MB* repeats the btree and bundle builds "
      "with `maintenance_work_mem = 64MB` (the default) instead of the run's 1GB.")
    w("")
    w("| data | CTAS | CTAS + btree | CTAS + hash | bundle | bundle / btree | bundle / hash | btree, 64MB | bundle, 64MB | ratio, 64MB |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for kt in KTS + ["accounts"]:
        g_ = lambda st, v="total": bb.get((kt, st, v))
        w(f"| {KTNAME[kt]} | {fmt(g_('ctas'))} | {fmt(g_('heap_bt'))} | {fmt(g_('heap_h'))} | "
          f"{fmt(g_('sb'))} | {fmt(ratio(g_('sb'), g_('heap_bt')))} | {fmt(ratio(g_('sb'), g_('heap_h')))} | "
          f"{fmt(g_('heap_bt', 'mwm64'))} | {fmt(g_('sb', 'mwm64'))} | "
          f"{fmt(ratio(g_('sb', 'mwm64'), g_('heap_bt', 'mwm64')))} |")
    w("")
    w("### (d) Size on disk")
    w("")
    w("| data | heap | btree | heap + btree (total) | hash index | bundle | bundle index | bundle / (heap + btree) | bundle index / btree |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    d = dk[s]
    MB = lambda x: fmt(x / 1e6 if x is not None else None, 1) + " MB" if x is not None else "–"
    for kt in KTS + ["accounts"]:
        g_ = lambda st, part: d.get((kt, st, part))
        w(f"| {KTNAME[kt]} | {MB(g_('heap_bt', 'heap'))} | {MB(g_('heap_bt', 'index'))} | "
          f"{MB(g_('heap_bt', 'total'))} | {MB(g_('heap_h', 'index'))} | {MB(g_('sb', 'total'))} | "
          f"{MB(g_('sb', 'index'))} | {fmt(ratio(g_('sb', 'total'), g_('heap_bt', 'total')))} | "
          f"{fmt(ratio(g_('sb', 'index'), g_('heap_bt', 'index')))} |")
    for kt, _, v in rec[(s, "memcached_stats")]:
        w("")
        w(f"memcached after loading the {KTNAME[kt]} rows (cumulative): `{v.strip()}`.")
    w("")
    w("### (e) Memory of 20 backends")
    w("")
    w("20 connections each run one statement, then hold the connection open "
      "(`pg_sleep`) while `/proc/PID/smaps_rollup` of each backend is read. "
      "*idle*: `SELECT 1`; *bundle*: `SELECT count(*), sum(i), sum(length(t))` "
      "over the whole int8 bundle; *heap*: the same over the btree table. "
      "Private = Private_Clean + Private_Dirty.")
    w("")
    m = memory(s)
    bsize = d.get(("int", "sb", "total"))
    w("| statement | backends | private, sum | private per backend | over idle, per backend | anonymous per backend | Rss per backend | Pss, sum |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, label in [("idle", "idle"), ("sb", "bundle scan"), ("heap", "heap scan")]:
        if name not in m:
            continue
        v = m[name]
        n = v["n"] or 1
        w(f"| {label} | {v['n']} | {fmt(v['private'] / 1024, 1)} MB | {fmt(v['private'] / n / 1024)} MB | "
          f"{fmt((v['private'] - m['idle']['private']) / n / 1024)} MB | {fmt(v['anon'] / n / 1024)} MB | "
          f"{fmt(v['rss'] / n / 1024, 1)} MB | {fmt(v['pss'] / 1024, 1)} MB |")
    if bsize and "sb" in m:
        w("")
        w(f"Bundle file: {fmt(bsize / 1e6, 1)} MB. Sum of the 20 backends' private memory after "
          f"the bundle scan: {fmt(m['sb']['private'] * 1024 / bsize)}x the bundle size "
          f"(over idle backends: {fmt((m['sb']['private'] - m['idle']['private']) * 1024 / bsize)}x).")
    w("")
    w("### (f) Lookup latency while the bundle is refreshed")
    w("")
    w("pgbench, 1 client, `-M prepared`, %s s, per-transaction latencies "
      "(`-l`). *refresh loop*: another session runs `sharedbuf_refresh` of the "
      "int8 bundle back to back for the whole run. The btree rows under the "
      "same refresh loop show what the loop's CPU use alone does on this "
      "2-vCPU machine." % env.get("latency_T", "?"))
    w("")
    w("| store | condition | transactions | p50 µs | p99 µs | p99.9 µs | max µs | refreshes |")
    w("|---|---|---:|---:|---:|---:|---:|---:|")
    rf = refreshes(s)
    for name in ["sb-idle", "sb-refresh", "heap_bt-idle", "heap_bt-refresh"]:
        if name not in lat[s]:
            continue
        v = lat[s][name]
        st, cond = name.split("-")
        w(f"| {SNAME[st]} | {'idle' if cond == 'idle' else 'refresh loop'} | {v['n']} | {v['p50']} | "
          f"{v['p99']} | {v['p999']} | {v['max']} | {rf.get(st, ('', ''))[0] if cond == 'refresh' else ''} |")
    w("")
    w("### (g) Cold cache")
    w("")
    w("Server restarted (empty shared_buffers), `sync; echo 3 > "
      "/proc/sys/vm/drop_caches`, then in a fresh backend, after a warm-up on "
      "an empty table of the same kind (loading the code and catalogs a lookup "
      "needs), one miss on the store (which opens and maps it) and 1000 random "
      "single-key lookups `SELECT k, t, i, f ... WHERE k = $1`. Counted over "
      "the miss and the lookups, per lookup: major faults and bytes read from "
      "storage (the backend's `/proc/self/stat` field 12 and `/proc/self/io` "
      "`read_bytes`, which include any read-ahead); shared blocks read, from "
      "`EXPLAIN (ANALYZE, BUFFERS)` of each lookup. A heap lookup reads blocks "
      "with `read()`, so it takes no major faults; a bundle lookup reads "
      "through page faults on the mapping, so it reads no shared blocks. "
      "Storage read-ahead: %s KiB." % env.get("read_ahead_kb", "?"))
    w("")
    w("| key | store | lookups | major faults / lookup | KiB read from storage / lookup | shared blocks read / lookup |")
    w("|---|---|---:|---:|---:|---:|")
    for (kt, st), v in sorted(cold(s).items()):
        n = v["lookups"] or 1
        w(f"| {KTNAME[kt]} | {SNAME[st]} | {v['lookups']} | {fmt(v['majflt'] / n)} | "
          f"{fmt(v['read_bytes'] / n / 1024, 1)} | {fmt(v['shared_read'] / n)} |")
    w("")

w("## Charts")
w("")
for name, alt in [("sql-join", "ns per probe"), ("sql-tps", "lookup TPS"),
                  ("sql-build", "build time"), ("sql-size", "size on disk"),
                  ("sql-latency", "latency during refresh")]:
    w(f"![{alt}](img/{name}.png)")
    w("")

diag = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sql", "analysis.md")
if os.path.exists(diag):
    L.extend(open(diag).read().rstrip("\n").split("\n"))
    w("")

# keep the sections the other benchmark scripts write
old_doc = os.path.join(docs, "benchmarks.md")
if os.path.exists(old_doc):
    for section in ("replication", "planning", "writable", "compact"):
        m = re.search(r"<!-- %s:start -->.*?<!-- %s:end -->" % (section, section),
                      open(old_doc).read(), re.S)
        if m:
            L.extend(m.group(0).split("\n"))
            w("")

w("## Reproducing")
w("")
w("`bench/run-replication.sh quick|full` measures replication, "
  "`bench/run-planning.sh quick|full` unprepared lookups and planning, "
  "`bench/run-writable.sh quick|full` writable bundles and "
  "`bench/run-compact.sh quick|full` compact encodings (above). "
  "`bench/run-sql.sh quick` (1M rows, under 5 minutes) or `bench/run-sql.sh full` "
  "(1M and 10M rows, about 45 minutes), as root on Debian 12; see bench/README.md. "
  "`bench/profile-sql.sh` produces the instruction counts quoted in the analysis, "
  "from the cluster a run leaves behind; `bench/cold_replay.py` replays the page "
  "accesses of cold lookups on a bundle file under different `madvise()` advice.")

with open(os.path.join(docs, "benchmarks.md"), "w") as f:
    f.write("\n".join(L) + "\n")
