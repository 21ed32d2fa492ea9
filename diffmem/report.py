"""`diffmem report`: one self-contained HTML page of what the memory did.

The page shows one sequence's `diffmem.trace.trace` history. A slider (or the
arrow keys, or the buttons beside it) picks a time step t; the page then shows
the inputs, targets and outputs of the whole sequence with step t marked, the
memory at step t as an N x M heat map, every head's weighting over the N rows
beside it, the head parameters of Eq. (5)-(9) (beta, g, s, gamma; e and a for
write heads) and the read vectors.

Everything is in the one file: inline CSS, a script that draws on <canvas>,
and the history as JSON with floats cut to `SIGNIFICANT_DIGITS`. It loads no
fonts, scripts or images, so it opens from disk with no network. Example::

    from diffmem.trace import trace
    from diffmem.report import render_report, write_report
    history = trace(params, config, batch.inputs[:, :1])  # first sequence
    page = render_report(history, batch.targets[:, 0], batch.mask[:, 0],
                         "copy, length 5", {"controller": "feedforward"})
    write_report("report.html", page)
"""

import html
import json
import os
import tempfile

import numpy as np

SIGNIFICANT_DIGITS = 4
"""Significant digits of every float in the embedded JSON."""

HISTORY_SHAPES = {
    "inputs": ("T", "X"),
    "outputs": ("T", "Y"),
    "read_weights": ("T", "R", "N"),
    "write_weights": ("T", "W", "N"),
    "content_weights": ("T", "K", "N"),
    "keys": ("T", "K", "M"),
    "key_strengths": ("T", "K"),
    "gates": ("T", "K"),
    "sharpenings": ("T", "K"),
    "shifts": ("T", "K", "2S+1"),
    "erases": ("T", "W", "M"),
    "adds": ("T", "W", "M"),
    "reads": ("T", "R", "M"),
    "memory": ("T+1", "N", "M"),
}
"""The arrays of a `trace` history the page uses, with their axes."""


def render_report(history, targets, mask, title, config_summary):
    """One self-contained HTML page of an NTM's history on one sequence.

    Parameters
    ----------
    history : dict of numpy arrays, as returned by `diffmem.trace.trace`;
        the keys and shapes of `HISTORY_SHAPES` are used, e.g. inputs (T, X),
        read_weights (T, R, N), shifts (T, K, 2S + 1), memory (T + 1, N, M).
    targets : (T, Y) array or None, the wanted outputs.
    mask : (T,) array or None, 1 where the output is scored.
    title : str, shown as the page title and heading (escaped).
    config_summary : dict, shown as name: value pairs under the heading
        (e.g. `dataclasses.asdict(config)` plus the checkpoint's name).

    Returns
    -------
    str, the whole page.
    """
    sizes = _check_history(history)
    T, Y = sizes["T"], sizes["Y"]
    targets = _optional("targets", targets, (T, Y))
    mask = _optional("mask", mask, (T,))

    data = {name: _rounded(history[name]) for name in HISTORY_SHAPES}
    data["sizes"] = sizes
    data["targets"] = None if targets is None else _rounded(targets)
    data["mask"] = None if mask is None else _rounded(mask)

    # "<" escaped so no "</script>" can end the data block early
    payload = json.dumps(data, separators=(",", ":"), allow_nan=False)
    payload = payload.replace("<", "\\u003c")

    summary = "".join(
        f'<div class="chip"><span>{html.escape(str(name))}</span>'
        f"{html.escape(str(value))}</div>"
        for name, value in config_summary.items()
    )
    shape_line = (
        f"T = {T} steps, memory N &times; M = {sizes['N']} &times; {sizes['M']}, "
        f"{sizes['R']} read and {sizes['W']} write heads, "
        f"shifts &minus;{sizes['S']}..{sizes['S']}"
    )
    replacements = {
        "@TITLE@": html.escape(title),
        "@SHAPES@": shape_line,
        "@SUMMARY@": summary,
        "@LAST_STEP@": str(T - 1),
        "@CSS@": _CSS,
        "@SCRIPT@": _SCRIPT,
        "@DATA@": payload,  # last, so nothing in the data is taken as a marker
    }
    page = _PAGE
    for marker, text in replacements.items():
        page = page.replace(marker, text)
    return page


def write_report(path, html_text):
    """Write `html_text` to `path` atomically.

    The page goes to a temporary file in the same folder, which then replaces
    `path` (`os.replace`), so a reader never sees half a page.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=".report-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(html_text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _check_history(history):
    """The sizes T, X, Y, N, M, R, W, K, S of `history`, or a ValueError.

    Each axis letter of `HISTORY_SHAPES` must have one length across arrays,
    memory must have T + 1 steps, K = R + W and the shift width must be odd.
    """
    sizes = {}
    for name, axes in HISTORY_SHAPES.items():
        if name not in history:
            raise ValueError(f"history has no {name!r}; expected the dict of trace()")
        shape = np.shape(history[name])
        if len(shape) != len(axes):
            raise ValueError(
                f"history[{name!r}] must have axes {axes}, got shape {shape}"
            )
        for axis, length in zip(axes, shape):
            if axis == "T+1":
                axis, length = "T", length - 1
            if sizes.setdefault(axis, length) != length:
                raise ValueError(
                    f"history[{name!r}] has {axis} = {length} on axis {axis!r}, "
                    f"but earlier arrays have {axis} = {sizes[axis]}"
                )

    if sizes["T"] < 1:
        raise ValueError("history must hold at least one time step, got T = 0")
    if sizes["K"] != sizes["R"] + sizes["W"]:
        raise ValueError(
            f"history has K = {sizes['K']} heads, but R + W = "
            f"{sizes['R']} + {sizes['W']}"
        )
    if sizes["2S+1"] % 2 != 1:
        raise ValueError(f"shifts must have an odd width 2S + 1, got {sizes['2S+1']}")
    sizes["S"] = sizes.pop("2S+1") // 2
    return sizes


def _optional(name, values, shape):
    """`values` as a float array of `shape`, or None if it is None."""
    if values is None:
        return None
    values = np.asarray(values, dtype=float)
    if values.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {values.shape}")
    return values


def _rounded(array):
    """Nested lists of `array`'s values to `SIGNIFICANT_DIGITS` digits.

    NaN and infinities become None (JSON null), which the page prints as "–".
    """
    array = np.asarray(array, dtype=float)
    digits = SIGNIFICANT_DIGITS
    flat = [
        float(f"{value:.{digits}g}") if np.isfinite(value) else None
        for value in array.ravel().tolist()
    ]
    return np.array(flat, dtype=object).reshape(array.shape).tolist()


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>@TITLE@</title>
<style>
@CSS@
</style>
</head>
<body>
<header>
  <h1>@TITLE@</h1>
  <p class="shapes">@SHAPES@</p>
  <div class="chips">@SUMMARY@</div>
</header>

<nav id="controls" aria-label="time step">
  <button id="prev" type="button" title="previous step (left arrow)">&#9664;</button>
  <input id="step" type="range" min="0" max="@LAST_STEP@" value="0" step="1"
         aria-label="time step">
  <button id="next" type="button" title="next step (right arrow)">&#9654;</button>
  <button id="play" type="button" title="play through the steps (space)">play</button>
  <span class="readout">step <b id="step-label">0</b> of
    <span id="last-step">@LAST_STEP@</span></span>
  <span id="phase" class="phase"></span>
</nav>

<section class="panel">
  <h2>The whole sequence</h2>
  <p class="note">Time runs left to right; the outlined column is the selected
    step. Click a column to select it. Head weightings over time: one row per
    memory location, darker is more weight, up to the largest weight of the
    band (printed under its name).</p>
  <div class="scroll"><canvas id="sequence"></canvas></div>
</section>

<section class="panel">
  <h2>At step <span id="step-title">0</span></h2>
  <div class="step-grid">
    <div>
      <div class="memory-mode" role="radiogroup" aria-label="memory shown">
        Memory shown:
        <label><input type="radio" name="when" value="before" checked>
          before this step's write (what the heads address and read)</label>
        <label><input type="radio" name="when" value="after">
          after this step's write</label>
      </div>
      <p class="note" id="memory-caption"></p>
      <div class="memory-row">
        <canvas id="memory"></canvas>
        <canvas id="weights"></canvas>
      </div>
      <canvas id="vectors"></canvas>
      <p class="note">Bars: the head's weighting w over the rows (Eq. 9);
        outline or line: its content weighting w<sup>c</sup> (Eq. 5); both to the
        scale under them. Strips under the
        memory line up with its columns: read vectors r (Eq. 2), keys k,
        erase e and add a (Eq. 3-4). Hover over any cell for its value.</p>
    </div>
    <div>
      <div id="step-values" class="card"></div>
      <div id="head-cards"></div>
    </div>
  </div>
</section>

<footer>Neural Turing Machine, Graves, Wayne and Danihelka (2014),
  arXiv:1410.5401. Drawn by diffmem.</footer>
<div id="tip" role="tooltip"></div>
<noscript>This page draws its pictures with JavaScript.</noscript>
<script type="application/json" id="ntm-data">@DATA@</script>
<script>
@SCRIPT@
</script>
</body>
</html>
"""

_CSS = """
:root {
  --ink: #1f2933; --muted: #616e7c; --line: #d9e2ec; --paper: #f5f7fa;
  --read: #0f766e; --write: #c2410c;
}
* { box-sizing: border-box; }
body {
  margin: 0; color: var(--ink); background: var(--paper);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans",
    sans-serif;
}
header { padding: 18px 24px 8px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 0 0 8px; }
h3 { font-size: 14px; margin: 0 0 6px; }
.shapes { margin: 0 0 8px; color: var(--muted); }
.chips { display: flex; flex-wrap: wrap; gap: 6px; }
.chip {
  background: #fff; border: 1px solid var(--line); border-radius: 12px;
  padding: 1px 9px; font-size: 12px;
}
.chip span { color: var(--muted); margin-right: 5px; }
#controls {
  position: sticky; top: 0; z-index: 2; display: flex; align-items: center;
  gap: 10px; padding: 10px 24px; background: #fff;
  border-bottom: 1px solid var(--line); box-shadow: 0 1px 3px #0001;
}
#controls input[type=range] { flex: 1; max-width: 640px; }
button {
  font: inherit; padding: 3px 11px; border: 1px solid #9aa5b1;
  border-radius: 5px; background: #fff; cursor: pointer;
}
button:hover { background: #eef2f7; }
.readout { font-variant-numeric: tabular-nums; min-width: 110px; }
.phase {
  font-size: 12px; padding: 1px 8px; border-radius: 10px;
  background: #e4e7eb;
}
.phase.scored { background: #fde68a; }
.panel {
  background: #fff; margin: 14px 24px; padding: 14px 16px;
  border: 1px solid var(--line); border-radius: 8px;
}
.note { color: var(--muted); font-size: 12px; margin: 4px 0 8px; }
.scroll { overflow-x: auto; }
canvas { display: block; }
.step-grid {
  display: grid; grid-template-columns: max-content minmax(300px, 1fr);
  gap: 24px; align-items: start;
}
.step-grid .note { max-width: 520px; }
#head-cards {
  display: grid; gap: 10px;
  grid-template-columns: repeat(auto-fill, minmax(250px, 1fr));
}
.memory-row { display: flex; gap: 10px; align-items: flex-start; }
.memory-mode { font-size: 13px; margin-bottom: 2px; }
.memory-mode label { display: block; margin-left: 10px; }
#vectors { margin-top: 8px; }
.card {
  border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px;
  margin-bottom: 10px; background: #fbfcfd;
}
.card.read { border-left: 4px solid var(--read); }
.card.write { border-left: 4px solid var(--write); }
.card table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
.card th {
  text-align: left; white-space: nowrap; font-weight: normal; color: var(--muted);
  padding: 1px 12px 1px 0;
}
.card td { padding: 1px 0; font-family: ui-monospace, "DejaVu Sans Mono",
  monospace; font-size: 13px; }
.card canvas { margin-top: 6px; }
#head-cards .card { margin-bottom: 0; }
footer { color: var(--muted); font-size: 12px; padding: 4px 24px 24px; }
#tip {
  position: fixed; display: none; pointer-events: none; z-index: 5;
  background: #1f2933; color: #fff; font-size: 12px; padding: 2px 7px;
  border-radius: 4px; white-space: nowrap;
}
@media (max-width: 900px) { .step-grid { grid-template-columns: 1fr; } }
"""

_SCRIPT = r"""
"use strict";
(function () {
  const D = JSON.parse(document.getElementById("ntm-data").textContent);
  const Z = D.sizes;
  const T = Z.T, N = Z.N, M = Z.M, R = Z.R, W = Z.W, S = Z.S, K = R + W;
  const slider = document.getElementById("step");
  let step = 0, after = false, timer = null;

  // colours: sequential for [0, 1], diverging around 0 for signed values
  const INK = [[248, 250, 252], [96, 165, 250], [30, 58, 138]];
  const TEAL = [[248, 250, 252], [94, 196, 182], [15, 84, 78]];
  const RUST = [[248, 250, 252], [251, 146, 60], [154, 52, 18]];
  const SIGNED = [[33, 102, 172], [247, 247, 247], [178, 24, 43]];
  function mix(stops, v) {
    if (v === null || Number.isNaN(v)) return "#e4e7eb";
    v = Math.min(1, Math.max(0, v)) * (stops.length - 1);
    const i = Math.min(stops.length - 2, Math.floor(v)), f = v - i;
    const c = stops[i].map((a, j) => Math.round(a + f * (stops[i + 1][j] - a)));
    return "rgb(" + c.join(",") + ")";
  }
  const unit = stops => v => mix(stops, v);
  const signed = scale => v => mix(SIGNED, v === null ? v : 0.5 + 0.5 * v / scale);
  const headColour = k => (k < R ? "#0f766e" : "#c2410c");
  const headStops = k => (k < R ? TEAL : RUST);
  const headName = k => (k < R ? "read " + k : "write " + (k - R));

  let memoryScale = 1e-12;
  for (const m of D.memory) for (const row of m) for (const v of row) {
    if (v !== null) memoryScale = Math.max(memoryScale, Math.abs(v));
  }

  // numbers: `digits` significant digits, exponent form when tiny or huge
  function fmt(v, digits) {
    digits = digits || 3;
    if (v === null || v === undefined) return "\u2013";
    if (v === 0) return "0";
    const a = Math.abs(v);
    if (a < 1e-3 || a >= 1e6) return v.toExponential(digits - 1);
    if (a >= Math.pow(10, digits)) return String(Math.round(v));
    return v.toPrecision(digits);
  }
  const bit = v => (v === 0 || v === 1 ? String(v) : fmt(v, 2));

  // canvases are sized in CSS pixels and drawn at the screen's pixel ratio
  function canvas2d(canvas, width, height) {
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.ceil(width * ratio);
    canvas.height = Math.ceil(height * ratio);
    canvas.style.width = width + "px";
    canvas.style.height = height + "px";
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    ctx.font = "11px system-ui, sans-serif";
    ctx.textBaseline = "middle";
    return ctx;
  }
  function grid(ctx, x0, y0, rows, cols, cw, ch, colourOf) {
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        ctx.fillStyle = colourOf(i, j);
        ctx.fillRect(x0 + j * cw, y0 + i * ch, cw, ch);
      }
    }
  }
  const clamp = (v, lo, hi) => Math.max(lo, Math.min(hi, v));
  const every = (cell, room) => {
    for (const k of [1, 2, 5, 10, 20, 25, 50, 100]) if (k * cell >= room) return k;
    return 200;
  };

  // the whole sequence: bands of rows over time
  const LEFT = 76, CW = clamp(Math.floor(720 / T), 5, 26), CH = 11;
  const NH = clamp(Math.floor(160 / N), 1, 8);
  const bands = [];
  function band(label, rows, ch, value, colour, rowName) {
    bands.push({ label, rows, ch, value, colour, rowName, top: null });
  }
  // weightings are coloured relative to the largest weight of their band
  function weightBand(label, value, stops) {
    let top = 1e-12;
    for (let t = 0; t < T; t++) {
      for (let i = 0; i < N; i++) top = Math.max(top, value(i, t) || 0);
    }
    band(label, N, NH, value, v => mix(stops, v === null ? v : v / top), location);
    bands[bands.length - 1].top = top;
  }
  const channel = i => "channel " + i;
  const location = i => "row " + i;
  band("input", Z.X, CH, (i, t) => D.inputs[t][i], unit(INK), channel);
  if (D.targets) band("target", Z.Y, CH, (i, t) => D.targets[t][i], unit(INK), channel);
  if (D.mask) {
    band("mask", 1, 7, (i, t) => D.mask[t], v => (v > 0 ? "#f59e0b" : "#eef1f4"),
      () => "scored");
  }
  band("output", Z.Y, CH, (i, t) => D.outputs[t][i], unit(INK), channel);
  for (let r = 0; r < R; r++) {
    weightBand("read " + r, (i, t) => D.read_weights[t][r][i], TEAL);
  }
  for (let w = 0; w < W; w++) {
    weightBand("write " + w, (i, t) => D.write_weights[t][w][i], RUST);
  }
  let y = 20;
  for (const b of bands) { b.y = y; y += b.rows * b.ch + 8; }
  const sequenceHeight = y + 12;

  function drawSequence() {
    const canvas = document.getElementById("sequence");
    const ctx = canvas2d(canvas, LEFT + T * CW + 8, sequenceHeight);
    for (const b of bands) {
      grid(ctx, LEFT, b.y, b.rows, T, CW, b.ch, (i, t) => b.colour(b.value(i, t)));
      const middle = b.y + b.rows * b.ch / 2;
      ctx.fillStyle = "#1f2933";
      ctx.textAlign = "right";
      ctx.fillText(b.label, LEFT - 8, b.top === null ? middle : middle - 7);
      if (b.top !== null) {
        ctx.fillStyle = "#616e7c";
        ctx.fillText("max " + fmt(b.top, 2), LEFT - 8, middle + 7);
      }
    }
    // time axis and the selected step
    ctx.fillStyle = "#616e7c";
    ctx.textAlign = "center";
    const tick = every(CW, 28);
    for (let t = 0; t < T; t += tick) {
      ctx.fillText(String(t), LEFT + (t + 0.5) * CW, sequenceHeight - 6);
    }
    ctx.strokeStyle = "#111";
    ctx.lineWidth = 2;
    ctx.strokeRect(LEFT + step * CW - 1, 15, CW + 2, sequenceHeight - 31);
    ctx.fillStyle = "#111";
    ctx.fillText("t = " + step, LEFT + (step + 0.5) * CW, 7);
    canvas.hover = (px, py) => {
      const t = Math.floor((px - LEFT) / CW);
      const b = bands.find(b => py >= b.y && py < b.y + b.rows * b.ch);
      if (!b || t < 0 || t >= T) return null;
      const i = Math.floor((py - b.y) / b.ch);
      return b.label + ", " + b.rowName(i) + ", t = " + t + ": " +
        fmt(b.value(i, t), 4);
    };
  }
  document.getElementById("sequence").addEventListener("click", event => {
    const box = event.target.getBoundingClientRect();
    const t = Math.floor((event.clientX - box.left - LEFT) / CW);
    if (t >= 0 && t < T) select(t);
  });

  // the memory at the step, the head weightings beside it, vectors under it
  const ML = 60, MT = 18, MW = clamp(Math.floor(360 / M), 10, 28);
  const MH = clamp(Math.floor(448 / N), 3, 20), HEAD = 118, BAR = 100;

  function drawMemory() {
    const memory = D.memory[after ? step + 1 : step];
    const ctx = canvas2d(document.getElementById("memory"), ML + M * MW + 2,
      MT + N * MH + 2);
    grid(ctx, ML, MT, N, M, MW, MH, (i, j) => signed(memoryScale)(memory[i][j]));
    ctx.fillStyle = "#616e7c";
    ctx.textAlign = "right";
    const rowTick = every(MH, 13);
    for (let i = 0; i < N; i += rowTick) {
      ctx.fillText(String(i), ML - 5, MT + (i + 0.5) * MH);
    }
    ctx.textAlign = "center";
    const colTick = every(MW, 16);
    for (let j = 0; j < M; j += colTick) {
      ctx.fillText(String(j), ML + (j + 0.5) * MW, 8);
    }
    ctx.textAlign = "left";
    ctx.fillText("row", 2, 8);
    document.getElementById("memory").hover = (px, py) => {
      const i = Math.floor((py - MT) / MH), j = Math.floor((px - ML) / MW);
      if (i < 0 || i >= N || j < 0 || j >= M) return null;
      return "memory[" + i + "][" + j + "] = " + fmt(memory[i][j], 4);
    };
    document.getElementById("memory-caption").textContent =
      "Memory " + N + " \u00d7 " + M + " " +
      (after ? "after step " + step + "'s write" : "before step " + step + "'s write") +
      "; colour scale \u00b1" + fmt(memoryScale, 3) +
      " (blue negative, red positive), fixed over the sequence.";
  }

  function weightsAt(k) {
    return k < R ? D.read_weights[step][k] : D.write_weights[step][k - R];
  }

  // the smallest of 1, 2 or 5 times a power of ten that is >= v
  function niceCeiling(v) {
    if (!(v > 0)) return 1;
    const power = Math.pow(10, Math.floor(Math.log10(v)));
    for (const k of [1, 2, 5, 10]) if (k * power >= v * (1 - 1e-9)) return k * power;
    return 10 * power;
  }

  function drawWeights() {
    const canvas = document.getElementById("weights");
    const ctx = canvas2d(canvas, K * HEAD, MT + N * MH + 18);
    for (let k = 0; k < K; k++) {
      const x0 = k * HEAD, w = weightsAt(k), c = D.content_weights[step][k];
      const top = niceCeiling(Math.max(...w.map(v => v || 0), ...c.map(v => v || 0)));
      const length = v => BAR * (v || 0) / top;
      ctx.fillStyle = "#f1f4f8";
      ctx.fillRect(x0, MT, BAR, N * MH);
      ctx.fillStyle = headColour(k);
      ctx.textAlign = "left";
      ctx.fillText(headName(k), x0, 8);
      const gap = MH >= 4 ? 1 : 0;
      for (let i = 0; i < N; i++) ctx.fillRect(x0, MT + i * MH, length(w[i]), MH - gap);
      // content weighting: an outline per row, or one line where rows are thin
      ctx.strokeStyle = "#1f2933";
      ctx.lineWidth = 1;
      if (MH >= 6) {
        for (let i = 0; i < N; i++) {
          if (length(c[i]) < 2) continue;
          ctx.strokeRect(x0 + 0.5, MT + i * MH + 0.5, length(c[i]) - 1, MH - 2);
        }
      } else {
        ctx.beginPath();
        for (let i = 0; i < N; i++) ctx.lineTo(x0 + length(c[i]), MT + (i + 0.5) * MH);
        ctx.stroke();
      }
      // the bar scale, 0 at the left to the largest weight at the right
      ctx.fillStyle = "#616e7c";
      ctx.fillText("0", x0, MT + N * MH + 9);
      ctx.textAlign = "right";
      ctx.fillText(fmt(top, 2), x0 + BAR, MT + N * MH + 9);
    }
    canvas.hover = (px, py) => {
      const k = Math.floor(px / HEAD), i = Math.floor((py - MT) / MH);
      if (k < 0 || k >= K || i < 0 || i >= N || px - k * HEAD > BAR) return null;
      return headName(k) + ", row " + i + ": w = " + fmt(weightsAt(k)[i], 4) +
        ", w\u1d9c = " + fmt(D.content_weights[step][k][i], 4);
    };
  }

  function drawVectors() {
    const rows = [];
    for (let r = 0; r < R; r++) {
      rows.push(["read r" + r, D.reads[step][r], signed(memoryScale), r]);
    }
    for (let k = 0; k < K; k++) {
      const name = k < R ? "key r" + k : "key w" + (k - R);
      rows.push([name, D.keys[step][k], signed(1), k]);
    }
    for (let w = 0; w < W; w++) {
      rows.push(["erase w" + w, D.erases[step][w], unit(INK), R + w]);
      rows.push(["add w" + w, D.adds[step][w], signed(1), R + w]);
    }
    const RH = 14, canvas = document.getElementById("vectors");
    const ctx = canvas2d(canvas, ML + M * MW + 2, rows.length * (RH + 3) + 2);
    rows.forEach(([label, values, colour, k], n) => {
      const y0 = n * (RH + 3);
      grid(ctx, ML, y0, 1, M, MW, RH, (i, j) => colour(values[j]));
      ctx.fillStyle = headColour(k);
      ctx.textAlign = "right";
      ctx.fillText(label, ML - 5, y0 + RH / 2);
    });
    canvas.hover = (px, py) => {
      const n = Math.floor(py / (RH + 3)), j = Math.floor((px - ML) / MW);
      if (n < 0 || n >= rows.length || j < 0 || j >= M) return null;
      return rows[n][0] + "[" + j + "] = " + fmt(rows[n][1][j], 4);
    };
  }

  // printed values: this step's input, target and output, then each head
  function vectorText(values, show) {
    return values.map(show).join(" ");
  }
  function drawStepValues() {
    const lines = [["input x", vectorText(D.inputs[step], bit)]];
    if (D.targets) lines.push(["target", vectorText(D.targets[step], bit)]);
    lines.push(["output", vectorText(D.outputs[step], v => fmt(v, 2))]);
    if (D.targets) {
      let wrong = 0;
      D.outputs[step].forEach((v, i) => {
        if ((v > 0.5 ? 1 : 0) !== D.targets[step][i]) wrong += 1;
      });
      lines.push(["bits wrong", String(wrong) + (D.mask && !D.mask[step] ?
        " (not scored)" : "")]);
    }
    document.getElementById("step-values").innerHTML =
      "<h3>Step " + step + "</h3><table>" + lines.map(([name, text]) =>
        "<tr><th>" + name + "</th><td>" + text + "</td></tr>").join("") +
      "</table>";
  }

  function argmax(values) {
    let best = 0;
    values.forEach((v, i) => { if (v > values[best]) best = i; });
    return best;
  }
  function drawHeads() {
    const box = document.getElementById("head-cards");
    box.innerHTML = "";
    for (let k = 0; k < K; k++) {
      const w = weightsAt(k), focus = argmax(w);
      const rows = [
        ["key strength \u03b2", fmt(D.key_strengths[step][k], 4)],
        ["gate g", fmt(D.gates[step][k], 3)],
        ["sharpening \u03b3", fmt(D.sharpenings[step][k], 4)],
        ["peak", "row " + focus + ", w = " + fmt(w[focus], 3)],
      ];
      if (k >= R) {
        const e = D.erases[step][k - R], a = D.adds[step][k - R];
        const mean = v => v.reduce((s, x) => s + x, 0) / Math.max(1, v.length);
        const spread = v => "mean " + fmt(mean(v), 3) + ", " +
          fmt(Math.min(...v), 2) + " to " + fmt(Math.max(...v), 2);
        rows.push(["erase e", spread(e)]);
        rows.push(["add a", spread(a)]);
      }
      const card = document.createElement("div");
      card.className = "card " + (k < R ? "read" : "write");
      card.innerHTML = "<h3>" + (k < R ? "Read head " + k : "Write head " + (k - R)) +
        "</h3><table>" + rows.map(([name, text]) =>
          "<tr><th>" + name + "</th><td>" + text + "</td></tr>").join("") +
        "<tr><th>shift s</th><td></td></tr></table>";
      const chart = document.createElement("canvas");
      card.appendChild(chart);
      drawShift(chart, D.shifts[step][k], headColour(k));
      box.appendChild(card);
    }
  }
  function drawShift(canvas, s, colour) {
    const bw = 40, height = 74, base = height - 16, top = 14;
    const ctx = canvas2d(canvas, s.length * bw, height);
    ctx.textAlign = "center";
    s.forEach((v, n) => {
      const x = n * bw, h = (base - top) * (v || 0);
      ctx.fillStyle = "#eef1f4";
      ctx.fillRect(x + 6, top, bw - 12, base - top);
      ctx.fillStyle = colour;
      ctx.fillRect(x + 6, base - h, bw - 12, h);
      ctx.fillStyle = "#1f2933";
      ctx.fillText(fmt(v, 2), x + bw / 2, top - 7);
      ctx.fillStyle = "#616e7c";
      const offset = n - S;
      ctx.fillText((offset > 0 ? "+" : offset < 0 ? "\u2212" : "") + Math.abs(offset),
        x + bw / 2, height - 7);
    });
  }

  // selecting a step redraws everything that depends on it
  function select(t) {
    step = clamp(Math.round(t), 0, T - 1);
    slider.value = String(step);
    document.getElementById("step-label").textContent = String(step);
    document.getElementById("step-title").textContent = String(step);
    const phase = document.getElementById("phase");
    if (D.mask) {
      const scored = D.mask[step] > 0;
      phase.textContent = scored ? "output scored" : "output not scored";
      phase.className = "phase" + (scored ? " scored" : "");
    }
    drawSequence();
    drawMemory();
    drawWeights();
    drawVectors();
    drawStepValues();
    drawHeads();
  }
  function play() {
    if (timer !== null) {
      clearInterval(timer);
      timer = null;
      document.getElementById("play").textContent = "play";
      return;
    }
    if (step >= T - 1) select(0);
    document.getElementById("play").textContent = "pause";
    timer = setInterval(() => {
      if (step >= T - 1) play(); else select(step + 1);
    }, 450);
  }

  slider.addEventListener("input", () => select(Number(slider.value)));
  document.getElementById("prev").addEventListener("click", () => select(step - 1));
  document.getElementById("next").addEventListener("click", () => select(step + 1));
  document.getElementById("play").addEventListener("click", play);
  for (const radio of document.querySelectorAll("input[name=when]")) {
    radio.addEventListener("change", () => {
      after = radio.value === "after" && radio.checked;
      drawMemory();
    });
  }
  document.addEventListener("keydown", event => {
    if (event.target === slider || event.altKey || event.ctrlKey || event.metaKey) {
      return;  // the slider moves itself and fires "input"
    }
    const moves = { ArrowLeft: step - 1, ArrowRight: step + 1, Home: 0, End: T - 1 };
    if (event.key in moves) {
      select(moves[event.key]);
      event.preventDefault();
    } else if (event.key === " " && !/^(BUTTON|INPUT)$/.test(event.target.tagName)) {
      play();
      event.preventDefault();
    }
  });

  // one tooltip for every canvas that has a `hover` function
  const tip = document.getElementById("tip");
  document.addEventListener("mousemove", event => {
    const target = event.target;
    const box = target.getBoundingClientRect ? target.getBoundingClientRect() : null;
    const text = target.hover && box ?
      target.hover(event.clientX - box.left, event.clientY - box.top) : null;
    if (!text) { tip.style.display = "none"; return; }
    tip.textContent = text;
    tip.style.display = "block";
    tip.style.left = (event.clientX + 12) + "px";
    tip.style.top = (event.clientY + 14) + "px";
  });

  select(0);
})();
"""
