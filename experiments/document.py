"""A brief as a list of blocks, written as Markdown and as one self-contained HTML page.

Blocks: ("title", text), ("banner", text), ("headline", text), ("h2", text), ("p", text),
("list", [items]), ("box", title, [items]), ("table", header, rows), ("figure", file, caption).
Figures are PNG files relative to the brief's folder; the HTML embeds them (base64)."""

from __future__ import annotations

import base64
import html
import os
import re
from pathlib import Path

STYLE = """
body{font-family:"DejaVu Sans",Arial,sans-serif;max-width:64em;margin:1.5em auto;padding:0 1em;
line-height:1.45;color:#1a1a1a}
h1{font-size:1.6em;margin-bottom:.3em}
.banner{background:#fde2e1;border:3px solid #c0392b;padding:.8em 1em;font-weight:bold;margin:1em 0}
.headline{font-size:1.35em;background:#eef4fb;border-left:6px solid #1f77b4;padding:.8em 1em;margin:1em 0}
.box{border:2px solid #888;background:#f7f7f7;padding:.2em 1em;margin:1em 0}
.box h3{margin:.5em 0 .2em}
table{border-collapse:collapse;margin:.6em 0}
th,td{padding:.25em .8em;border-bottom:1px solid #ddd;text-align:left}
th{border-bottom:2px solid #888}
figure{margin:1.2em 0}figure img{max-width:100%}figcaption{color:#444;font-size:.95em}
code{background:#f0f0f0;padding:0 .2em}
"""


def markdown(blocks: list[tuple]) -> str:
    out = []
    for kind, *rest in blocks:
        if kind == "title":
            out.append(f"# {rest[0]}")
        elif kind == "banner":
            out.append(f"> **{rest[0]}**")
        elif kind == "headline":
            out.append(f"**{rest[0]}**")
        elif kind == "h2":
            out.append(f"## {rest[0]}")
        elif kind == "p":
            out.append(rest[0])
        elif kind == "list":
            out.append("\n".join(f"- {item}" for item in rest[0]))
        elif kind == "box":
            out.append(f"### {rest[0]}\n\n" + "\n".join(f"- {item}" for item in rest[1]))
        elif kind == "table":
            header, rows = rest
            lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows]
            out.append("\n".join(lines))
        elif kind == "figure":
            out.append(f"![{rest[1]}]({rest[0]})\n\n*{rest[1]}*")
        else:
            raise ValueError(f"unknown block {kind!r}")
    return "\n\n".join(out) + "\n"


def _inline(text: str) -> str:
    """Escaped text with `code` spans and **bold**."""
    parts = html.escape(text).split("`")
    text = "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))
    return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)


def page(blocks: list[tuple], folder: Path, title: str) -> str:
    body = []
    for kind, *rest in blocks:
        if kind == "title":
            body.append(f"<h1>{_inline(rest[0])}</h1>")
        elif kind == "banner":
            body.append(f'<div class="banner" role="alert">{_inline(rest[0])}</div>')
        elif kind == "headline":
            body.append(f'<p class="headline">{_inline(rest[0])}</p>')
        elif kind == "h2":
            body.append(f"<h2>{_inline(rest[0])}</h2>")
        elif kind == "p":
            body.append(f"<p>{_inline(rest[0])}</p>")
        elif kind == "list":
            body.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in rest[0]) + "</ul>")
        elif kind == "box":
            items = "".join(f"<li>{_inline(i)}</li>" for i in rest[1])
            body.append(f'<div class="box"><h3>{_inline(rest[0])}</h3><ul>{items}</ul></div>')
        elif kind == "table":
            header, rows = rest
            head = "".join(f"<th>{_inline(str(h))}</th>" for h in header)
            cells = "".join("<tr>" + "".join(f"<td>{_inline(str(c))}</td>" for c in r) + "</tr>"
                            for r in rows)
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>")
        elif kind == "figure":
            data = base64.b64encode((folder / rest[0]).read_bytes()).decode()
            body.append(f'<figure><img alt="{html.escape(rest[1])}" '
                        f'src="data:image/png;base64,{data}"><figcaption>{_inline(rest[1])}'
                        f"</figcaption></figure>")
        else:
            raise ValueError(f"unknown block {kind!r}")
    return (f"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>\n<body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def write(folder: Path, blocks: list[tuple], title: str, stem: str = "brief") -> None:
    """brief.md and brief.html in `folder`, each replaced whole (never half-written)."""
    for name, text in ((f"{stem}.md", markdown(blocks)), (f"{stem}.html", page(blocks, folder, title))):
        tmp = folder / f".{name}.tmp-{os.getpid()}"
        tmp.write_text(text)
        os.replace(tmp, folder / name)
