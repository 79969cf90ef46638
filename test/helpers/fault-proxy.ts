/**
 * A loopback TCP fault proxy for tests (plain node:net): put it between a client (camtrack's RTSP demuxer, RTSP
 * over TCP interleaved) and a real server (GStreamer's RTSP server, test/helpers/rtsp-server.ts) and break the
 * connection on purpose:
 *
 *   const proxy = await startFaultProxy({ upstreamPort: server.port });
 *   proxy.url('/cam')          // rtsp://127.0.0.1:<proxy port>/cam
 *   proxy.setMode('stall');    // every connection, open and new
 *   await proxy.close();
 *
 * Modes (set at start or any time later; they apply to the open connections and to new ones):
 * - `pass`: forward both ways.
 * - `stall`: stop forwarding both ways but keep both sockets open (reading is paused, so the kernel buffers fill
 *   and the server sees TCP back-pressure, as with a link that went dead without a FIN/RST).
 * - `cut`: destroy both sides of every open connection at once (mid-stream); new connections are accepted and
 *   destroyed at once while the mode lasts (the server is "unreachable" in a way `refused` is not).
 * - `garbage-after-describe`: forward the RTSP handshake up to and including the server's reply to the client's
 *   DESCRIBE (headers and SDP body), then drop everything the server sends and send the client random bytes
 *   instead (`garbageBytesPerSecond`, default 64 KiB/s, in 50 ms slices) until it closes. Switching a connection
 *   that is already past its DESCRIBE to this mode makes it send garbage from then on.
 * - `slow`: throttle server → client to `bytesPerSecond` (50 ms slices); while more than `highWaterBytes`
 *   (default 64 KiB) wait in the proxy, reading from the server is paused, so the back-pressure reaches the server
 *   as a slow network's would and the proxy never holds more than that. Client → server is not throttled.
 *
 * Ownership: the caller owns the proxy and must close() it (afterAll); close() destroys every connection.
 * Single-threaded (the test worker's event loop).
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';

export type FaultMode = 'pass' | 'stall' | 'cut' | 'garbage-after-describe' | 'slow';

export interface FaultProxyOptions {
  upstreamPort: number;
  upstreamHost?: string;
  /** Initial mode; default 'pass'. */
  mode?: FaultMode;
  /** `slow`: server → client rate. Default 16 KiB/s. */
  bytesPerSecond?: number;
  /** `slow`: bytes held in the proxy before reading from the server pauses. Default 64 KiB. */
  highWaterBytes?: number;
  /** `garbage-after-describe`: rate of random bytes. Default 64 KiB/s. */
  garbageBytesPerSecond?: number;
}

/** Counters of the proxy since it started. */
export interface FaultProxyStats {
  /** Client connections accepted (every RTSP (re)connect through the proxy is one). */
  accepted: number;
  /** Connections open now. */
  open: number;
  /** Connections destroyed by `cut` (open ones and those refused while in the mode). */
  cut: number;
  /** Bytes forwarded server → client / client → server. */
  toClient: number;
  toServer: number;
  /** Random bytes sent to clients in `garbage-after-describe`. */
  garbage: number;
  /** Server bytes dropped in `garbage-after-describe` (after the DESCRIBE reply). */
  droppedFromServer: number;
  /** Connections whose DESCRIBE reply was forwarded. */
  describeReplies: number;
  /** performance.now() of each accepted connection (reconnect attempts and their spacing). */
  acceptedAt: number[];
}

export interface FaultProxy {
  readonly port: number;
  /** `rtsp://127.0.0.1:<proxy port><mount>`. */
  url(mount: string): string;
  readonly mode: FaultMode;
  setMode(mode: FaultMode): void;
  stats(): FaultProxyStats;
  close(): Promise<void>;
}

const SLICE_MS = 50;

/** One proxied connection. */
class Conn {
  /** Server → client bytes waiting (slow mode), and their total length. */
  readonly queue: Buffer[] = [];
  queued = 0;
  /** RTSP handshake parsing (garbage-after-describe): client request text seen, server reply bytes seen. */
  clientText = '';
  describeCseq: string | undefined;
  replyBuf = Buffer.alloc(0);
  describeDone = false;
  closed = false;

  constructor(
    readonly client: net.Socket,
    readonly server: net.Socket,
  ) {}

  destroy(): void {
    this.closed = true;
    this.client.destroy();
    this.server.destroy();
  }
}

/**
 * Scans the server → client bytes of a connection for the complete reply to its DESCRIBE (matched by CSeq).
 * Returns how many bytes of `chunk` belong up to the end of that reply, or -1 if it has not ended in `chunk`.
 */
function endOfDescribeReply(conn: Conn, chunk: Buffer): number {
  const start = conn.replyBuf.length;
  conn.replyBuf = Buffer.concat([conn.replyBuf, chunk]);
  let off = 0;
  for (;;) {
    const buf = conn.replyBuf;
    if (buf.length - off < 4) break;
    if (buf[off] === 0x24) {
      // '$' interleaved frame: 4-byte header + length (none should come before the DESCRIBE reply; skip it).
      if (buf.length - off < 4) break;
      const len = buf.readUInt16BE(off + 2);
      if (buf.length - off < 4 + len) break;
      off += 4 + len;
      continue;
    }
    const headEnd = buf.indexOf('\r\n\r\n', off, 'latin1');
    if (headEnd < 0) break;
    const head = buf.subarray(off, headEnd).toString('latin1');
    const len = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
    const end = headEnd + 4 + len;
    if (buf.length < end) break;
    const cseq = /\r\ncseq:\s*(\S+)/i.exec(head)?.[1];
    off = end;
    if (conn.describeCseq !== undefined && cseq === conn.describeCseq) {
      conn.replyBuf = Buffer.alloc(0);
      return off - start;
    }
  }
  conn.replyBuf = conn.replyBuf.subarray(off);
  return -1;
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const host = options.upstreamHost ?? '127.0.0.1';
  const bytesPerSecond = options.bytesPerSecond ?? 16 * 1024;
  const highWater = options.highWaterBytes ?? 64 * 1024;
  const garbageRate = options.garbageBytesPerSecond ?? 64 * 1024;
  let mode: FaultMode = options.mode ?? 'pass';
  const conns = new Set<Conn>();
  const st: FaultProxyStats = { accepted: 0, open: 0, cut: 0, toClient: 0, toServer: 0, garbage: 0, droppedFromServer: 0, describeReplies: 0, acceptedAt: [] as number[] };

  const toClient = (conn: Conn, data: Buffer): void => {
    if (conn.closed || data.length === 0) return;
    st.toClient += data.length;
    conn.client.write(data);
  };

  /** Applies the current mode to a connection's reading (pause/resume) and sends what slow mode allows. */
  const apply = (conn: Conn): void => {
    if (conn.closed) return;
    if (mode === 'cut') {
      st.cut++;
      conn.destroy();
      return;
    }
    if (mode === 'stall') {
      conn.client.pause();
      conn.server.pause();
      return;
    }
    conn.client.resume();
    if (mode === 'slow' && conn.queued > highWater) conn.server.pause();
    else conn.server.resume();
    if (mode !== 'slow') {
      // Leaving slow mode: what waited goes out now.
      while (conn.queue.length > 0) toClient(conn, conn.queue.shift()!);
      conn.queued = 0;
    }
  };

  const tick = setInterval(() => {
    for (const conn of conns) {
      if (conn.closed) continue;
      if (mode === 'slow') {
        let budget = Math.max(1, Math.round((bytesPerSecond * SLICE_MS) / 1000));
        while (budget > 0 && conn.queue.length > 0) {
          const head = conn.queue[0]!;
          const n = Math.min(budget, head.length);
          toClient(conn, head.subarray(0, n));
          if (n === head.length) conn.queue.shift();
          else conn.queue[0] = head.subarray(n);
          conn.queued -= n;
          budget -= n;
        }
        if (conn.queued <= highWater) conn.server.resume();
      } else if (mode === 'garbage-after-describe' && conn.describeDone) {
        const g = randomBytes(Math.max(1, Math.round((garbageRate * SLICE_MS) / 1000)));
        st.garbage += g.length;
        conn.client.write(g);
      }
    }
  }, SLICE_MS);

  const server = net.createServer((client) => {
    st.accepted++;
    st.acceptedAt.push(performance.now());
    const upstream = net.connect({ host, port: options.upstreamPort });
    const conn = new Conn(client, upstream);
    conns.add(conn);
    st.open++;
    const drop = (): void => {
      if (!conns.delete(conn)) return;
      st.open--;
      conn.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.on('data', (data: Buffer) => {
      if (conn.closed) return;
      if (conn.describeCseq === undefined && !conn.describeDone) {
        conn.clientText = (conn.clientText + data.toString('latin1')).slice(-8192);
        const m = /(?:^|\r\n)DESCRIBE [^\r\n]*\r\n(?:[^\r\n]+\r\n)*?CSeq:\s*(\S+)/i.exec(conn.clientText);
        if (m) conn.describeCseq = m[1];
      }
      if (mode === 'garbage-after-describe' && conn.describeDone) return; // the "server" answers nothing real
      st.toServer += data.length;
      upstream.write(data);
    });
    upstream.on('data', (data: Buffer) => {
      if (conn.closed) return;
      if (!conn.describeDone) {
        const end = endOfDescribeReply(conn, data);
        if (end >= 0) {
          conn.describeDone = true;
          st.describeReplies++;
          if (mode === 'garbage-after-describe') {
            toClient(conn, data.subarray(0, end));
            st.droppedFromServer += data.length - end;
            return;
          }
        }
      } else if (mode === 'garbage-after-describe') {
        st.droppedFromServer += data.length;
        return;
      }
      if (mode === 'slow') {
        conn.queue.push(data);
        conn.queued += data.length;
        if (conn.queued > highWater) upstream.pause();
        return;
      }
      toClient(conn, data);
    });
    apply(conn);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;

  return {
    port,
    url: (mount: string) => `rtsp://127.0.0.1:${port}${mount.startsWith('/') ? mount : `/${mount}`}`,
    get mode() {
      return mode;
    },
    setMode(next: FaultMode) {
      mode = next;
      for (const conn of [...conns]) apply(conn);
    },
    stats: () => ({ ...st, acceptedAt: [...st.acceptedAt] }),
    close: async () => {
      clearInterval(tick);
      for (const conn of conns) conn.destroy();
      conns.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
