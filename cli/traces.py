"""Continuous V/A traces over a video: `affectlab trace list|export|agreement --media ID [--json]`."""
from pathlib import Path
from typing import Annotated

import typer

from cli.verb import JsonOpt, Result, verb

app = typer.Typer(no_args_is_help=True)

MediaOpt = Annotated[int, typer.Option("--media", help="media id of the video (see `affectlab trace list`)")]
RateOpt = Annotated[float, typer.Option("--rate", help="common time grid in Hz")]


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:+.3f}"


def format_list(r: Result) -> str:
    if not r["traces"]:
        return f"media {r['media']}: no trace yet"
    return "\n".join([f"media {r['media']}: {len(r['traces'])} trace(s)"] + [
        f"  #{t['id']} {t['annotator']} {t['mode']} {t['samples']} samples {t['start']:.2f}-{t['end']:.2f} s "
        f"({t['created_at']})" for t in r["traces"]])


@verb(app, "list", text=format_list, help="the traces recorded on a video (every recording, oldest first)")
def list_(media: MediaOpt, json_out: JsonOpt = False) -> Result:
    from core.store.db import read_session
    from core.store.traces import list_traces, video_media

    with read_session() as s:
        if not any(m["id"] == media for m in video_media(s)):
            raise LookupError(f"media {media}: no such video in the store")
        return {"media": media, "traces": list_traces(s, media)}


def format_export(r: Result) -> str | None:
    return f"wrote {r['rows']} frame rows to {r['out']}" if r.get("out") else r["csv"].rstrip("\n")


@verb(app, "export", text=format_export,
      help="CSV aligned to the video's frames: frame, time, valence/arousal per annotator and the consensus")
def export(media: MediaOpt,
           out: Annotated[Path | None, typer.Option("--out", help="write the CSV here (default: stdout)")] = None,
           json_out: JsonOpt = False) -> Result:
    from core.store.db import read_session
    from core.store.traces import export_traces_csv

    with read_session() as s:
        text = export_traces_csv(s, media)
    rows = text.count("\n") - 1
    if out is None:
        return {"media": media, "rows": rows, "csv": text}
    out.write_text(text)
    return {"media": media, "rows": rows, "out": str(out)}


def format_agreement(r: Result) -> str:
    if r["agreement"] is None:
        return f"media {r['media']}: {len(r['annotators'])} annotator(s); agreement needs two traces"
    lines = [f"media {r['media']}: newest trace of {', '.join(r['annotators'])} on a {r['rate_hz']:g} Hz grid",
             f"{'dimension':10s} {'CCC':>7s} {'CCC(d)':>7s} {'sign':>7s} pairs"]
    for dim, a in r["agreement"].items():
        lines.append(f"{dim:10s} {_num(a['ccc']):>7s} {_num(a['ccc_diff']):>7s} {_num(a['sign']):>7s} {len(a['pairs'])}")
    return "\n".join(lines)


@verb(app, "agreement", text=format_agreement,
      help="agreement of the annotators' newest traces: mean pairwise CCC, CCC of first differences, "
           "share of steps moving the same way")
def agreement(media: MediaOpt, rate: RateOpt = 10.0, json_out: JsonOpt = False) -> Result:
    from core.store.db import read_session
    from core.store.traces import trace_report

    with read_session() as s:
        rep = trace_report(s, media, rate)
    return {"media": media, "rate_hz": rate, "annotators": [t["name"] for t in rep["traces"]],
            "agreement": rep["agreement"]}
