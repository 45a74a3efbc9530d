// Rendered text-line images for the text-direction classifier (PaddleOCR cls):
// lines of words drawn with the DejaVu fonts (npm: dejavu-fonts-ttf), upright or
// turned 180 degrees, preprocessed as PaddleOCR does (height 48, width up to 192
// keeping the aspect ratio, (x/255 - 0.5)/0.5, zero padding on the right).
import * as path from 'node:path';
import { fail } from '../../errors';

export interface TextLine {
  /** [3, 48, 192] CHW float32, normalised. */
  data: Float32Array;
  /** 0: upright, 1: turned 180 degrees (the classifier's label order). */
  label: 0 | 1;
  text: string;
}

export interface RenderOptions {
  seed?: number;
  height?: number;
  width?: number;
}

const WORDS = ('invoice total amount date paid order number customer address street city phone email ' +
  'receipt tax price quantity item description shipping delivery account balance due payment bank ' +
  'transfer reference contact office hours monday friday service support product model serial warranty ' +
  'station platform train departure arrival gate ticket passenger seat coach express local ' +
  'chapter section page figure table summary results method analysis data report review notes').split(' ');

const FONTS = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf', 'DejaVuSerif.ttf', 'DejaVuSansMono.ttf', 'DejaVuSansCondensed.ttf', 'DejaVuSerif-Bold.ttf'];

interface Canvas2D {
  createCanvas(w: number, h: number): {
    getContext(kind: '2d'): Ctx;
  };
  GlobalFonts: { registerFromPath(file: string, family?: string): unknown };
}
interface Ctx {
  fillStyle: string;
  font: string;
  textBaseline: string;
  fillRect(x: number, y: number, w: number, h: number): void;
  fillText(t: string, x: number, y: number): void;
  measureText(t: string): { width: number };
  translate(x: number, y: number): void;
  rotate(a: number): void;
  drawImage(src: unknown, dx: number, dy: number, dw: number, dh: number): void;
  getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
  canvas: unknown;
}

let canvasModule: Canvas2D | undefined;
function canvas(): Canvas2D {
  if (canvasModule) return canvasModule;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    canvasModule = require('@napi-rs/canvas') as Canvas2D;
  } catch (err) {
    fail('E_UNSUPPORTED', `rendering text lines needs the @napi-rs/canvas package (npm install @napi-rs/canvas): ${(err as Error).message}`);
  }
  const dir = path.join(path.dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
  FONTS.forEach((f, i) => canvasModule!.GlobalFonts.registerFromPath(path.join(dir, f), `lowbit-font-${i}`));
  return canvasModule;
}

/** Mulberry32: a small seeded generator, so a data set is the same on every machine. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomText(r: () => number): string {
  const words: string[] = [];
  const n = 1 + Math.floor(r() * 4);
  for (let i = 0; i < n; i++) {
    const w = WORDS[Math.floor(r() * WORDS.length)];
    const k = r();
    words.push(k < 0.2 ? w.toUpperCase() : k < 0.45 ? w[0].toUpperCase() + w.slice(1) : w);
    if (r() < 0.3) words.push(String(Math.floor(r() * 100000)));
  }
  return words.join(' ');
}

export function renderTextLines(count: number, options: RenderOptions = {}): TextLine[] {
  if (!Number.isInteger(count) || count < 0) fail('E_ARG', `renderTextLines: count must be a non-negative integer, got ${count}`);
  const { createCanvas } = canvas();
  const r = rng(options.seed ?? 1);
  const H = options.height ?? 48, W = options.width ?? 192;
  const out: TextLine[] = [];
  for (let i = 0; i < count; i++) {
    const text = randomText(r);
    const size = 24 + Math.floor(r() * 16);
    const font = `${size}px lowbit-font-${Math.floor(r() * FONTS.length)}`;
    const probe = createCanvas(8, 8).getContext('2d');
    probe.font = font;
    const tw = Math.ceil(probe.measureText(text).width);
    const padX = 4 + Math.floor(r() * 10), padY = Math.floor(size * (0.15 + r() * 0.25));
    const cw = tw + 2 * padX, ch = size + 2 * padY;
    const src = createCanvas(cw, ch);
    const ctx = src.getContext('2d');
    const bg = 200 + Math.floor(r() * 56), fg = Math.floor(r() * 90);
    ctx.fillStyle = `rgb(${bg},${bg - Math.floor(r() * 20)},${bg - Math.floor(r() * 20)})`;
    ctx.fillRect(0, 0, cw, ch);
    const label: 0 | 1 = r() < 0.5 ? 0 : 1;
    if (label === 1) {
      ctx.translate(cw, ch);
      ctx.rotate(Math.PI);
    }
    ctx.fillStyle = `rgb(${fg},${fg},${fg + Math.floor(r() * 40)})`;
    ctx.font = font;
    ctx.textBaseline = 'middle';
    ctx.fillText(text, padX, ch / 2);
    // PaddleOCR's resize: height H, width ceil(H * aspect) capped at W, zeros to the right.
    const w = Math.min(W, Math.ceil((H * cw) / ch));
    const dst = createCanvas(W, H).getContext('2d');
    dst.drawImage(src, 0, 0, w, H);
    const px = dst.getImageData(0, 0, W, H).data;
    const data = new Float32Array(3 * H * W);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < w; x++) {
        const p = (y * W + x) * 4;
        // PaddleOCR feeds BGR.
        for (let c = 0; c < 3; c++) data[c * H * W + y * W + x] = (px[p + 2 - c] / 255 - 0.5) / 0.5;
      }
    }
    out.push({ data, label, text });
  }
  return out;
}

/** Stacks lines into a [N, 3, H, W] batch. */
export function batchOf(lines: readonly TextLine[], height = 48, width = 192): Float32Array {
  const per = 3 * height * width;
  const out = new Float32Array(lines.length * per);
  lines.forEach((l, i) => out.set(l.data, i * per));
  return out;
}
