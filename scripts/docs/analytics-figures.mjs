#!/usr/bin/env node
// Writes the figures of docs/analytics.md as SVG into docs/img/ (hand-made SVG; no dependency). Run from the repo
// root: `node scripts/docs/analytics-figures.mjs`. The trajectories drawn are the ones the tests use.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const OUT = path.join('docs', 'img');
mkdirSync(OUT, { recursive: true });

const svg = (w, h, body) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif" font-size="13">\n` +
  `<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="context-stroke"/></marker></defs>\n` +
  `<rect width="100%" height="100%" fill="white"/>\n${body}</svg>\n`;
const line = (x1, y1, x2, y2, stroke = '#222', extra = '') => `<line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="${stroke}" stroke-width="2" ${extra}/>\n`;
const text = (x, y, s, fill = '#222', anchor = 'middle') => `<text x="${x}" y="${y}" fill="${fill}" text-anchor="${anchor}">${s}</text>\n`;
const dot = (x, y, fill) => `<circle cx="${x}" cy="${y}" r="4" fill="${fill}"/>\n`;
const box = (x, y, fill = 'none', stroke = '#888') => `<rect x="${x - 12}" y="${y - 40}" width="24" height="40" fill="${fill}" stroke="${stroke}"/>\n`;

// 1. The line: direction convention, limits, in/out sides.
{
  let b = '';
  b += `<rect x="140" y="20" width="280" height="260" fill="#eef6ff"/>\n`;
  b += line(140, 20, 140, 280, '#999', 'stroke-dasharray="5,4"') + line(420, 20, 420, 280, '#999', 'stroke-dasharray="5,4"');
  b += line(140, 150, 420, 150, '#c00', 'marker-end="url(#arrow)"');
  b += text(140, 170, 'start', '#c00') + text(420, 170, 'end', '#c00');
  b += text(280, 80, '"in" side: left of start→end', '#060') + text(280, 230, '"out" side: right of start→end', '#a40');
  b += line(330, 240, 330, 120, '#060', 'marker-end="url(#arrow)"') + text(370, 125, 'crosses in', '#060');
  b += line(200, 60, 200, 200, '#a40', 'marker-end="url(#arrow)"') + text(245, 215, 'crosses out', '#a40');
  b += line(480, 240, 480, 60, '#999', 'marker-end="url(#arrow)"') + text(500, 40, 'beside: never counted', '#666');
  b += text(280, 300, 'dashed: the perpendicular limits through the ends; shaded: where crossings count (y down, as on screen)', '#444');
  writeFileSync(path.join(OUT, 'analytics-line.svg'), svg(600, 315, b));
}

// 2. Anchors: bottom-center vs four corners at the frame's bottom edge.
{
  let b = '';
  b += `<rect x="20" y="20" width="560" height="200" fill="#f4f4f4" stroke="#444"/>\n` + text(300, 240, 'frame bottom edge at y = 220; a counting line just above it', '#444');
  b += line(20, 200, 580, 200, '#c00', 'marker-end="url(#arrow)"');
  const ys = [150, 175, 205, 215];
  ys.forEach((y, i) => {
    const x = 120 + i * 110;
    const yy = Math.min(y, 220);
    b += `<rect x="${x - 18}" y="${yy - 60}" width="36" height="${Math.min(60, 220 - (yy - 60))}" fill="none" stroke="#555"/>\n`;
    b += dot(x, yy, yy > 200 ? '#a40' : '#060') + dot(x - 18, yy - 60, '#999') + dot(x + 18, yy - 60, '#999');
  });
  b += text(300, 40, 'bottom-center (coloured dot) crosses; the top corners (grey) never pass a line near the edge', '#222');
  writeFileSync(path.join(OUT, 'analytics-anchors.svg'), svg(600, 255, b));
}

// 3. minCrossingFrames: flicker vs a held crossing (side per frame).
{
  let b = '';
  const seqs = [
    ['flicker', ['out', 'in', 'out', 'in', 'out', 'in', 'out'], []],
    ['held', ['out', 'out', 'in', 'in', 'in', 'in', 'in'], [3]],
    ['stop-and-go', ['out', 'in', 'out', 'in', 'in', 'in', 'in'], [4]],
  ];
  seqs.forEach(([name, s, counts], r) => {
    const y = 40 + r * 50;
    b += text(70, y + 5, name, '#222');
    s.forEach((side, i) => {
      const x = 150 + i * 55;
      b += `<rect x="${x - 22}" y="${y - 15}" width="44" height="26" fill="${side === 'in' ? '#d8f0d8' : '#f6e0d0'}" stroke="${counts.includes(i) ? '#000' : '#bbb'}" stroke-width="${counts.includes(i) ? 3 : 1}"/>\n`;
      b += text(x, y + 4, side);
    });
  });
  b += text(300, 190, 'minCrossingFrames = 2: a count (bold) needs the new side in 2 frames in a row; flicker never counts', '#444');
  writeFileSync(path.join(OUT, 'analytics-frames.svg'), svg(600, 205, b));
}

// 4. Zone inertia: presence per frame and membership with enterFrames 3, exitFrames 4.
{
  let b = '';
  const seen = ['out', 'in', 'in', 'in', 'in', 'gone', 'gone', 'in', 'in', 'gone', 'gone', 'gone', 'gone', 'out'];
  const member = [0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0];
  seen.forEach((s, i) => {
    const x = 90 + i * 36;
    b += `<rect x="${x - 15}" y="30" width="30" height="24" fill="${s === 'in' ? '#d8f0d8' : s === 'gone' ? '#eee' : '#f6e0d0'}" stroke="#bbb"/>\n` + text(x, 47, s === 'gone' ? '–' : s);
    b += `<rect x="${x - 15}" y="70" width="30" height="24" fill="${member[i] ? '#7c7' : '#fff'}" stroke="#bbb"/>\n`;
  });
  b += text(40, 47, 'anchor', '#222') + text(40, 87, 'inside', '#222');
  b += text(90 + 3 * 36, 115, 'enter (3rd frame in; dwell counts from the 1st)', '#060') + text(90 + 12 * 36, 135, 'exit after 4 frames out or unseen', '#a40');
  b += text(300, 160, '"–": not detected (occluded): counts towards the exit only after exitFrames frames in a row', '#444');
  writeFileSync(path.join(OUT, 'analytics-zone.svg'), svg(620, 175, b));
}
console.log(`wrote ${OUT}/analytics-{line,anchors,frames,zone}.svg`);
