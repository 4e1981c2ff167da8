/**
 * Minimal SVG line charts for the evaluation figures: x = channel rate (log scale), one line per
 * method with 95 % confidence bars. Pure: data in, SVG text out.
 */
export interface Series {
  name: string;
  mean: number[];
  ci95: number[];
  /** Default: the palette, in series order. */
  color?: string;
  dashed?: boolean;
}

const COLORS = ['#d62728', '#1f77b4', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

export function lineChart(opts: {
  title: string;
  yLabel: string;
  x: number[];
  series: Series[];
  logY?: boolean;
  /** Default: the channel rate on a log scale. */
  xLabel?: string;
  linearX?: boolean;
}): string {
  const W = 640;
  const H = 420;
  const m = { l: 70, r: 150, t: 40, b: 55 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const xs = opts.x;
  const lx = (v: number) => (opts.linearX ? v : Math.log10(v));
  // Many points (a per-frame series): a label every tenth or so, no markers.
  const every = Math.max(1, Math.ceil(xs.length / 10));
  const markers = xs.length <= 12;
  const x0 = lx(Math.min(...xs));
  const x1 = lx(Math.max(...xs));
  const px = (v: number) => m.l + (x1 > x0 ? ((lx(v) - x0) / (x1 - x0)) * pw : pw / 2);
  const values = opts.series.flatMap((s) => s.mean.flatMap((v, i) => [v - (s.ci95[i] ?? 0), v + (s.ci95[i] ?? 0)])).filter(Number.isFinite);
  const ty = (v: number) => (opts.logY ? Math.log10(Math.max(v, 1e-3)) : v);
  let y0 = Math.min(...values.map(ty));
  let y1 = Math.max(...values.map(ty));
  if (!(y1 > y0)) {
    y0 -= 1;
    y1 += 1;
  }
  const pad = (y1 - y0) * 0.05;
  y0 -= pad;
  y1 += pad;
  const py = (v: number) => m.t + ph - ((ty(v) - y0) / (y1 - y0)) * ph;
  const fmt = (v: number) =>
    Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(1) : Math.abs(v) >= 0.01 ? v.toFixed(3) : v.toExponential(0);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<title>${esc(opts.title)}</title>`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(
    `<text x="${W / 2 - m.r / 2 + m.l / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(opts.title)}</text>`,
  );
  // Axes and grid.
  for (let k = 0; k <= 5; k++) {
    const tv = y0 + ((y1 - y0) * k) / 5;
    const v = opts.logY ? 10 ** tv : tv;
    const y = m.t + ph - (ph * k) / 5;
    out.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
    out.push(`<text x="${m.l - 6}" y="${y + 4}" text-anchor="end">${fmt(v)}</text>`);
  }
  xs.forEach((v, k) => {
    if (k % every) return;
    out.push(`<line x1="${px(v)}" x2="${px(v)}" y1="${m.t}" y2="${m.t + ph}" stroke="#eee"/>`);
    out.push(`<text x="${px(v)}" y="${m.t + ph + 18}" text-anchor="middle">${v}</text>`);
  });
  out.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  out.push(
    `<text x="${m.l + pw / 2}" y="${H - 12}" text-anchor="middle">${esc(opts.xLabel ?? 'channel rate (bytes / raw bytes, log scale)')}</text>`,
  );
  out.push(`<text transform="translate(16 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle">${esc(opts.yLabel)}</text>`);
  opts.series.forEach((s, i) => {
    const c = s.color ?? COLORS[i % COLORS.length];
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    const pts = xs.map((x, k) => [px(x), s.mean[k] as number] as const).filter(([, v]) => Number.isFinite(v));
    out.push(
      `<polyline fill="none" stroke="${c}" stroke-width="2"${dash} points="${pts.map(([x, v]) => `${x.toFixed(1)},${py(v).toFixed(1)}`).join(' ')}"/>`,
    );
    xs.forEach((x, k) => {
      const v = s.mean[k] as number;
      const e = s.ci95[k] ?? 0;
      if (!Number.isFinite(v) || !markers) return;
      out.push(`<line x1="${px(x)}" x2="${px(x)}" y1="${py(v - e)}" y2="${py(v + e)}" stroke="${c}"/>`);
      out.push(`<circle cx="${px(x)}" cy="${py(v)}" r="3.5" fill="${c}"/>`);
    });
    const ly = m.t + 14 + i * 20;
    out.push(`<line x1="${m.l + pw + 14}" x2="${m.l + pw + 38}" y1="${ly}" y2="${ly}" stroke="${c}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${m.l + pw + 44}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}

function esc(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c] as string);
}
