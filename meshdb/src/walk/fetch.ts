import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VsshClient } from '@meshpop/vssh/client';

/** Fetched is one file's content as read on its node, or why it could not be. */
export type Fetched =
  | { path: string; status: 'ok'; bytes: Buffer }
  | { path: string; status: 'binary' | 'too-large' | 'vanished' | 'unreadable'; bytes?: undefined };

/**
 * READER runs on the node (with the node's own Node.js, the one its vssh daemon runs on): for each path it
 * writes a header line {"s": status, "n": length} and then the bytes. It opens without following symlinks,
 * reads only regular files, sends no byte of a binary (a NUL in the first 8 KiB) or an oversized file.
 */
const READER = `const fs=require('fs');const max=+process.argv[1];const out=[];let size=0;
const flush=()=>{if(out.length){fs.writeSync(1,Buffer.concat(out));out.length=0;size=0}};
const put=(h,b)=>{out.push(Buffer.from(JSON.stringify(h)+'\\n'));if(b){out.push(b);size+=b.length}if(size>4194304)flush()};
for(const p of process.argv.slice(2)){let fd;try{fd=fs.openSync(p,fs.constants.O_RDONLY|fs.constants.O_NOFOLLOW|fs.constants.O_NONBLOCK)}catch(e){put({s:e.code==='ENOENT'||e.code==='ENOTDIR'?'vanished':'unreadable',n:0});continue}
try{const st=fs.fstatSync(fd);if(!st.isFile()){put({s:'unreadable',n:0});continue}if(st.size>max){put({s:'too-large',n:0});continue}
const b=Buffer.allocUnsafe(Math.min(st.size,max)+1);let n=0,r;while(n<b.length&&(r=fs.readSync(fd,b,n,b.length-n,null))>0)n+=r;
if(n>max){put({s:'too-large',n:0});continue}const d=b.subarray(0,n);if(d.subarray(0,8192).includes(0)){put({s:'binary',n:0});continue}put({s:'ok',n},d)}
catch(e){put({s:'unreadable',n:0})}finally{fs.closeSync(fd)}}flush();`;

/** FetchOptions bound one batch. */
export interface FetchOptions {
  maxBytes: number;
  signal?: AbortSignal;
}

/**
 * readBatch reads many files from a node in one vssh exec of the reader above, parsing its framed output
 * as it streams. It throws what vssh throws (unreachable, policy): the caller decides.
 */
export async function readBatch(client: VsshClient, paths: string[], opts: FetchOptions): Promise<Fetched[]> {
  const results: Fetched[] = [];
  let pending: Buffer = Buffer.alloc(0);
  let want: { s: string; n: number } | undefined;
  const feed = (chunk: Buffer): void => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    for (;;) {
      if (!want) {
        const nl = pending.indexOf(10);
        if (nl < 0) return;
        want = JSON.parse(pending.subarray(0, nl).toString('utf8')) as { s: string; n: number };
        pending = pending.subarray(nl + 1);
      }
      if (pending.length < want.n) return;
      const path = paths[results.length]!;
      if (want.s === 'ok') results.push({ path, status: 'ok', bytes: Buffer.from(pending.subarray(0, want.n)) });
      else results.push({ path, status: want.s as 'binary' });
      pending = pending.subarray(want.n);
      want = undefined;
    }
  };
  const r = await client.exec({ argv: ['node', '-e', READER, String(opts.maxBytes), ...paths] }, { onStdout: feed, onStderr: () => undefined, maxOutputBytes: 1024 * 1024 * 1024, timeoutMs: 600_000, signal: opts.signal });
  if (r.exitCode !== 0 || results.length !== paths.length) {
    throw Object.assign(new Error(`the reader on ${client.target.name} exited ${r.exitCode} after ${results.length} of ${paths.length} files`), { code: 'READER_FAILED' });
  }
  return results;
}

/** readOne fetches one file with vssh get (the path when a node's policy refuses exec), checked as the reader does. */
export async function readOne(client: VsshClient, path: string, opts: FetchOptions): Promise<Fetched> {
  const dir = await mkdtemp(join(tmpdir(), 'meshdb-get-'));
  try {
    const st = await client.stat(path).catch((err: { code?: string }) => (err.code === 'VSSH_NOT_FOUND' ? undefined : Promise.reject(err)));
    if (!st) return { path, status: 'vanished' };
    if (st.type !== 'file') return { path, status: 'unreadable' };
    if (st.size > opts.maxBytes) return { path, status: 'too-large' };
    try {
      await client.get(path, join(dir, 'f'));
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'VSSH_NOT_FOUND') return { path, status: 'vanished' };
      if (code === 'VSSH_IO' || code === 'VSSH_POLICY') return { path, status: 'unreadable' };
      throw err;
    }
    const bytes = await readFile(join(dir, 'f'));
    if (bytes.length > opts.maxBytes) return { path, status: 'too-large' };
    if (bytes.subarray(0, 8192).includes(0)) return { path, status: 'binary' };
    return { path, status: 'ok', bytes };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
