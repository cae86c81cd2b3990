import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import { VsshError } from '../errors.js';
import { Frame, FrameReader, FrameType, MAX_PAYLOAD, frameHeader } from './frame.js';

/**
 * One connection carries many streams (see PROTOCOL.md). Only the client opens streams: it sends a
 * REQUEST, the two sides then exchange MSG (JSON) and DATA (bytes on a channel) frames, and the node
 * closes the stream with a REPLY. Either side may RESET a stream (cancel); a lost connection fails them all.
 *
 * Flow control is per stream and per direction: a sender may have at most the receiver's window of DATA
 * payload in flight, and the receiver grants more with WINDOW frames as its reader consumes. Writers that
 * wait for the socket to drain are woken in turn, so one big transfer cannot starve the other streams.
 */

/** INITIAL_WINDOW is how many DATA payload bytes a stream may have in flight before the first grant. */
export const INITIAL_WINDOW = 8 * 1024 * 1024;
/** MAX_STREAMS is how many requests one connection may have open at once (the daemon refuses more with VSSH_BUSY). */
export const MAX_STREAMS = 4096;

/** MAX_QUEUED_MSG_BYTES is how much unread MSG payload one stream may pile up before its peer is dropped. */
export const MAX_QUEUED_MSG_BYTES = 16 * 1024 * 1024;
/** MAX_PING is the largest PING payload answered; PINGs are not answered while the peer does not read. */
export const MAX_PING = 16;

/** SOCKET_BUFFER is how much a socket buffers before writers wait for it to drain (Node's default, 16 KiB, makes a sender of many small files wait at almost every file). */
export const SOCKET_BUFFER = 1024 * 1024;

/** Channel numbers of DATA frames: stdin / stdout / file bytes on OUT, stderr on ERR. */
export const Channel = { OUT: 0, ERR: 1 } as const;

/** Incoming is one thing a stream received, in order. */
export type Incoming =
  | { kind: 'data'; channel: number; bytes: Buffer }
  | { kind: 'msg'; body: Record<string, unknown> }
  | { kind: 'end' }
  | { kind: 'reply'; body: Record<string, unknown> };

function parseJson(payload: Buffer, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new VsshError('VSSH_FRAME_MALFORMED', `a ${what} frame does not hold JSON`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new VsshError('VSSH_FRAME_MALFORMED', `a ${what} frame does not hold a JSON object`);
  return v as Record<string, unknown>;
}

/** Stream is one request's exchange on a connection. Read what arrives with `read()`. */
export class Stream {
  readonly #queue: Incoming[] = [];
  #waiter: { resolve: (v: Incoming | null) => void; reject: (e: VsshError) => void } | undefined;
  #failed: VsshError | undefined;
  #finished = false; // an END or REPLY was read: nothing more will come
  #replied = false; // the node has answered: sending more is pointless
  #queuedMsgBytes = 0;
  #sendWindow = INITIAL_WINDOW;
  #recvBudget = INITIAL_WINDOW;
  #unacked = 0;
  #windowWaiters: (() => void)[] = [];
  #onReset: ((err: VsshError) => void)[] = [];

  constructor(readonly id: number, private readonly mux: Mux) {}

  /** read returns the next thing received, null once the stream is finished; it rejects when reset or the connection is lost. */
  read(): Promise<Incoming | null> {
    const next = this.#queue.shift();
    if (next) return Promise.resolve(this.#consume(next));
    if (this.#failed) return Promise.reject(this.#failed);
    if (this.#finished) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  /** onReset registers what to do when the peer resets the stream or the connection drops. */
  onReset(fn: (err: VsshError) => void): void {
    if (this.#failed) fn(this.#failed);
    else this.#onReset.push(fn);
  }

  get failed(): VsshError | undefined {
    return this.#failed;
  }

  /** request sends the stream's opening frame. */
  request(header: object): void {
    this.mux.send(FrameType.REQUEST, this.id, Buffer.from(JSON.stringify(header)));
  }

  /** msg sends a JSON control message. */
  msg(body: object): void {
    if (this.#failed) throw this.#failed;
    this.mux.send(FrameType.MSG, this.id, Buffer.from(JSON.stringify(body)));
  }

  /** write sends bytes on a channel, waiting for the peer's window and for the socket to drain. */
  async write(channel: number, bytes: Uint8Array): Promise<void> {
    let off = 0;
    while (off < bytes.length) {
      if (this.#failed) throw this.#failed;
      if (this.#replied) throw new VsshError('VSSH_CANCELLED', 'the node answered before everything was sent');
      if (this.#sendWindow <= 1) {
        await new Promise<void>((r) => this.#windowWaiters.push(r));
        continue;
      }
      const n = Math.min(bytes.length - off, MAX_PAYLOAD - 1, this.#sendWindow - 1);
      this.#sendWindow -= n + 1;
      this.mux.sendData(this.id, channel, bytes.subarray(off, off + n));
      off += n;
      await this.mux.drained();
    }
  }

  /** flushed resolves once the connection's socket has drained (for senders of many MSG frames). */
  flushed(): Promise<void> {
    return this.mux.drained();
  }

  /** end tells the peer nothing more comes on this stream from this side. */
  end(): void {
    if (!this.#failed) this.mux.send(FrameType.END, this.id, Buffer.alloc(0));
  }

  /** reply closes the stream with the node's (signed) answer. */
  reply(body: object): void {
    if (this.#failed) return;
    this.mux.send(FrameType.REPLY, this.id, Buffer.from(JSON.stringify(body)));
    this.mux.forget(this.id);
    // Nothing more will be read on this stream: a reader still waiting gets the end.
    this.#finished = true;
    this.#queue.length = 0;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.resolve(null);
  }

  /** reset abandons the stream (cancel); the peer's reads fail with `code`. */
  reset(code = 'VSSH_CANCELLED', message = 'cancelled by the other side'): void {
    if (this.#failed) return;
    this.mux.send(FrameType.RESET, this.id, Buffer.from(JSON.stringify({ code, message })));
    this.fail(new VsshError('VSSH_CANCELLED', 'the stream was cancelled'));
  }

  /** deliver is called by the connection for each frame of this stream. */
  deliver(f: Frame): void {
    switch (f.type) {
      case FrameType.DATA: {
        if (f.payload.length < 1) throw new VsshError('VSSH_FRAME_MALFORMED', 'a DATA frame has no channel byte');
        this.#recvBudget -= f.payload.length;
        if (this.#recvBudget < 0) throw new VsshError('VSSH_FRAME_MALFORMED', `stream ${this.id} sent past its flow-control window`);
        return this.#push({ kind: 'data', channel: f.payload[0]!, bytes: f.payload.subarray(1) });
      }
      case FrameType.MSG:
        this.#queuedMsgBytes += f.payload.length;
        if (this.#queuedMsgBytes > MAX_QUEUED_MSG_BYTES) throw new VsshError('VSSH_FRAME_MALFORMED', `stream ${this.id} sent more than ${MAX_QUEUED_MSG_BYTES} bytes of messages that were not read`);
        return this.#push({ kind: 'msg', body: parseJson(f.payload, 'MSG') });
      case FrameType.END:
        return this.#push({ kind: 'end' });
      case FrameType.REPLY:
        if (this.mux.isNode) throw new VsshError('VSSH_FRAME_MALFORMED', 'a client does not send replies');
        this.mux.forget(this.id);
        this.#replied = true;
        for (const w of this.#windowWaiters.splice(0)) w();
        return this.#push({ kind: 'reply', body: parseJson(f.payload, 'REPLY') });
      case FrameType.WINDOW: {
        if (f.payload.length !== 4) throw new VsshError('VSSH_FRAME_MALFORMED', 'a WINDOW frame must hold 4 bytes');
        this.#sendWindow += f.payload.readUInt32BE(0);
        for (const w of this.#windowWaiters.splice(0)) w();
        return;
      }
      case FrameType.RESET: {
        let body: Record<string, unknown> = {};
        try {
          body = parseJson(f.payload, 'RESET');
        } catch {
          /* a reset is a reset, whatever it says */
        }
        const message = typeof body.message === 'string' ? body.message.slice(0, 500) : 'the other side cancelled the stream';
        return this.fail(new VsshError('VSSH_CANCELLED', message));
      }
      default:
        throw new VsshError('VSSH_FRAME_MALFORMED', `frame type ${f.type} is not valid on a stream`);
    }
  }

  /** fail ends the stream with `err`: pending and later reads reject, writers wake and throw. */
  fail(err: VsshError): void {
    if (this.#failed) return;
    this.#failed = err;
    this.mux.forget(this.id);
    for (const w of this.#windowWaiters.splice(0)) w();
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.reject(err);
    for (const fn of this.#onReset.splice(0)) fn(err);
  }

  #push(item: Incoming): void {
    // After a client's END nothing more comes to the node; after a node's END its REPLY is still to come.
    if (item.kind === 'reply' || (item.kind === 'end' && this.mux.isNode)) this.#finished = true;
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = undefined;
      waiter.resolve(this.#consume(item));
    } else this.#queue.push(item);
  }

  #consume(item: Incoming): Incoming {
    if (item.kind === 'msg') this.#queuedMsgBytes = 0; // the reader keeps up: only a backlog counts
    if (item.kind === 'data') {
      this.#unacked += item.bytes.length + 1;
      if (this.#unacked >= INITIAL_WINDOW / 4 && !this.#failed && !this.#finished) {
        const grant = Buffer.alloc(4);
        grant.writeUInt32BE(this.#unacked);
        this.#recvBudget += this.#unacked;
        this.#unacked = 0;
        this.mux.send(FrameType.WINDOW, this.id, grant);
      }
    }
    return item;
  }
}

/**
 * Mux is one connection's end: it reads frames, routes them to streams, and writes frames without
 * copying payloads. The client opens streams with `open()`; the node learns of them through `onRequest`.
 * It emits 'close' (with the error, if any) once the socket is gone.
 */
export class Mux extends EventEmitter {
  readonly #streams = new Map<number, Stream>();
  readonly #reader = new FrameReader();
  #nextId = 1;
  #closed: VsshError | undefined;
  #drain: Promise<void> | undefined;
  #pings = new Map<number, () => void>();
  #corked = false;
  #pingSeq = 0;

  constructor(
    readonly socket: Duplex,
    private readonly onRequest?: (stream: Stream, header: Record<string, unknown>) => void,
  ) {
    super();
    socket.on('data', (chunk: Buffer) => this.#onBytes(chunk));
    socket.on('error', (err) => this.close(new VsshError('VSSH_CONNECTION_LOST', `the connection failed (${(err as NodeJS.ErrnoException).code ?? err.message})`, { cause: err })));
    socket.on('close', () => this.close(new VsshError('VSSH_CONNECTION_LOST', 'the connection was closed')));
  }

  /** open starts a new stream (client side). */
  open(): Stream {
    if (this.#closed) throw this.#closed;
    const id = this.#nextId;
    this.#nextId = this.#nextId >= 0xfffffffe ? 1 : this.#nextId + 1;
    const s = new Stream(id, this);
    this.#streams.set(id, s);
    return s;
  }

  /** isNode tells the node's end of a connection (it answers requests) from the client's. */
  get isNode(): boolean {
    return this.onRequest !== undefined;
  }

  /** streams is how many streams are open. */
  get streams(): number {
    return this.#streams.size;
  }

  get closed(): VsshError | undefined {
    return this.#closed;
  }

  /** ping measures one round trip on this connection, in milliseconds. */
  ping(timeoutMs = 5000): Promise<number> {
    if (this.#closed) return Promise.reject(this.#closed);
    const seq = ++this.#pingSeq;
    const start = process.hrtime.bigint();
    const payload = Buffer.alloc(4);
    payload.writeUInt32BE(seq >>> 0);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pings.delete(seq);
        reject(new VsshError('VSSH_TIMEOUT', `no answer to a ping within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pings.set(seq, () => {
        clearTimeout(timer);
        resolve(Number(process.hrtime.bigint() - start) / 1e6);
      });
      this.send(FrameType.PING, 0, payload);
    });
  }

  send(type: FrameType, stream: number, payload: Buffer): void {
    if (this.#closed) return;
    const head = frameHeader(type, stream, payload.length);
    this.#batch();
    this.socket.write(head);
    if (payload.length) this.socket.write(payload);
  }

  sendData(stream: number, channel: number, bytes: Uint8Array): void {
    if (this.#closed) throw this.#closed;
    const head = frameHeader(FrameType.DATA, stream, bytes.length, channel);
    this.#batch();
    this.socket.write(head);
    this.socket.write(bytes);
  }

  /**
   * #batch holds the frames written until the event loop turns and sends them in one system call:
   * a sender of many small files writes three frames per file, and a writev each cost more than the files.
   */
  #batch(): void {
    if (this.#corked) return;
    this.#corked = true;
    this.socket.cork();
    setImmediate(() => {
      this.#corked = false;
      this.socket.uncork();
    });
  }

  /** drained resolves once the socket can take more (at once when it can); writers wake in turn. */
  drained(): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closed);
    if (!this.socket.writableNeedDrain) return Promise.resolve();
    this.#drain ??= new Promise<void>((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.off('close', done);
        this.#drain = undefined;
        resolve();
      };
      this.socket.on('drain', done);
      this.on('close', done);
    });
    return this.#drain;
  }

  forget(id: number): void {
    this.#streams.delete(id);
  }

  /** close ends the connection; every open stream fails with `err`. */
  close(err: VsshError = new VsshError('VSSH_CONNECTION_LOST', 'the connection was closed')): void {
    if (this.#closed) return;
    this.#closed = err;
    for (const s of [...this.#streams.values()]) s.fail(err);
    this.#streams.clear();
    this.socket.destroy();
    this.emit('close', err);
  }

  #onBytes(chunk: Buffer): void {
    try {
      for (const f of this.#reader.push(chunk)) this.#onFrame(f);
      // A peer that does not read what we send (answers, refusals, pongs) is not read either until it does.
      if (this.socket.writableLength > 4 * SOCKET_BUFFER && !this.socket.isPaused()) {
        this.socket.pause();
        this.socket.once('drain', () => this.socket.resume());
      }
    } catch (err) {
      // The byte stream can no longer be trusted to be in step: drop the connection, keep the process.
      this.close(err instanceof VsshError ? err : new VsshError('VSSH_FRAME_MALFORMED', String(err)));
    }
  }

  #onFrame(f: Frame): void {
    if (f.type === FrameType.PING) {
      if (f.payload.length > MAX_PING) throw new VsshError('VSSH_FRAME_MALFORMED', `a PING carries at most ${MAX_PING} bytes`);
      return this.send(FrameType.PONG, 0, f.payload);
    }
    if (f.type === FrameType.PONG) {
      const seq = f.payload.length === 4 ? f.payload.readUInt32BE(0) : -1;
      this.#pings.get(seq)?.();
      this.#pings.delete(seq);
      return;
    }
    if (f.type === FrameType.REQUEST) {
      if (!this.onRequest) throw new VsshError('VSSH_FRAME_MALFORMED', 'a node does not open streams');
      if (f.stream === 0 || this.#streams.has(f.stream)) throw new VsshError('VSSH_FRAME_MALFORMED', `stream ${f.stream} is already open`);
      const s = new Stream(f.stream, this);
      this.#streams.set(f.stream, s);
      return this.onRequest(s, parseJson(f.payload, 'REQUEST'));
    }
    // Frames for a stream that is already closed (a late WINDOW, DATA after a cancel) are dropped.
    this.#streams.get(f.stream)?.deliver(f);
  }
}
