"""Loss and accuracy per epoch as inline SVG, drawn on the server (no scripts, no CDN)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 340, 200
LEFT, RIGHT, TOP, BOTTOM = 40, 10, 24, 28
TRAIN_COLOUR, VALIDATION_COLOUR = "#3457d5", "#c9731a"


@dataclass(frozen=True)
class Series:
    name: str
    colour: str
    points: list[tuple[float, float]]
    dashed: bool = False


def training_charts(history: Sequence[dict[str, float]]) -> Markup:
    """Two panels (loss, accuracy), train and validation lines; empty without history."""
    rows = sorted(
        (h for h in history if isinstance(h.get("epoch"), int | float)), key=lambda h: h["epoch"]
    )
    if not rows:
        return Markup("")
    loss = _series(rows, "loss", "val_loss")
    accuracy = _series(rows, "accuracy", "val_accuracy")
    epochs = [float(r["epoch"]) for r in rows]
    panels = [_panel("Loss", loss, epochs, None), _panel("Accuracy", accuracy, epochs, (0.0, 1.0))]
    return Markup("").join(panels)


def _series(rows: Sequence[dict[str, float]], train: str, validation: str) -> list[Series]:
    out = []
    for key, colour, dashed in (
        (train, TRAIN_COLOUR, False),
        (validation, VALIDATION_COLOUR, True),
    ):
        points = [(float(r["epoch"]), float(r[key])) for r in rows if _is_number(r.get(key))]
        if points:
            name = "validation" if key == validation else "training"
            out.append(Series(name, colour, points, dashed))
    return out


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _panel(
    title: str, series: list[Series], epochs: list[float], y_range: tuple[float, float] | None
) -> Markup:
    values = [y for s in series for _, y in s.points]
    low, high = y_range or (min(values, default=0.0), max(values, default=1.0))
    if high - low < 1e-9:
        low, high = low - 0.5, high + 0.5
    first, last = min(epochs), max(epochs)
    span = max(last - first, 1.0)

    def x(epoch: float) -> float:
        return LEFT + (epoch - first) / span * (WIDTH - LEFT - RIGHT)

    def y(value: float) -> float:
        return TOP + (high - value) / (high - low) * (HEIGHT - TOP - BOTTOM)

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)} per epoch">',
        f"<title>{escape(title)} per epoch</title>",
        f'<text x="{LEFT}" y="14" font-weight="600">{escape(title)}</text>',
        f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" y2="{HEIGHT - BOTTOM}" '
        'stroke="#aab2c3"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{HEIGHT - BOTTOM}" stroke="#aab2c3"/>',
        f'<text x="{LEFT - 4}" y="{TOP + 4}" text-anchor="end">{high:.2f}</text>',
        f'<text x="{LEFT - 4}" y="{HEIGHT - BOTTOM}" text-anchor="end">{low:.2f}</text>',
        f'<text x="{LEFT}" y="{HEIGHT - 8}">epoch {first:g}</text>',
        f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 8}" text-anchor="end">epoch {last:g}</text>',
    ]
    for index, line in enumerate(series):
        coords = " ".join(f"{x(e):.1f},{y(v):.1f}" for e, v in line.points)
        dash = ' stroke-dasharray="5 3"' if line.dashed else ""
        parts.append(
            f'<polyline class="series-{escape(line.name)}" points="{coords}" fill="none" '
            f'stroke="{line.colour}" stroke-width="2"{dash}/>'
        )
        for e, v in line.points:
            parts.append(f'<circle cx="{x(e):.1f}" cy="{y(v):.1f}" r="2.5" fill="{line.colour}"/>')
        legend_x = WIDTH - RIGHT - 150 + index * 80
        parts.append(
            f'<text x="{legend_x}" y="14" fill="{line.colour}">— {escape(line.name)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
