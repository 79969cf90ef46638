/** `GET /stream/stats`: every session's stats and their totals (docs/sessions.md). */
import type { WireSessionDrops, WireSessionStats } from '../../wire/session.js';
import type { SessionTable } from './table.js';

export interface SessionsSummary {
  sessions: number;
  max_sessions: number;
  expired: number;
  totals: {
    frames_received: number;
    frames_pushed: number;
    results_produced: number;
    results_sent: number;
    errors_sent: number;
    dropped: WireSessionDrops;
  };
  clients: WireSessionStats[];
}

export function sessionsSummary(table: SessionTable): SessionsSummary {
  const clients: WireSessionStats[] = [];
  for (const s of table.list()) {
    try {
      clients.push(s.stats());
    } catch {
      // removed in the meantime (its stream is gone)
    }
  }
  const dropped: WireSessionDrops = { invalid: 0, rate: 0, queue: 0, decode: 0, busy: 0, inference: 0, consumer: 0, outbox: 0 };
  const totals = { frames_received: 0, frames_pushed: 0, results_produced: 0, results_sent: 0, errors_sent: 0, dropped };
  for (const c of clients) {
    totals.frames_received += c.frames_received;
    totals.frames_pushed += c.frames_pushed;
    totals.results_produced += c.results_produced;
    totals.results_sent += c.results_sent;
    totals.errors_sent += c.errors_sent;
    for (const k of Object.keys(dropped) as (keyof WireSessionDrops)[]) dropped[k] += c.dropped[k];
  }
  return { sessions: clients.length, max_sessions: table.limits.maxSessions, expired: table.expired, totals, clients };
}
