"""`affectlab gc`: remove crop, media and clip files no row references (what a killed or refused
import left behind) and expired upload folders, safely while nothing writes them."""
from typing import Annotated

import typer

from cli.verb import JsonOpt, Result, verb

app = typer.Typer()


def format_gc(result: Result) -> str:
    counts = result.get("removed") or result.get("would_remove") or {}
    verb_ = "would remove" if result["dry_run"] else "removed"
    return (f"{verb_} {counts.get('crops', 0)} crop(s), {counts.get('media', 0)} media file(s), "
            f"{counts.get('clip_crops', 0)} clip crop stack(s), "
            f"{counts.get('clip_embeddings', 0) + counts.get('clip_audio', 0)} clip array(s), "
            f"{counts.get('uploads', 0)} expired upload folder(s), {counts.get('temp', 0)} temp file(s), "
            f"{result['bytes']:,} bytes; kept {result['kept']} referenced file(s) in {result['data_dir']}")


@verb(app, "gc", text=format_gc,
      help="remove crop/media files no committed row references (refused while an import or capture "
           "is writing; see --wait)")
def gc(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="only report what would be removed")] = False,
    wait: Annotated[float, typer.Option(help="seconds to wait for running imports to end")] = 0.0,
    json_out: JsonOpt = False,
) -> Result:
    from core.ingest.gc import collect_garbage

    return collect_garbage(dry_run=dry_run, wait_s=wait)
