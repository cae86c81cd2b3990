// vssh-put: copying one 1 GiB file of random bytes to a fresh destination over loopback: `vssh put`
// against `scp` and `rsync -e ssh` on the same file in the same run, and, as the upper limit, a raw
// TCP copy in Node (no authentication, no framing, no hashing).
import { spawn } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { closeSync, createReadStream, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { cleanup, ownChild, tempDir } from './lib/cleanup.mjs';
import { runIfMain } from './lib/main.mjs';
import { scratchBase, where } from './lib/scratch.mjs';
import { timeOnce } from './lib/spawn.mjs';
import { negotiated, scpProtocol, sshVersions, startSshd } from './lib/sshd.mjs';
import { ratio, summarize } from './lib/stats.mjs';
import { NODE, VSSH, scratchVssh, startServe, vsshVersion, withoutCaCerts } from './lib/vssh.mjs';

const SIZE = 2 ** 30;
const RUNS = 3;
const TCP_SINK = fileURLToPath(new URL('./lib/tcp-sink.mjs', import.meta.url));
const TCP_SEND = fileURLToPath(new URL('./lib/tcp-send.mjs', import.meta.url));

/** run makes the file, starts the servers, copies the file with each tool in turn and returns the results as JSON. */
export async function run() {
  try {
    const scratch = scratchBase(2.5 * SIZE);
    const dir = tempDir('meshpop-bench-put-', scratch.base);
    const src = join(dir, 'src.bin');
    const dest = join(dir, 'dest.bin');
    writeRandom(src, SIZE);
    const hashStart = performance.now();
    const srcSha = await sha256(src);
    const hashMs = performance.now() - hashStart;

    const vault = scratchVssh();
    const daemon = await startServe(vault);
    const sshd = await startSshd();
    const sink = await startSink(dest);
    const bare = withoutCaCerts(process.env);

    const tools = [
      {
        label: 'vssh put',
        command: '`vssh put --json FILE n1:DEST`',
        cmd: [process.execPath, [VSSH, 'put', '--json', src, `${NODE}:${dest}`], { env: withoutCaCerts(vault.env) }],
        check: (out) => {
          const s = JSON.parse(out);
          if (s.files !== 1 || s.bytes !== SIZE) throw new Error(`vssh put copied ${s.files} files, ${s.bytes} bytes`);
        },
      },
      { label: 'scp', command: '`scp FILE HOST:DEST`', cmd: ['scp', [...sshd.scp, src, `${sshd.target}:${dest}`]] },
      { label: 'rsync over ssh', command: '`rsync -a -e ssh FILE HOST:DEST`', cmd: ['rsync', ['-a', '-e', sshd.rsh, src, `${sshd.target}:${dest}`]] },
      { label: 'floor: raw TCP copy', command: 'Node `net` socket to a Node process writing the file, whole sending process', cmd: [process.execPath, [TCP_SEND, String(sink.port), src], { env: bare }] },
    ];
    // Round-robin, so that a slow patch of the machine falls on every tool alike.
    const times = tools.map(() => []);
    for (let round = 0; round < RUNS; round++) {
      for (const [i, t] of tools.entries()) {
        rmSync(dest, { force: true });
        const { ms, out } = timeOnce(...t.cmd);
        t.check?.(out);
        if (statSync(dest).size !== SIZE) throw new Error(`${t.label} left ${statSync(dest).size} bytes at the destination`);
        if (round === 0 && (await sha256(dest)) !== srcSha) throw new Error(`${t.label} wrote other bytes than the source's`);
        times[i].push(ms);
      }
    }
    rmSync(dest, { force: true });
    const mbps = (ms) => SIZE / 1e6 / (ms / 1000);
    const rows = tools.map((t, i) => {
      const s = summarize(times[i]);
      return { label: t.label, command: t.command, ...s, mbps: Math.round(mbps(s.median)) };
    });
    const [vssh, scp, rsync, raw] = rows;
    const scpMode = scpProtocol(sshd, dir);
    const { cipher } = negotiated(sshd);

    await sink.stop();
    await sshd.stop();
    await daemon.stop();
    return {
      scenario: 'vssh-put',
      layout: 'versus',
      goal: 'beat', // issue 4: beat OpenSSH, scp and rsync on each
      unit: 's',
      columns: ['median', 'min', 'max'],
      title: 'Copying a 1 GiB file: `vssh put` vs `scp` and `rsync`',
      about:
        `One file of 1 GiB (2^30 bytes) of random bytes, made once, ${where(scratch)}; the destination is there too. ` +
        `A \`vssh serve\` daemon, an OpenSSH \`sshd\` and a raw TCP sink (\`bench/lib/tcp-sink.mjs\`) run on 127.0.0.1 as child processes; ` +
        `each tool copies the file ${RUNS} times to a destination that does not exist (deleted, untimed, before every run; nothing is dropped from the page cache, and the source stays in memory throughout), ` +
        'the tools taking turns run by run. Each run is one whole client process; each copy is checked for its size, and the first of each tool for its SHA-256. ' +
        `scp uses the ${scpMode} (OpenSSH's default); rsync runs over the same ssh, and with a fresh destination it sends the whole file. ` +
        `ssh encrypts with ${cipher}, its default; vssh on loopback sends the bytes in clear and hashes them with SHA-256 at both ends (on a mesh, WireGuard encrypts underneath it). ` +
        (process.env.NODE_EXTRA_CA_CERTS ? 'vssh runs without NODE_EXTRA_CA_CERTS, which this machine sets (it slows every Node start; the exec table measures by how much). ' : '') +
        'MB/s is 10^6 bytes per second of the median time.',
      tools: { node: process.version, vssh: vsshVersion(), ...sshVersions() },
      rows,
      comparisons: [
        { label: '1 GiB file to a fresh destination', vssh: vssh.median, other: scp.median, vsshRow: vssh.label, otherRow: scp.label },
        { label: '1 GiB file to a fresh destination', vssh: vssh.median, other: rsync.median, vsshRow: vssh.label, otherRow: rsync.label },
        { label: 'against the upper limit', vssh: vssh.median, other: raw.median, vsshRow: vssh.label, otherRow: raw.label },
      ],
      reading: readPut({ vssh, scp, rsync, raw, hashMs }),
    };
  } finally {
    cleanup();
  }
}

/** writeRandom writes `size` random bytes to `file`. */
function writeRandom(file, size) {
  const fd = openSync(file, 'w');
  try {
    const block = Buffer.allocUnsafe(8 * 1024 * 1024);
    for (let left = size; left > 0; left -= block.length) writeSync(fd, randomFillSync(block), 0, Math.min(block.length, left));
  } finally {
    closeSync(fd);
  }
}

/** sha256 returns the hex SHA-256 of a file. */
async function sha256(file) {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) hash.update(chunk);
  return hash.digest('hex');
}

/** startSink starts tcp-sink.mjs writing to `dest` and returns { port, stop() }; cleanup() kills it by pid. */
async function startSink(dest) {
  const child = spawn(process.execPath, [TCP_SINK, dest], { env: withoutCaCerts(process.env), stdio: ['ignore', 'pipe', 'inherit'] });
  const owned = ownChild(child);
  let out = '';
  for await (const chunk of child.stdout.setEncoding('utf8')) {
    out += chunk;
    if (out.includes('\n')) break;
  }
  const port = Number(out.trim());
  if (!port) throw new Error(`tcp-sink did not start: ${JSON.stringify(out)}`);
  return {
    port,
    stop: owned.stop,
  };
}

/** readPut says in a few sentences what the medians mean. */
function readPut({ vssh, scp, rsync, raw, hashMs }) {
  const s = (ms) => `${(ms / 1000).toFixed(2)} s`;
  const vs = (a, b) => (a <= b ? `${ratio(b, a)}× faster than` : `${ratio(a, b)}× slower than`);
  const best = [scp, rsync].sort((a, b) => a.median - b.median)[0];
  return (
    `\`vssh put\` copies 1 GiB in ${s(vssh.median)} (median, ${vssh.mbps} MB/s): ${vs(vssh.median, scp.median)} scp (${s(scp.median)}, ${scp.mbps} MB/s) and ${vs(vssh.median, rsync.median)} rsync (${s(rsync.median)}, ${rsync.mbps} MB/s). ` +
    `The raw TCP copy between two Node processes takes ${s(raw.median)} (${raw.mbps} MB/s): that is what moving the bytes through loopback and into the file costs here, ` +
    `and vssh takes ${ratio(vssh.median, raw.median)}× as long. ` +
    `${vssh.median <= best.median ? 'vssh is the fastest of the three tools here' : `${best.label} is the fastest of the three tools here`}; ` +
    `vssh hashes every byte with SHA-256 on both sides (reading and hashing the file once, in Node, took ${s(hashMs)} here) and writes through a part file that it renames into place; ssh encrypts and authenticates every byte instead.`
  );
}

await runIfMain(import.meta.url, run);
