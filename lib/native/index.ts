// Loads the addon (a prebuild matching this platform, else the local build) and
// applies LOWBIT_ISA. The only module that touches the addon directly.
import * as path from 'node:path';
import type { Binding } from '../../binding';
import { LowbitError } from '../errors';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const nodeGypBuild = require('node-gyp-build') as (dir: string) => unknown;

function packageRoot(): string {
  // dist/lib/native/index.js -> package root three levels up.
  return path.resolve(__dirname, '..', '..', '..');
}

function load(): Binding {
  let binding: Binding;
  try {
    // LOWBIT_ADDON names a lowbit.node file explicitly (a second build folder,
    // a cross-built addon under qemu); otherwise node-gyp-build picks a
    // prebuild for this platform or the local build.
    const explicit = process.env.LOWBIT_ADDON;
    binding = (
      explicit !== undefined && explicit !== ''
        ? require(path.resolve(explicit))
        : nodeGypBuild(packageRoot())
    ) as Binding;
  } catch (err) {
    throw new LowbitError(
      'E_INTERNAL',
      `lowbit: could not load the native addon (${(err as Error).message}); ` +
        'reinstall with `npm install` (a C++17 compiler and cmake are needed when no prebuild matches)',
    );
  }
  binding.setErrorClass(LowbitError as unknown as new (code: string, message: string) => Error);
  const forced = process.env.LOWBIT_ISA;
  if (forced !== undefined && forced !== '') {
    binding.setIsa(forced); // throws E_ISA with the reason
  }
  return binding;
}

export const native: Binding = load();
