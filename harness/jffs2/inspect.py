"""`jffs2 inspect`: what an image is, what is wrong with it, and which fix applies."""

from __future__ import annotations

from typing import Any

from harness.jffs2.nodes import scan


def inspect(data: bytes) -> dict:
    s = scan(data)
    first = s.first_node
    report: dict[str, Any] = {
        "size": len(data),
        "layout": s.layout,
        "verified_headers": s.counts,
        "nodes": dict(s.nodes),
        "obsolete_nodes": s.obsolete,
        "crc_errors": [{"offset": off, "what": why} for off, why in s.crc_errors],
        "used_bytes": s.used,
        "erased_bytes": s.erased,
        "other_bytes": s.other,
        "first_node_at": first,
    }
    report["advice"] = advice(report)
    return report


def advice(r: dict) -> list[str]:
    layout = r["layout"]
    if layout is None:
        return ["no JFFS2 node has a valid header CRC: this is not a JFFS2 image (or it is erased)"]
    out = []
    if layout == "little-swapped":
        out.append(
            "its 32-bit words are reversed (a community-script dump): run `uboot-dump swap IMG OUT`"
        )
    elif layout == "big-swapped":
        out.append(
            "its 32-bit words are reversed: run `uboot-dump swap IMG OUT`; it is big-endian then"
        )
    elif layout == "big":
        out.append("big-endian JFFS2: the MStar cameras need little-endian images (mkfs.jffs2 -l)")
    if r["first_node_at"]:
        out.append(
            f"the first node is at 0x{r['first_node_at']:x}: the bytes before it are not JFFS2"
        )
    if r["crc_errors"]:
        out.append(
            f"{len(r['crc_errors'])} nodes fail their CRC: the dump is damaged; read it again"
        )
    if not out:
        out.append("OK: little-endian JFFS2 in flash order, ready to restore")
    return out


def format_report(r: dict) -> str:
    lines = [
        f"size: {r['size']} bytes",
        f"layout: {r['layout'] or 'none'} (verified headers: "
        + ", ".join(f"{k} {v}" for k, v in r["verified_headers"].items())
        + ")",
        "nodes: "
        + (", ".join(f"{k} {v}" for k, v in sorted(r["nodes"].items())) or "none")
        + f"; obsolete {r['obsolete_nodes']}",
        f"space: used {r['used_bytes']}, erased {r['erased_bytes']}, other {r['other_bytes']}",
        f"CRC errors: {len(r['crc_errors'])}"
        + "".join(f"\n  0x{e['offset']:x}: {e['what']}" for e in r["crc_errors"][:20]),
    ]
    lines += [f"fix: {a}" for a in r["advice"]]
    return "\n".join(lines)
