import type { HealCheck } from '../check.js';
import { clock } from './clock.js';
import { disk } from './disk.js';
import { inodes } from './inodes.js';
import { load } from './load.js';
import { memory } from './memory.js';
import { mesh } from './mesh.js';
import { unit } from './unit.js';
import { vssh } from './vssh.js';

/** CHECKS are every heal check, in the order they run (vssh first: without it nothing else can). */
export const CHECKS: readonly HealCheck[] = [vssh, disk, inodes, unit, mesh, load, memory, clock];
