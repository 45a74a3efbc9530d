// The quantization report: a text table for the terminal and a self-contained
// HTML page (inline SVG, no scripts) with per-layer SQNR bars and each layer's
// activation histogram with the chosen clipping range.
import type { LayerReport, StaticResult } from './static';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const num = (v: number, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : String(v));

/** The color of an SQNR: red below 15 dB, amber below 25, green above. */
function tone(db: number): string {
  return db < 15 ? '#d64545' : db < 25 ? '#e0a030' : '#3a9a5b';
}

/** Horizontal bars, one per layer, on a shared dB axis. */
function sqnrChart(layers: LayerReport[]): string {
  const rowH = 16, labelW = 260, barW = 420, top = 24;
  const max = Math.max(40, ...layers.map((l) => (Number.isFinite(l.sqnr) ? l.sqnr : 0)));
  const x = (db: number) => labelW + (Math.max(0, Math.min(max, db)) / max) * barW;
  const h = top + rowH * layers.length + 8;
  const rows = layers.map((l, i) => {
    const y = top + i * rowH;
    const db = Number.isFinite(l.sqnr) ? l.sqnr : max;
    return `<text x="${labelW - 6}" y="${y + 11}" text-anchor="end">${esc(l.name.slice(0, 40))}</text>` +
      `<rect x="${labelW}" y="${y + 2}" width="${(x(db) - labelW).toFixed(1)}" height="${rowH - 4}" fill="${tone(db)}"><title>${esc(l.name)}: ${num(l.sqnr, 1)} dB</title></rect>` +
      `<text x="${(x(db) + 4).toFixed(1)}" y="${y + 11}">${num(l.sqnr, 1)}</text>`;
  });
  const ticks = Array.from({ length: Math.floor(max / 10) + 1 }, (_, i) => i * 10).map((db) => {
    const tx = x(db).toFixed(1);
    return `<line x1="${tx}" y1="${top - 4}" x2="${tx}" y2="${h - 8}" stroke="#ddd"/><text x="${tx}" y="${top - 8}" text-anchor="middle">${db} dB</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${labelW + barW + 60}" height="${h}" font-family="sans-serif" font-size="11">${ticks.join('')}${rows.join('')}</svg>`;
}

/** One layer's histogram (log counts) over the observed range, the clipping range shaded. */
function histogramChart(l: LayerReport): string {
  const w = 300, h = 90, pad = 4;
  const [lo, hi] = l.observed;
  const span = hi - lo || 1;
  const x = (v: number) => pad + ((Math.max(lo, Math.min(hi, v)) - lo) / span) * (w - 2 * pad);
  const peak = Math.log1p(Math.max(1, ...l.histogram));
  const bw = (w - 2 * pad) / l.histogram.length;
  const bars = l.histogram.map((c, i) => {
    const bh = (Math.log1p(c) / peak) * (h - 20);
    return `<rect x="${(pad + i * bw).toFixed(1)}" y="${(h - 14 - bh).toFixed(1)}" width="${Math.max(0.5, bw - 0.5).toFixed(1)}" height="${bh.toFixed(1)}" fill="#5b7fbf"/>`;
  });
  const [c0, c1] = [x(l.range[0]), x(l.range[1])];
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="10">` +
    `<rect x="${c0.toFixed(1)}" y="2" width="${Math.max(1, c1 - c0).toFixed(1)}" height="${h - 16}" fill="#3a9a5b" opacity="0.12"/>${bars.join('')}` +
    `<line x1="${c0.toFixed(1)}" y1="2" x2="${c0.toFixed(1)}" y2="${h - 14}" stroke="#d64545"/><line x1="${c1.toFixed(1)}" y1="2" x2="${c1.toFixed(1)}" y2="${h - 14}" stroke="#d64545"/>` +
    `<text x="${pad}" y="${h - 2}">${num(lo)}</text><text x="${w - pad}" y="${h - 2}" text-anchor="end">${num(hi)}</text></svg>`;
}

export interface ReportMeta {
  model?: string;
  method?: string;
}

/** The report as an HTML page. Needs a result made with options.report. */
export function renderReportHtml(r: StaticResult, meta: ReportMeta = {}): string {
  const layers = r.layers ?? [];
  const size = `${(r.fp32Bytes / 1024).toFixed(1)} KiB fp32 &rarr; ${(r.model.length / 1024).toFixed(1)} KiB int8 (${(r.model.length / r.fp32Bytes).toFixed(2)}&times;)`;
  const outputs = (r.outputs ?? []).map((o) => `<li>${esc(o.name)}: ${num(o.sqnr, 1)} dB</li>`).join('');
  const worst = [...layers].sort((a, b) => a.sqnr - b.sqnr).slice(0, 5).map((l) => esc(l.name)).join(', ');
  const cards = layers.map((l) => `<div class="card"><b>${esc(l.name)}</b> <span class="op">${esc(l.producer)}</span><br>` +
    `SQNR <b style="color:${tone(l.sqnr)}">${num(l.sqnr, 1)} dB</b>, clip [${num(l.range[0], 3)}, ${num(l.range[1], 3)}], ` +
    `seen [${num(l.observed[0], 3)}, ${num(l.observed[1], 3)}], ${(100 * l.clipped).toFixed(2)}% clipped<br>${histogramChart(l)}</div>`).join('\n');
  const weights = r.weights.map((w) => `<tr><td>${esc(w.node)}</td><td>${esc(w.opType)}</td><td>${num(w.min, 4)}</td><td>${num(w.max, 4)}</td><td>${w.channels}</td></tr>`).join('');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>lowbit quantization report</title>
<style>body{font-family:sans-serif;margin:24px;color:#222}h2{margin-top:28px}.card{display:inline-block;vertical-align:top;margin:6px;padding:8px;border:1px solid #ddd;border-radius:4px;font-size:12px;width:310px}.op{color:#777}table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ddd;padding:2px 6px;text-align:right}td:first-child{text-align:left}</style>
</head><body>
<h1>lowbit quantization report</h1>
<p>${meta.model ? `Model <code>${esc(meta.model)}</code>, ` : ''}${meta.method ? `calibration <b>${esc(meta.method)}</b> on ` : 'calibrated on '}${r.calibrationBatches} batches in ${r.calibrationMs} ms. Size: ${size}.</p>
<div>Output SQNR (quantized vs fp32, report batch): <ul>${outputs}</ul></div>
<p>Lowest-SQNR activations: ${worst || '(none)'}.</p>
<h2>Per-layer SQNR</h2>
<p>Each quantized activation of the quantized model (after its QuantizeLinear/DequantizeLinear, so errors of earlier layers add up) against the fp32 model on the same input.</p>
${sqnrChart(layers)}
<h2>Activation histograms and clipping ranges</h2>
<p>fp32 values on the report batch (log counts); red lines and the shaded band: the calibrated range.</p>
${cards}
<h2>Weights</h2>
<table><tr><th>node</th><th>op</th><th>min</th><th>max</th><th>scales</th></tr>${weights}</table>
</body></html>
`;
}

/** The per-layer table for a terminal. */
export function layerTable(layers: LayerReport[]): string[] {
  const lines = [`${'activation'.padEnd(36)} ${'op'.padEnd(12)} ${'SQNR dB'.padStart(8)} ${'clip range'.padStart(20)} ${'clipped'.padStart(8)}`];
  for (const l of layers) {
    lines.push(`${l.name.slice(0, 36).padEnd(36)} ${l.producer.slice(0, 12).padEnd(12)} ${num(l.sqnr, 1).padStart(8)} ${`${num(l.range[0])}..${num(l.range[1])}`.padStart(20)} ${`${(100 * l.clipped).toFixed(2)}%`.padStart(8)}`);
  }
  return lines;
}
