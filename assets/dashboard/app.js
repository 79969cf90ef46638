// camtrack serve's dashboard (docs/serve.md, "Dashboard"): plain JS, no build step, same origin. The token is the
// camtrack_token cookie (set by GET /?token=… or the login form); every call here sends it by itself.
//   GET /api/v1/cameras every second      tiles appear and leave, state, fps, latency, drops
//   WebSocket /api/v1/results             results: the boxes and track ids, analytics counters; states
//   GET /api/v1/cameras/{id}/snapshot.jpg each tile's picture, a few per second (X-Camtrack-Frame-Index says which
//                                         frame, so the boxes drawn over it are that frame's when its result is here)
// Snapshots rather than stream.mjpeg: a browser keeps at most 6 HTTP/1.1 connections per server, so one long-lived
// MJPEG response per camera would starve every other request beyond 5 cameras.
'use strict';
(() => {
  const SNAPSHOT_FPS = 3;
  const REFRESH_MS = 1000;
  const RESULTS_KEPT = 120; // per tile, to match a snapshot's frame with its result
  const tiles = new Map(); // camera id → tile
  const main = document.getElementById('tiles');
  const template = document.getElementById('tile');
  const conn = document.getElementById('conn');
  const summary = document.getElementById('summary');
  let unauthorized = false;
  let ws;

  const cameraPath = (id) => `/api/v1/cameras/${encodeURIComponent(id)}`;

  function showLogin(message) {
    unauthorized = true;
    document.getElementById('login').hidden = false;
    if (message) document.getElementById('login-message').textContent = message;
    conn.textContent = 'signed out';
    conn.className = 'conn bad';
  }

  async function api(path) {
    const res = await fetch(path, { credentials: 'same-origin', headers: { accept: 'application/json' } });
    if (res.status === 401) {
      showLogin();
      throw new Error('unauthorized');
    }
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
    return res.json();
  }

  function addTile(cam) {
    const el = template.content.firstElementChild.cloneNode(true);
    el.dataset.camera = cam.id;
    el.dataset.boxes = '0';
    el.querySelector('.name').textContent = cam.id;
    el.querySelector('.name').title = cam.url || cam.id;
    const canvas = el.querySelector('canvas');
    const tile = { id: cam.id, el, canvas, ctx: canvas.getContext('2d'), results: new Map(), latest: null, bitmap: null, frame: -1, gone: false, timer: 0 };
    tiles.set(cam.id, tile);
    main.appendChild(el);
    loadSnapshot(tile);
    return tile;
  }

  function removeTile(tile) {
    tile.gone = true;
    clearTimeout(tile.timer);
    if (tile.bitmap) tile.bitmap.close();
    tile.el.remove();
    tiles.delete(tile.id);
  }

  async function loadSnapshot(tile) {
    if (tile.gone) return;
    let wait = 1000 / SNAPSHOT_FPS;
    const started = performance.now();
    try {
      const res = await fetch(`${cameraPath(tile.id)}/snapshot.jpg`, { credentials: 'same-origin', cache: 'no-store' });
      if (res.ok) {
        const frame = Number(res.headers.get('x-camtrack-frame-index'));
        const bitmap = await createImageBitmap(await res.blob());
        if (tile.gone) return bitmap.close();
        if (tile.bitmap) tile.bitmap.close();
        tile.bitmap = bitmap;
        tile.frame = frame;
        draw(tile);
      } else if (res.status === 429) {
        wait = Math.max(wait, Number(res.headers.get('retry-after') || 1) * 1000);
      } else if (res.status === 401) {
        return showLogin();
      } else {
        wait = 2000; // no frame now (reconnecting: 503), or the camera went away (404: the next refresh removes it)
      }
    } catch {
      wait = 2000;
    }
    if (!tile.gone) tile.timer = setTimeout(() => loadSnapshot(tile), Math.max(0, wait - (performance.now() - started)));
  }

  function colorFor(id) {
    return `hsl(${(id * 67) % 360} 90% 55%)`;
  }

  /** The picture, then the boxes of its frame's result (or the newest result while that one is not here). */
  function draw(tile) {
    const { canvas, ctx } = tile;
    const r = tile.results.get(tile.frame) || tile.latest;
    const w = tile.bitmap ? tile.bitmap.width : r ? r.width : 0;
    const h = tile.bitmap ? tile.bitmap.height : r ? r.height : 0;
    if (!w || !h) return;
    if (canvas.width !== w || canvas.height !== h) {
      canvas.width = w;
      canvas.height = h;
    }
    if (tile.bitmap) ctx.drawImage(tile.bitmap, 0, 0);
    else ctx.clearRect(0, 0, w, h);
    let n = 0;
    if (r) {
      const sx = w / (r.width || w);
      const sy = h / (r.height || h);
      const line = Math.max(2, Math.round(w / 400));
      const font = Math.max(12, Math.round(h / 36));
      ctx.lineWidth = line;
      ctx.font = `${font}px system-ui, sans-serif`;
      ctx.textBaseline = 'bottom';
      const boxes = r.tracks.length > 0 ? r.tracks : r.detections;
      for (const b of boxes) {
        const x = b.bbox.x1 * sx;
        const y = b.bbox.y1 * sy;
        const bw = (b.bbox.x2 - b.bbox.x1) * sx;
        const bh = (b.bbox.y2 - b.bbox.y1) * sy;
        const color = b.track_id !== undefined ? colorFor(b.track_id) : '#fff';
        ctx.strokeStyle = color;
        ctx.strokeRect(x, y, bw, bh);
        const label = b.track_id !== undefined ? `#${b.track_id} ${b.label || ''}` : b.label || '';
        if (label) {
          const tw = ctx.measureText(label).width + 6;
          ctx.fillStyle = color;
          ctx.fillRect(x, Math.max(0, y - font - 2), tw, font + 2);
          ctx.fillStyle = '#000';
          ctx.fillText(label, x + 3, Math.max(font + 2, y));
        }
        n++;
      }
    }
    tile.el.dataset.boxes = String(n);
    tile.el.dataset.frame = String(r ? r.frame_id : -1);
  }

  function setState(tile, state) {
    const el = tile.el.querySelector('.state');
    if (el.textContent === state) return;
    el.textContent = state;
    el.className = `state ${state}`;
    tile.el.dataset.state = state;
  }

  function showStats(tile, cam) {
    setState(tile, cam.state);
    const s = cam.stats;
    if (!s) return;
    // Frames lost: every cause but fps_limit, which is the camera's own setting (shown in the tooltip with the rest).
    const dropped = Object.entries(s.dropped).reduce((a, [k, v]) => (k === 'fps_limit' ? a : a + v), 0);
    tile.el.querySelector('.fps').textContent = s.fps.toFixed(1);
    tile.el.querySelector('.latency').textContent = s.last_frame_age_ms >= 0 ? `${Math.round(s.last_frame_age_ms)} ms` : '–';
    tile.el.querySelector('.drops').textContent = String(dropped);
    tile.el.querySelector('.drops').title = Object.entries(s.dropped).map(([k, v]) => `${k}: ${v}`).join('\n');
  }

  function showAnalytics(tile, a) {
    const table = tile.el.querySelector('.analytics');
    const rows = [];
    for (const [id, l] of Object.entries(a.lines || {})) rows.push([`line ${id}`, `in ${l.in}`, `out ${l.out}`]);
    for (const [id, z] of Object.entries(a.zones || {})) rows.push([`zone ${id}`, `${z.occupancy} inside`, '']);
    if (rows.length === 0) return;
    const body = table.tBodies[0];
    while (body.rows.length > rows.length) body.deleteRow(-1);
    rows.forEach((cells, i) => {
      const row = body.rows[i] || body.insertRow();
      cells.forEach((text, j) => {
        const cell = row.cells[j] || row.insertCell();
        if (cell.textContent !== text) cell.textContent = text;
      });
    });
    table.hidden = false;
  }

  function onResult(m) {
    const tile = tiles.get(m.camera_id);
    if (!tile) return;
    tile.latest = m;
    tile.results.set(m.frame_id, m);
    if (tile.results.size > RESULTS_KEPT) tile.results.delete(tile.results.keys().next().value);
    tile.el.querySelector('.tracks').textContent = String(m.tracks.length);
    if (m.analytics) showAnalytics(tile, m.analytics);
    // The picture shown is this frame, or none came yet: draw its boxes now.
    if (m.frame_id === tile.frame || !tile.bitmap) draw(tile);
  }

  function connectResults() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    ws = new WebSocket(`${proto}//${location.host}/api/v1/results`);
    ws.onopen = () => {
      conn.textContent = 'live';
      conn.className = 'conn ok';
    };
    ws.onmessage = (e) => {
      let m;
      try {
        m = JSON.parse(e.data);
      } catch {
        return;
      }
      if (m.type === 'result') onResult(m);
      else if (m.type === 'state' && tiles.has(m.camera_id)) setState(tiles.get(m.camera_id), m.state);
    };
    ws.onclose = () => {
      if (unauthorized) return;
      conn.textContent = 'reconnecting…';
      conn.className = 'conn bad';
      setTimeout(connectResults, 1000);
    };
  }

  async function refresh() {
    try {
      const { cameras } = await api('/api/v1/cameras');
      const seen = new Set();
      for (const cam of cameras) {
        seen.add(cam.id);
        showStats(tiles.get(cam.id) || addTile(cam), cam);
      }
      for (const tile of [...tiles.values()]) if (!seen.has(tile.id)) removeTile(tile);
      const live = cameras.filter((c) => c.state === 'live').length;
      summary.textContent = `${cameras.length} camera${cameras.length === 1 ? '' : 's'}, ${live} live`;
      main.dataset.cameras = String(cameras.length);
    } catch {
      // unauthorized (the login shows) or the server is away: try again
    }
    if (!unauthorized) setTimeout(refresh, REFRESH_MS);
  }

  if (location.hash === '#denied') showLogin('That token was not accepted.');
  else {
    refresh().then(() => {
      if (!unauthorized) connectResults();
    });
  }
})();
