/**
 * A loopback RTSP proxy for tests that drops and delays single RTP/RTCP datagrams of RTSP-over-UDP sessions, in
 * place of `tc netem` (this machine's kernel has no sch_netem; docs/reliability.md, "Fault injection"). Plain
 * node:net + node:dgram:
 *
 *   const proxy = await startUdpLossProxy({ upstreamPort: server.port, loss: 0.02, delayMs: 40, jitterMs: 10, seed: 1 });
 *   proxy.url('/cam')          // rtsp://127.0.0.1:<proxy port>/cam, open with rtspTransport 'udp'
 *   proxy.stats()              // datagrams forwarded / dropped
 *   await proxy.close();
 *
 * How: the RTSP control connection (TCP) is relayed both ways. In each SETUP request whose Transport asks for UDP
 * (`client_port=a-b`), the proxy binds two UDP sockets of its own (RTP on an even port P, RTCP on P+1) and
 * rewrites the header to `client_port=P-(P+1)`; in the server's reply to that SETUP (matched by CSeq) it writes
 * `client_port=a-b` back, so the client sees its own ports. `server_port` is left as is: the client's RTCP
 * receiver reports and NAT-punch packets go straight to the server. Datagrams the server sends to P/P+1 are
 * relayed to the client's a/b, each one dropped with probability `loss` (a seeded PRNG, mulberry32, drawn only
 * while loss or jitter is set, so the drops are reproducible for a given order of arrivals) and otherwise delayed by `delayMs` ± `jitterMs` (uniform, each datagram on
 * its own, so jitter larger than the gap between datagrams reorders them, as netem does). The client receives them
 * from the proxy's address, not the server's: FFmpeg's RTSP demuxer accepts that unless its `filter_src` flag is set
 * (camtrack does not set it); the test that uses this proxy checks that results come through.
 * Interleaved (TCP) sessions pass through untouched.
 *
 * `setLoss()`/`setDelay()` change the impairment at any time (datagrams already scheduled keep their delay).
 *
 * Ownership: the caller owns the proxy and must close() it (afterAll); close() destroys every connection and
 * socket and discards the datagrams still waiting. Single-threaded (the test worker's event loop).
 */
import dgram from 'node:dgram';
import net from 'node:net';

export interface UdpLossProxyOptions {
  upstreamPort: number;
  upstreamHost?: string;
  /** Probability in [0, 1] that a datagram server → client is dropped. Default 0. */
  loss?: number;
  /** Fixed delay of each forwarded datagram, ms. Default 0. */
  delayMs?: number;
  /** Uniform jitter ± ms around delayMs (never below 0). Default 0. */
  jitterMs?: number;
  /** PRNG seed (loss and jitter draws). Default 1. */
  seed?: number;
}

/** Counters of the proxy since it started (datagrams server → client). */
export interface UdpLossProxyStats {
  /** RTSP control connections accepted. */
  accepted: number;
  /** SETUP requests rewritten (one per UDP media track of each session). */
  udpSetups: number;
  rtp: { received: number; forwarded: number; dropped: number };
  rtcp: { received: number; forwarded: number; dropped: number };
  /** Datagrams forwarded out of their arrival order (jitter). */
  reordered: number;
  /** Sum and max of the delay actually applied to forwarded datagrams (arrival → sent), ms. */
  delaySumMs: number;
  maxDelayMs: number;
}

export interface UdpLossProxy {
  readonly port: number;
  /** `rtsp://127.0.0.1:<proxy port><mount>`. */
  url(mount: string): string;
  setLoss(loss: number): void;
  setDelay(delayMs: number, jitterMs?: number): void;
  stats(): UdpLossProxyStats;
  close(): Promise<void>;
}

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function bindUdp(port: number): Promise<dgram.Socket | undefined> {
  const sock = dgram.createSocket('udp4');
  return new Promise((resolve) => {
    sock.once('error', () => {
      sock.close();
      resolve(undefined);
    });
    sock.bind(port, '127.0.0.1', () => {
      sock.removeAllListeners('error');
      resolve(sock);
    });
  });
}

/** Two UDP sockets on an even port P and P+1 (the RTP/RTCP pair convention). */
async function bindPair(): Promise<[dgram.Socket, dgram.Socket]> {
  for (let i = 0; i < 50; i++) {
    const a = await bindUdp(0);
    if (!a) continue;
    const p = a.address().port;
    if (p % 2 === 0) {
      const b = await bindUdp(p + 1);
      if (b) return [a, b];
    }
    a.close();
  }
  throw new Error('udp-loss-proxy: could not bind an even/odd UDP port pair on 127.0.0.1');
}

const CLIENT_PORT = /client_port=(\d+)-(\d+)/i;

/** Splits complete RTSP messages (head + Content-Length body) off the front of `buf`. */
function takeMessages(buf: Buffer): { messages: Buffer[]; rest: Buffer } {
  const messages: Buffer[] = [];
  let off = 0;
  for (;;) {
    if (buf.length - off >= 4 && buf[off] === 0x24) {
      // '$' interleaved frame (a TCP session): pass it on whole.
      const len = buf.readUInt16BE(off + 2);
      if (buf.length - off < 4 + len) break;
      messages.push(buf.subarray(off, off + 4 + len));
      off += 4 + len;
      continue;
    }
    const headEnd = buf.indexOf('\r\n\r\n', off, 'latin1');
    if (headEnd < 0) break;
    const head = buf.subarray(off, headEnd).toString('latin1');
    const len = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
    const end = headEnd + 4 + len;
    if (buf.length < end) break;
    messages.push(buf.subarray(off, end));
    off = end;
  }
  return { messages, rest: buf.subarray(off) };
}

function headOf(msg: Buffer): string {
  const i = msg.indexOf('\r\n\r\n', 0, 'latin1');
  return msg.subarray(0, i < 0 ? msg.length : i).toString('latin1');
}

/** Replaces the head of `msg` (the body, if any, stays byte for byte). */
function withHead(msg: Buffer, head: string): Buffer {
  const i = msg.indexOf('\r\n\r\n', 0, 'latin1');
  return Buffer.concat([Buffer.from(head, 'latin1'), msg.subarray(i)]);
}

export async function startUdpLossProxy(options: UdpLossProxyOptions): Promise<UdpLossProxy> {
  const host = options.upstreamHost ?? '127.0.0.1';
  let loss = options.loss ?? 0;
  let delayMs = options.delayMs ?? 0;
  let jitterMs = options.jitterMs ?? 0;
  const random = prng(options.seed ?? 1);
  const st: UdpLossProxyStats = {
    accepted: 0,
    udpSetups: 0,
    rtp: { received: 0, forwarded: 0, dropped: 0 },
    rtcp: { received: 0, forwarded: 0, dropped: 0 },
    reordered: 0,
    delaySumMs: 0,
    maxDelayMs: 0,
  };
  let seqIn = 0;
  let lastSentSeq = -1;
  const sockets = new Set<dgram.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const conns = new Set<net.Socket>();
  let closed = false;
  const closeSocket = (s: dgram.Socket): void => {
    if (!sockets.delete(s)) return;
    s.close();
  };

  /** Relays datagrams arriving on `sock` to the client's `clientPort`, with loss and delay. */
  const relay = (sock: dgram.Socket, clientPort: number, counts: UdpLossProxyStats['rtp']): void => {
    sock.on('message', (msg) => {
      counts.received++;
      const seq = seqIn++;
      if (loss > 0 && random() < loss) {
        counts.dropped++;
        return;
      }
      const wait = Math.max(0, delayMs + (jitterMs > 0 ? (random() * 2 - 1) * jitterMs : 0));
      const t0 = performance.now();
      const send = (): void => {
        if (closed || !sockets.has(sock)) return; // the session ended while the datagram waited
        const took = performance.now() - t0;
        st.delaySumMs += took;
        counts.forwarded++;
        st.maxDelayMs = Math.max(st.maxDelayMs, took);
        if (seq < lastSentSeq) st.reordered++;
        lastSentSeq = Math.max(lastSentSeq, seq);
        sock.send(msg, clientPort, '127.0.0.1');
      };
      if (wait <= 0) {
        send();
        return;
      }
      const timer = setTimeout(() => {
        timers.delete(timer);
        send();
      }, wait);
      timers.add(timer);
    });
    sock.on('error', () => {
      // ICMP port unreachable after the client closed its ports: nothing to do.
    });
  };

  const server = net.createServer((client) => {
    st.accepted++;
    conns.add(client);
    const upstream = net.connect({ host, port: options.upstreamPort });
    conns.add(upstream);
    const own: dgram.Socket[] = [];
    /** SETUP CSeq → the client's own `a-b` ports, to write back into the reply. */
    const pending = new Map<string, string>();
    let fromClient = Buffer.alloc(0);
    let fromServer = Buffer.alloc(0);
    let queue = Promise.resolve(); // client → server messages in order (SETUP rewriting binds sockets: async)
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      conns.delete(client);
      conns.delete(upstream);
      for (const s of own.splice(0)) closeSocket(s);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);

    client.on('data', (data: Buffer) => {
      const { messages, rest } = takeMessages(Buffer.concat([fromClient, data]));
      fromClient = rest;
      for (const msg of messages) {
        queue = queue.then(async () => {
          const head = headOf(msg);
          const m = /^SETUP /.test(head) ? /\r\ntransport:[^\r\n]*/i.exec(head) : null;
          const ports = m ? CLIENT_PORT.exec(m[0]) : null;
          if (!m || !ports || /interleaved=/i.test(m[0])) {
            upstream.write(msg);
            return;
          }
          const [rtp, rtcp] = await bindPair();
          if (closed || client.destroyed) {
            rtp.close();
            rtcp.close();
            return;
          }
          own.push(rtp, rtcp);
          sockets.add(rtp).add(rtcp);
          relay(rtp, Number(ports[1]), st.rtp);
          relay(rtcp, Number(ports[2]), st.rtcp);
          st.udpSetups++;
          const p = rtp.address().port;
          const cseq = /\r\ncseq:\s*(\S+)/i.exec(head)?.[1] ?? '';
          pending.set(cseq, `${ports[1]}-${ports[2]}`);
          const transport = m[0].replace(CLIENT_PORT, `client_port=${p}-${p + 1}`);
          upstream.write(withHead(msg, head.replace(m[0], transport)));
        }).catch((e: unknown) => {
          // No UDP port pair to bind: end this session (the client sees the connection close) rather than hang.
          console.warn(`[udp-loss-proxy] ${String(e)}`);
          drop();
        });
      }
    });

    upstream.on('data', (data: Buffer) => {
      const { messages, rest } = takeMessages(Buffer.concat([fromServer, data]));
      fromServer = rest;
      for (const msg of messages) {
        const head = headOf(msg);
        const cseq = /\r\ncseq:\s*(\S+)/i.exec(head)?.[1];
        const mine = cseq !== undefined ? pending.get(cseq) : undefined;
        if (mine === undefined || !/^RTSP\//.test(head)) {
          client.write(msg);
          continue;
        }
        pending.delete(cseq!);
        client.write(withHead(msg, head.replace(CLIENT_PORT, `client_port=${mine}`)));
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;

  return {
    port,
    url: (mount: string) => `rtsp://127.0.0.1:${port}${mount.startsWith('/') ? mount : `/${mount}`}`,
    setLoss(next: number) {
      if (!(next >= 0 && next <= 1)) throw new RangeError(`Expected loss in [0, 1] but received ${next}`);
      loss = next;
    },
    setDelay(nextDelay: number, nextJitter = 0) {
      delayMs = nextDelay;
      jitterMs = nextJitter;
    },
    stats: () => ({ ...st, rtp: { ...st.rtp }, rtcp: { ...st.rtcp } }),
    close: async () => {
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const c of conns) c.destroy();
      conns.clear();
      for (const s of [...sockets]) closeSocket(s);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
