// The semantic subpath as tests use it (from src), plus a loopback port helper.
export * from '../src/semantic/index.js';
export { freePort as freePortForTests } from '../src/semantic/server.js';
