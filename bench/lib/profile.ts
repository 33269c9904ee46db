/**
 * Reads a V8 CPU profile (`node --cpu-prof`) of our server and says where its time went during
 * the measurement window: by component (each sample charged to the first frame, leaf upwards,
 * that names a component), by leaf function (self time), and the inclusive time of the
 * functions on our send path.
 */
import fs from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Share {
  name: string;
  /** Share of the busy (non-idle) samples in the window, 0–1. */
  share: number;
}

export interface ProfileSummary {
  /** Samples in the window, and the share of them the server was idle. */
  samples: number;
  idleShare: number;
  /** False when the window could not be matched to the profile's clock: all samples were used. */
  windowed: boolean;
  components: Share[];
  selfTop: Share[];
  sendPath: Share[];
  /** Self time of the frames behind the costs docs/benchmarks.md names (shares of non-idle samples). */
  named: {
    /** better-sqlite3's transaction wrapper: the native BEGIN and COMMIT (and checkpoints inside it). */
    beginCommit: number;
    /** Our store's code and the statements it runs (everything in store/sqlite but getUser). */
    statements: number;
    getUser: number;
  };
}

/** Where a frame's code lives, shortly: `ws/lib/sender.js`, `ours: store/sqlite.js`, `node:net`. */
function where(url: string): string {
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) return url.slice(modules + '/node_modules/'.length);
  const dist = url.indexOf('/server/dist/');
  if (dist >= 0) return `ours: ${url.slice(dist + '/server/dist/'.length).replace(/^server\/src\//, '')}`;
  return url;
}

/** The component a frame belongs to, or undefined to look further up the stack. */
function component(frame: CallFrame): string | undefined {
  const { functionName: name, url } = frame;
  if (name === '(garbage collector)') return 'garbage collection';
  if (name === '(program)') return 'V8 itself (compiler, runtime)';
  // ajv's compiled validators are generated code with no file.
  if (/^validate\d*$/.test(name)) return 'frame parsing + validation (JSON.parse, ajv)';
  if (url === '') return undefined;
  if (/node:(net|internal\/stream_base_commons|internal\/streams)/.test(url)) {
    return 'socket writes/reads (syscalls, loopback TCP)';
  }
  if (url.includes('/store/sqlite-writer-port') || url === 'node:internal/worker') {
    return 'handing batches to the SQLite writer thread (JSON, postMessage)';
  }
  if (url.includes('/node_modules/better-sqlite3/') || url.includes('/store/sqlite')) {
    return 'SQLite (statements, transaction, commit)';
  }
  if (url.includes('/ws/validate') || url.includes('/node_modules/ajv/')) {
    return 'frame parsing + validation (JSON.parse, ajv)';
  }
  if (url.includes('/node_modules/ws/lib/receiver')) return 'ws: reading frames';
  if (url.includes('/node_modules/ws/')) return 'ws: sending frames';
  const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1];
  if (url.includes('/server/dist/')) return `ours: ${where(url).replace(/^ours: /, '')}`;
  if (url.startsWith('node:')) return 'node core (events, timers, promises)';
  return undefined;
}

const SEND_PATH: Array<[string, RegExp]> = [
  ['Gateway: frame handling (receive)', /ours: ws\/gateway\.js#receive$/],
  ['parseClientFrame (JSON.parse + ajv)', /ours: ws\/validate\.js#parseClientFrame$/],
  ['ChatService.send', /ours: chat\/service\.js#send$/],
  ['ChatService.destination (getUser per send)', /ours: chat\/service\.js#destination$/],
  ['SqliteStore.getUser', /ours: store\/sqlite\.js#getUser$/],
  ['SqliteStore.appendMessage', /ours: store\/sqlite\.js#appendMessage$/],
  [
    'SQLite transactions (BEGIN, the statements, COMMIT)',
    /better-sqlite3\/lib\/methods\/transaction\.js#sqliteTransaction$/,
  ],
  ['Hub.deliver (JSON.stringify + send)', /ours: ws\/hub\.js#deliver$/],
  ['Connection.send/sendText (ack + message)', /ours: ws\/gateway\.js#(send|sendText)$/],
  ['ws WebSocket.send', /ws\/lib\/websocket\.js#send$/],
  ['socket writev (syscall)', /#writev$/],
  ['pino (logging)', /pino\//],
  ['prom-client (metrics)', /prom-client\//],
  ['fastify', /fastify\//],
];

export function analyzeProfile(file: string, fromMicros?: number, toMicros?: number): ProfileSummary {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  let time = profile.startTime;
  const stamps = profile.timeDeltas.map((delta) => (time += delta));
  const inWindow = (i: number) =>
    fromMicros !== undefined && toMicros !== undefined && stamps[i] >= fromMicros && stamps[i] < toMicros;
  const windowed = profile.samples.some((_, i) => inWindow(i));
  const picked = profile.samples.filter((_, i) => !windowed || inWindow(i));

  const key = (frame: CallFrame) => `${where(frame.url)}#${frame.functionName || '(anonymous)'}`;
  const components = new Map<string, number>();
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let idle = 0;
  let busy = 0;
  const named = { beginCommit: 0, statements: 0, getUser: 0 };
  for (const leafId of picked) {
    const leaf = byId.get(leafId) as ProfileNode;
    if (leaf.callFrame.functionName === '(idle)') {
      idle++;
      continue;
    }
    busy++;
    // Self time: a native frame (no url) is named with the JavaScript frame that called it.
    let label = key(leaf.callFrame);
    if (/^validate\d*$/.test(leaf.callFrame.functionName)) {
      label = `ajv generated validator (${leaf.callFrame.functionName})`;
    } else if (leaf.callFrame.url === '' && !leaf.callFrame.functionName.startsWith('(')) {
      const caller = parent.has(leafId) ? byId.get(parent.get(leafId) as number) : undefined;
      label = `${leaf.callFrame.functionName} (native) ← ${caller ? key(caller.callFrame) : '?'}`;
    }
    self.set(label, (self.get(label) ?? 0) + 1);
    // Statements run natively inside our store's functions, so their time is those frames' self time.
    const leafUrl = leaf.callFrame.url;
    if (leafUrl.includes('/better-sqlite3/lib/methods/transaction')) named.beginCommit++;
    else if (leafUrl.includes('/store/sqlite')) {
      if (leaf.callFrame.functionName === 'getUser') named.getUser++;
      else named.statements++;
    }

    let owner: string | undefined;
    const seen = new Set<string>();
    for (let id: number | undefined = leafId; id !== undefined; id = parent.get(id)) {
      const frame = (byId.get(id) as ProfileNode).callFrame;
      owner ??= component(frame);
      const k = key(frame);
      if (!seen.has(k)) {
        seen.add(k);
        inclusive.set(k, (inclusive.get(k) ?? 0) + 1);
      }
    }
    owner ??= 'other';
    components.set(owner, (components.get(owner) ?? 0) + 1);
  }

  const shares = (counts: Map<string, number>, limit: number): Share[] =>
    [...counts]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([name, count]) => ({ name, share: busy ? count / busy : 0 }));

  const sendPath = SEND_PATH.map(([name, pattern]) => {
    let count = 0;
    for (const [k, c] of inclusive) if (pattern.test(k)) count = Math.max(count, c);
    return { name, share: busy ? count / busy : 0 };
  });

  return {
    samples: picked.length,
    idleShare: picked.length ? idle / picked.length : 0,
    windowed,
    components: shares(components, 12),
    selfTop: shares(self, 15),
    sendPath,
    named: {
      beginCommit: busy ? named.beginCommit / busy : 0,
      statements: busy ? named.statements / busy : 0,
      getUser: busy ? named.getUser / busy : 0,
    },
  };
}
