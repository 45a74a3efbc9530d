// Calibration batches from a folder of images (JPEG, PNG, WebP, GIF, TIFF,
// AVIF), decoded and resized with sharp, then scaled and normalized into the
// layout the model reads: x = (pixel * scale - mean[c]) / std[c].
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fail } from '../../errors';
import type { Feeds } from '../../runtime/session';
import { Tensor } from '../../tensor/tensor';

export interface ImageFolderOptions {
  /** The model input the batches feed (default 'x'). */
  input?: string;
  width: number;
  height: number;
  /** 'nchw' (default) or 'nhwc'. */
  layout?: 'nchw' | 'nhwc';
  /** 3 (RGB, default) or 1 (grayscale). */
  channels?: 1 | 3;
  /** Pixel scale before mean/std (default 1/255: pixels in [0, 1]). */
  scale?: number;
  /** Per-channel mean and std, after scaling (default 0 and 1). */
  mean?: number[];
  std?: number[];
  /** How the image fits the size: 'fill' stretches (default), 'cover' crops, 'contain' pads with black. */
  fit?: 'fill' | 'cover' | 'contain';
  /** Images per batch (default 8); the last batch may be smaller. */
  batch?: number;
  /** At most this many images (in file-name order). */
  limit?: number;
}

const IMAGE_FILE = /\.(jpe?g|png|webp|gif|tiff?|avif)$/i;

/** The image files of a folder, sorted by name. */
export function imageFiles(dir: string): string[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) fail('E_ARG', `${dir}: not a folder`);
  return fs.readdirSync(dir).filter((f) => IMAGE_FILE.test(f)).sort().map((f) => path.join(dir, f));
}

// The part of sharp's API used here, typed locally: sharp is optional, and
// lowbit compiles without it.
interface SharpImage {
  removeAlpha(): SharpImage;
  resize(width: number, height: number, options: { fit: string }): SharpImage;
  grayscale(): SharpImage;
  toColourspace(space: string): SharpImage;
  raw(): SharpImage;
  toBuffer(): Promise<Buffer>;
}
type Sharp = (input: string) => SharpImage;

function loadSharp(): Sharp {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('sharp') as Sharp;
  } catch (err) {
    fail('E_UNSUPPORTED', `reading images needs the 'sharp' package (an optional dependency of lowbit; npm install sharp): ${(err as Error).message}`);
  }
}

function perChannel(v: number[] | undefined, channels: number, def: number, what: string): number[] {
  if (v === undefined) return new Array<number>(channels).fill(def);
  if (v.length === 1) return new Array<number>(channels).fill(v[0]);
  if (v.length !== channels || v.some((x) => !Number.isFinite(x))) fail('E_ARG', `images: ${what} needs 1 or ${channels} finite numbers, got [${v.join(', ')}]`);
  return v;
}

/** One image as float32 [C, H, W] or [H, W, C], scaled and normalized. */
export async function loadImage(file: string, o: ImageFolderOptions): Promise<Float32Array> {
  const sharp = loadSharp();
  const c = o.channels ?? 3;
  const [scale, mean, std] = [o.scale ?? 1 / 255, perChannel(o.mean, c, 0, 'mean'), perChannel(o.std, c, 1, 'std')];
  if (std.some((s) => s === 0)) fail('E_ARG', 'images: std must not be 0');
  let pixels: Buffer;
  try {
    let img = sharp(file).removeAlpha().resize(o.width, o.height, { fit: o.fit ?? 'fill' });
    img = c === 1 ? img.grayscale() : img.toColourspace('srgb');
    pixels = await img.raw().toBuffer();
  } catch (err) {
    fail('E_ARG', `${file}: cannot decode the image (${(err as Error).message})`);
  }
  const hw = o.width * o.height;
  if (pixels.length !== hw * c) fail('E_ARG', `${file}: decoded ${pixels.length} bytes, expected ${hw * c}`);
  const out = new Float32Array(hw * c);
  const nhwc = (o.layout ?? 'nchw') === 'nhwc';
  for (let i = 0; i < hw; i++) {
    for (let k = 0; k < c; k++) {
      const v = (pixels[i * c + k] * scale - mean[k]) / std[k];
      out[nhwc ? i * c + k : k * hw + i] = v;
    }
  }
  return out;
}

/** Batches of feeds from every image in `dir` (file-name order), as an async iterable for quantizeStatic. */
export function imageFolderBatches(dir: string, o: ImageFolderOptions): AsyncIterable<Feeds> & { count: number; batches: number } {
  if (!(Number.isInteger(o.width) && o.width > 0 && Number.isInteger(o.height) && o.height > 0)) fail('E_ARG', `images: width and height must be positive integers, got ${o.width}x${o.height}`);
  if (o.channels !== undefined && o.channels !== 1 && o.channels !== 3) fail('E_ARG', `images: channels must be 1 or 3, got ${String(o.channels)}`);
  const batch = o.batch ?? 8;
  if (!(Number.isInteger(batch) && batch > 0)) fail('E_ARG', `images: batch must be a positive integer, got ${batch}`);
  let files = imageFiles(dir);
  if (o.limit !== undefined) files = files.slice(0, o.limit);
  if (files.length === 0) fail('E_ARG', `${dir}: no images (.jpg, .png, .webp, .gif, .tiff, .avif)`);
  const c = o.channels ?? 3;
  const shape = (n: number) => ((o.layout ?? 'nchw') === 'nhwc' ? [n, o.height, o.width, c] : [n, c, o.height, o.width]);
  const per = c * o.width * o.height;
  return {
    count: files.length,
    batches: Math.ceil(files.length / batch),
    async *[Symbol.asyncIterator]() {
      for (let i = 0; i < files.length; i += batch) {
        const part = files.slice(i, i + batch);
        const data = new Float32Array(part.length * per);
        const images = await Promise.all(part.map((f) => loadImage(f, o)));
        images.forEach((img, j) => data.set(img, j * per));
        yield { [o.input ?? 'x']: new Tensor('float32', data, shape(part.length)) };
      }
    },
  };
}
