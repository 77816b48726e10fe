"""bench/results/ENGINE.md and engine.png from bench/engine.py's raw results: the targets of
issue 19 marked met or not, a summary of medians with the ratios guise/floor, guise/podman,
guise/docker, a table per case, the burst and the detached containers, and the pull and
network headlines quoted from IMAGES.md and NETWORK.md.
"""
import json
import os
import statistics

import engine_run as er

SEQ = ["run-rm", "run-rm-bridge", "run-rm-port", "run-d", "rm-f", "exec"]  # timed one at a time
FLOOR_CASES = {"run-rm", "run-d", "rm-f", "exec", "burst", "many"}  # those guise-oci has a floor for
DOCKER_BRIDGE, DOCKER_BRIDGE_ADDR = "gbe-docker0", "10.197.0.1/24"  # the private dockerd's bridge
BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)


def stats(xs):
    xs = sorted(xs)
    return {"median": statistics.median(xs), "p10": er.pct(xs, 10), "p90": er.pct(xs, 90),
            "min": xs[0], "max": xs[-1], "n": len(xs)}


def med(raw, case, e):
    s = raw["results"].get(case, {}).get(e) or {}
    return statistics.median(s["t"]) if s.get("t") else None


def ratio(a, b):
    return "%.2fx" % (a / b) if a and b else ""


def seq_table(raw, case):
    res = raw["results"].get(case, {})
    g = med(raw, case, "guise")
    L = ["| engine | median (ms) | p10 | p90 | min | max | n | failed | guise / this |",
         "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for e in raw["engines"]:
        why = raw["skipped"].get("%s/%s" % (case, e))
        if why:
            L.append("| %s | %s | | | | | 0 | | |" % (e, why.replace("|", "/").replace("\n", " ")))
            continue
        s = res.get(e)
        if not s or (e == "floor" and case not in FLOOR_CASES):
            continue
        if not s["t"]:
            L.append("| %s | all %d runs failed: %s | | | | | 0 | %d | |" % (
                e, s["failed"], s["first_error"].replace("|", "/").replace("\n", " ")[:200], s["failed"]))
            continue
        st = stats(s["t"])
        L.append("| %s | **%s** | %s | %s | %s | %s | %d | %d | %s |" % (
            e, er.fmt_ms(st["median"]), er.fmt_ms(st["p10"]), er.fmt_ms(st["p90"]), er.fmt_ms(st["min"]),
            er.fmt_ms(st["max"]), st["n"], s["failed"], ratio(g, st["median"]) if e != "guise" else ""))
    return L


def floor_of(case):
    return "run-rm" if case.startswith("run-rm") else case


def summary_table(raw, cases):
    peers = [e for e in raw["engines"] if e not in ("guise", "floor")]
    head = ["case", "guise (ms)", "floor (ms)"] + ["%s (ms)" % p for p in peers] + ["guise / floor"] + [
        "guise / %s" % p for p in peers]
    L = ["| " + " | ".join(head) + " |", "|---" + "|---:" * (len(head) - 1) + "|"]
    for case in cases:
        if case not in SEQ:
            continue
        g = med(raw, case, "guise")
        f = med(raw, floor_of(case), "floor")
        cells = [er.fmt_ms(g) if g else "-", er.fmt_ms(f) if f else "-"]
        cells += [er.fmt_ms(med(raw, case, p)) if med(raw, case, p) else
                  ("n/a" if "%s/%s" % (case, p) in raw["skipped"] else "-") for p in peers]
        cells += [ratio(g, f)] + [ratio(g, med(raw, case, p)) for p in peers]
        L.append("| %s | %s |" % (er.ALL_CASES[case], " | ".join(cells)))
    return L


def burst_rows(raw):
    out = {}
    for e, b in raw["burst"].items():
        lat = [x for run in b["runs"] for x in run]
        if not lat:
            out[e] = None
            continue
        seq = med(raw, "run-rm", e)
        st = stats(lat)
        st.update(failed=b["failed"], bursts=len(b["runs"]), seq=seq,
                  p90_over_seq=st["p90"] / seq if seq else None)
        out[e] = st
    return out


def burst_table(raw):
    rows = burst_rows(raw)
    L = ["| engine | median (ms) | p90 (ms) | max (ms) | sequential median (ms) | p90 / sequential median | "
         "runs | bursts | failed |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for e in [e for e in raw["engines"] if e in rows]:
        st = rows[e]
        if not st:
            L.append("| %s | all failed | | | | | 0 | | %d |" % (e, raw["burst"][e]["failed"]))
            continue
        L.append("| %s | %s | **%s** | %s | %s | %s | %d | %d | %d |" % (
            e, er.fmt_ms(st["median"]), er.fmt_ms(st["p90"]), er.fmt_ms(st["max"]),
            er.fmt_ms(st["seq"]) if st["seq"] else "-",
            "%.1fx" % st["p90_over_seq"] if st["p90_over_seq"] else "-", st["n"], st["bursts"], st["failed"]))
    return L


def many_table(raw):
    g = (raw["many"].get("guise") or {}).get("per_container_kb")
    L = ["| engine | started | start all (s) | per start (ms) | remove all (s) | per-container processes "
         "(count, Pss kB) | their Pss per container (kB) | daemons' growth per container (kB) | "
         "total per container (kB) | guise / this |", "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|"]
    order = [k for e in raw["engines"] for k in raw["many"] if k.split()[0] == e]
    for label in order:
        x = raw["many"][label]
        ok = x["m"] - x["failed"]
        procs = ", ".join("%s %d, %d" % (c, v["count"], v["pss_kb"]) for c, v in sorted(x["procs"].items())) or "none"
        per = x["per_container_kb"]
        dg = x.get("daemon_growth_per_container_kb")
        tot = (per or 0) + (dg or 0) if ok else None
        L.append("| %s | %d/%d | %.2f | %.1f | %.2f | %s | %s | %s | %s | %s |" % (
            label, ok, x["m"], x["start_s"], x["start_s"] / max(ok, 1) * 1000, x["rm_s"], procs,
            "%.0f" % per if per is not None else "-", "%.0f" % dg if dg is not None else "",
            "%.0f" % tot if tot is not None else "-",
            ratio(g, tot) if label != "guise" and g and tot else ""))
        if x["failed"]:
            L.append("| | %d failed: %s | | | | | | | | |" % (x["failed"], x["first_error"].replace("|", "/")[:200]))
    return L


def targets(raw, pull):
    """[(target, value, met or not)] from the numbers, issue 19's targets."""
    out = []
    g = {c: med(raw, c, "guise") for c in ("run-rm", "run-rm-bridge")}
    for c, what in (("run-rm", "--network none"), ("run-rm-bridge", "the bridge")):
        for p in ("podman", "docker"):
            pm = med(raw, c, p)
            if g[c] and pm:
                r = g[c] / pm
                out.append(("`run --rm` with %s: guise <= 0.05x %s" % (what, p), "%.3fx" % r, r <= 0.05))
    f = med(raw, "run-rm", "floor")
    if g["run-rm"] and f:
        r = g["run-rm"] / f
        out.append(("`run --rm`: guise <= 2x guise-oci run (floor)", "%.2fx" % r, r <= 2))
    b = burst_rows(raw).get("guise")
    if b and b["p90_over_seq"]:
        out.append(("%d at once: guise's p90 <= 2x its sequential median" % raw["burst_size"],
                    "%.1fx" % b["p90_over_seq"], b["p90_over_seq"] <= 2))
    gm = (raw["many"].get("guise") or {}).get("per_container_kb")
    cm = (raw["many"].get("podman") or {}).get("per_container_kb")
    if gm and cm:
        out.append(("monitor: guise-monitor + guise-procview Pss per container <= 0.5x conmon's",
                    "%.0f / %.0f kB = %.2fx" % (gm, cm, gm / cm), gm / cm <= 0.5))
        hm = (raw["many"].get("guise --proc-view=host") or {}).get("per_container_kb")
        if hm:
            out.append(("the same with `--proc-view=host` (guise-monitor alone)",
                        "%.0f / %.0f kB = %.2fx" % (hm, cm, hm / cm), hm / cm <= 0.5))
    if pull:
        out.append(("pull + unpack (gzip): fastest peer >= 2x guise (%s)" % pull["date"],
                    "%.2fx" % pull["factor"], pull["factor"] >= 2))
    return out


def pull_headline():
    """The gzip pull of the last bench/image-pull.sh: guise's median against the fastest peer."""
    try:
        r = json.load(open(os.path.join(BENCH, "results", "images-raw.json")))
    except (OSError, ValueError):
        return None
    meds = {k.split("/")[0]: statistics.median(v["wall"]) for k, v in r.get("pull", {}).items()
            if k.endswith("/gzip") and v.get("wall")}
    if "guise" not in meds or len(meds) < 2:
        return None
    best = min(v for k, v in meds.items() if k != "guise")
    return {"factor": best / meds["guise"], "date": r.get("meta", {}).get("date", "?")}


def md_sections(path, headings):
    """The sections of a results file under the given '## ' headings, verbatim."""
    try:
        text = open(path).read()
    except OSError:
        return ["(%s: not found; run its script)" % os.path.basename(path)]
    out, keep, table = [], False, False
    for line in text.splitlines():
        if line.startswith("## "):
            keep, table = any(line.startswith("## " + h) for h in headings), False
            if keep:
                line = "#" + line
        if keep and table and not line.startswith("|"):
            keep = False  # the section's first table is its headline
            out.append("")
        if keep:
            table = table or line.startswith("|")
            out.append(line)
    return out


def committed(path):
    return er.first_line(["git", "-C", REPO, "log", "-1", "--format=%h %cs", "--", path]) or "not committed"


def cleaned_summary(done):
    """netclean.clean()'s list in a few words (the list is in engine-raw.json)."""
    rules = sum(1 for d in done if d.startswith("iptables") and " -A " in d)
    chains = sum(1 for d in done if d.startswith("iptables") and " chain " in d)
    rest = [d for d in done if not d.startswith("iptables")]
    parts = (["%d iptables rules and %d chains" % (rules, chains)] if rules or chains else []) + rest
    return ", ".join(parts) or "nothing was left"


def write_report(raw, results, plot_err):
    m = raw["meta"]
    L = ["# The engines side by side: guise, podman, docker, and guise's floor", "",
         "Produced by `sudo bash bench/engine.sh%s` on %s in %.1f minutes. N = %d alternated runs of each "
         "(case, engine) pair; lower is better. *guise / X* is guise's median over X's: below 1, guise is "
         "faster. The floor is `guise-oci run` of the same rootfs as a plain bundle (`guise-oci spec`, args "
         "`true`, terminal false, its own network namespace with nothing set up in it), alternated with the "
         "engines in the same loop." % (raw["argv"], m["date"], m["minutes"], raw["n"]), "",
         "![latency and memory per engine](engine.png)" if not plot_err else "(No plot: %s.)" % plot_err, ""]
    L += ["## Targets (issue 19)", "", "| target | this run | met |", "|---|---:|---|"]
    for t, v, ok in targets(raw, pull_headline()):
        L.append("| %s | %s | %s |" % (t, v, "**met**" if ok else "not met"))
    L += [""] + er.machine_lines(raw)
    L += ["Networks: guise's default is its bridge (netlink and one nftables table per store, subnet "
          "10.199.0.0/16 here); podman 4.3.1's backend on this host is **%s** (its `podman` network, "
          "cni-podman0); docker's dockerd gets a bridge of its own (`%s`, %s) and its iptables rules "
          "(docker-proxy for published ports, ip-forward left as the host has it).%s Published ports are "
          "host ports below the ephemeral range, checked free first: %s. Whatever the engines leave in the "
          "host's network (bridges, the CNI and DOCKER chains, guise's table, CNI netns) is removed at the end: %s."
          % (raw["podman_backend"] or "?", DOCKER_BRIDGE, DOCKER_BRIDGE_ADDR,
             raw.get("docker_bridge_note", ""),
             ", ".join("%s %d" % kv for kv in raw.get("ports", {}).items() if kv[0] != "floor"),
             cleaned_summary(raw.get("net_cleaned", []))), ""]
    L += ["## Summary: medians", ""] + summary_table(raw, raw["cases"]) + [
        "", "The floor of the three `run --rm` cases is the same `guise-oci run` (no network); of `rm -f`, "
        "`guise-oci delete --force`; of `exec`, `guise-oci exec`.", ""]
    for case in raw["cases"]:
        if case in SEQ:
            L += ["## %s" % er.ALL_CASES[case], ""] + seq_table(raw, case) + [""]
    if "burst" in raw["cases"]:
        L += ["## %d `run --rm IMAGE true` at once" % raw["burst_size"], "",
              "A burst: every command line (and the floor's bundles) made first, then %d posix_spawns back to "
              "back; each run's latency is from its own spawn to its exit. %d bursts per engine, alternated. "
              "The target: p90 at most 2x the engine's sequential median (`run --rm`, --network none, above)."
              % (raw["burst_size"], raw["bursts"]), ""] + burst_table(raw) + [""]
    if "many" in raw["cases"]:
        L += ["## %d detached containers" % raw["many_m"], "",
              "`run -d --network none IMAGE sleep 3600` %d times in a loop, as a user's script would; then the "
              "Pss (smaps_rollup) of the processes each engine runs per container beside the container's own "
              "(guise-monitor, and guise-procview, the /proc view's server and its watcher that guise runs per "
              "container unless `--proc-view=host`; conmon; containerd-shim-runc-v2), found as new descendants of the driver "
              "(the subreaper of all of them), summed, over the containers started; for docker also what "
              "dockerd and containerd grew (Pss after minus before), over the containers. Then all removed by "
              "one `rm -f NAME...` (the floor: one `delete --force` each)." % raw["many_m"], ""] + many_table(raw) + [""]
    L += er.method_lines(raw)
    L += ["- bridge, port: the same commands without `--network none` (the engine's default network), and "
          "with `-p HOSTPORT:80`; `exec NAME true` into one `run -d ... sleep 3600` container per engine.", ""]
    img, net = (os.path.join(BENCH, "results", f) for f in ("IMAGES.md", "NETWORK.md"))
    L += ["## Pull + unpack (from bench/image-pull.sh)", "",
          "Not rerun here (minutes; `engine.sh --all` reruns it first): from [IMAGES.md](IMAGES.md), run %s, "
          "results committed at %s." % ((pull_headline() or {}).get("date", "?"),
                                        committed("bench/results/images-raw.json")), ""]
    L += md_sections(img, ["Pull + unpack"]) + [""]
    L += ["## Network setup and throughput (from bench/network.sh)", "",
          "Not rerun here: from [NETWORK.md](NETWORK.md), results committed at %s." %
          committed("bench/results/network-raw.json"), ""]
    L += md_sections(net, ["Network setup", "Throughput"]) + [""]
    if raw.get("notes"):
        L += ["## Notes", ""] + ["- " + n for n in raw["notes"]] + [""]
    with open(os.path.join(results, "ENGINE.md"), "w") as f:
        f.write("\n".join(L) + "\n")
    return L


def plot(raw, path):
    """Medians with p10..p90 per case and engine; memory per container beside.  Returns an
    error string or None."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        return "matplotlib: %s" % e
    cases = [c for c in raw["cases"] if c in SEQ]
    labels = [er.ALL_CASES[c].split(" (")[0].replace(" IMAGE", "") for c in cases]
    brows = burst_rows(raw) if "burst" in raw["cases"] else {}
    if brows:
        labels.append("%d at once (p90)" % raw["burst_size"])
    engs = raw["engines"]
    fig, axes = plt.subplots(1, 2, figsize=(15, 5.5), gridspec_kw={"width_ratios": [4, 1]})
    ax = axes[0]
    w = 0.8 / len(engs)
    for j, e in enumerate(engs):
        xs, ys, lo, hi = [], [], [], []
        for i, c in enumerate(cases):
            s = raw["results"].get(c, {}).get(e)
            if s and s.get("t"):
                st = stats(s["t"])
                xs.append(i + j * w)
                ys.append(st["median"] * 1000)
                lo.append((st["median"] - st["p10"]) * 1000)
                hi.append((st["p90"] - st["median"]) * 1000)
        b = brows.get(e)
        if b:
            xs.append(len(cases) + j * w)
            ys.append(b["p90"] * 1000)
            lo.append(0)
            hi.append((b["max"] - b["p90"]) * 1000)
        ax.bar(xs, ys, w, yerr=[lo, hi], capsize=2, label=e)
    ax.set_xticks([i + 0.4 - w / 2 for i in range(len(labels))])
    ax.set_xticklabels(labels, rotation=20, ha="right", fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("ms (median; bars p10..p90; burst: p90..max)")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    ax = axes[1]
    many = raw.get("many") or {}
    ml = [k for k in many if many[k].get("per_container_kb") is not None]
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    ax.bar(range(len(ml)), [many[k]["per_container_kb"] + (many[k].get("daemon_growth_per_container_kb") or 0)
                            for k in ml],
           color=[colors[engs.index(k.split()[0]) % len(colors)] if k.split()[0] in engs else "gray" for k in ml])
    ax.set_xticks(range(len(ml)))
    ax.set_xticklabels(ml, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("kB per container (Pss)")
    ax.set_title("%d detached: memory" % raw.get("many_m", 0), fontsize=9)
    fig.suptitle("guise vs podman, docker and guise-oci run (floor), %s" % raw["meta"]["date"], fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    return None

